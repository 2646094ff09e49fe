// Returns every record unchanged (Ok), from an ES module (loaded with import()).
export const handler = async (event) => ({
  records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })),
})
