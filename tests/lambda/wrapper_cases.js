// Handlers for tests/integration/lambda_wrappers.test.mjs, one per behaviour of ferry-lambda-node (CommonJS).
const { execSync } = require('node:child_process')

console.log('wrapper_cases.js: loaded') // at require time, before any request: must reach stderr too
let invocations = 0
const passed = (event) => ({ records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data })) })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

exports.contextFields = async (event, context) => {
  const answer = passed(event)
  answer.context = {
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    remainingMs: context.getRemainingTimeInMillis(),
  }
  await sleep(200)
  answer.context.remainingMsLater = context.getRemainingTimeInMillis()
  return answer
}

exports.counter = async (event) => ({ ...passed(event), invocations: ++invocations })

// Writes to stdout every way a Node handler can; none of it may reach the protocol.
exports.noisy = async (event) => {
  console.log('console.log')
  console.info('console.info')
  console.debug('console.debug')
  console.warn('console.warn')
  console.error('console.error')
  console.dir({ via: 'console.dir' })
  console.table([{ via: 'console.table' }])
  process.stdout.write('process.stdout.write without a newline')
  const fromShell = execSync('echo from execSync').toString().trim()
  const decoded = new Buffer(event.records[0].data, 'base64').toString() // DEP0005 on stderr
  return { ...passed(event), fromShell, decoded }
}

// Callback style, answering after a timer: later requests must wait for it.
exports.callbackLater = (event, context, callback) => {
  setTimeout(() => callback(null, { ...passed(event), n: ++invocations }), 30)
}

exports.throws = () => {
  throw new TypeError('record 7 is not what I expected')
}
exports.rejects = async () => {
  await sleep(1)
  throw new RangeError('rejected after a while')
}
exports.callbackError = (event, context, callback) => callback(new Error('called back with an error'))
exports.callbackText = (event, context, callback) => callback('just a text')
exports.legacySucceed = (event, context) => {
  setTimeout(() => context.succeed(passed(event)), 10)
}
exports.legacyFail = (event, context) => {
  setTimeout(() => context.fail(new Error('context.fail')), 10)
}
exports.legacyDone = (event, context) => context.done(null, passed(event))
exports.marshalError = async () => ({ records: [], big: 10n })
exports.circular = async () => {
  const answer = { records: [] }
  answer.self = answer
  return answer
}
exports.notCallable = 42
exports.nested = { handler: async (event) => passed(event) }
