// The Node transformation of AWS's post on filtering AWS WAF logs with Firehose, written out for the tests:
// callback style; each record (a WAF log entry) is decoded with the deprecated `new Buffer(data, 'base64')`;
// entries the default action terminated ("Default_Action") are Dropped, the rest go on unchanged (Ok). It
// logs one line per batch with console.log. Neither that line nor Node's DEP0005 warning may reach the
// protocol.
exports.handler = (event, context, callback) => {
  let dropped = 0
  const output = event.records.map((record) => {
    const entry = new Buffer(record.data, 'base64').toString('utf8')
    if (entry.includes('Default_Action')) {
      dropped++
      return { recordId: record.recordId, result: 'Dropped', data: record.data }
    }
    return { recordId: record.recordId, result: 'Ok', data: record.data }
  })
  console.log(`Processing completed. Dropped ${dropped} of ${event.records.length} records.`)
  callback(null, { records: output })
}
