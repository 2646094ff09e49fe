// Returns every record unchanged (Ok), as an async handler: the benchmark's Node handler.
exports.handler = async (event) => ({
  records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })),
})
