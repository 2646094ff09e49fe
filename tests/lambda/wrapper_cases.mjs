// An ES module handler for tests/integration/lambda_wrappers.test.mjs: import(), top-level await, and
// console output at load time.
const ready = await Promise.resolve('ready')
console.log(`wrapper_cases.mjs: ${ready}`)

export const handler = async (event, context) => ({
  records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })),
  module: 'esm',
  awsRequestId: context.awsRequestId,
})
