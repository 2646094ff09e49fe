// A handler file that does not compile: the wrapper must refuse it at start (exit 2, one line on stderr).
exports.handler = async (event) => {
  return event.records.map((r) => r.recordId
}
