// A neighbour module of handler.js, imported by a relative path.
export const passed = (event) => ({
  records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })),
})
