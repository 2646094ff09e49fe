// Returns every record unchanged (Ok), callback style: the benchmark's other Node handler.
exports.handler = (event, context, callback) => {
  callback(null, { records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })) })
}
