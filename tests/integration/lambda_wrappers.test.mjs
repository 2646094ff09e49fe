// lambda_wrappers.test.mjs — ferry-lambda-python and ferry-lambda-node driven directly, as ferry drives them.
//
// Role: each test spawns a wrapper with a handler from tests/lambda/ (stdin and stdout pipes, stderr
// collected), writes Firehose event lines and reads the answer lines, the protocol of the lambda plugin
// (plugins/lambda/wrappers/README.md). Checked: the context fields, answers in order, module state kept
// between invocations, stdout carrying the protocol only (a handler that prints, writes to fd 1, runs
// os.system / a C printf / process.stdout.write still yields clean JSON lines, its output on stderr), Lambda's
// error shape for a throwing handler, a rejected promise, a callback error, Runtime.MarshalError, load
// failures (exit 2 and one clear stderr line), EOF (exit 0 after the answer under way), CommonJS and ESM,
// the legacy context.succeed/fail/done, and Node's deprecation warning on stderr.
//
// The wrappers come from the build folder (next to $FERRY_BIN, where the build copies them), or from the
// source tree when FERRY_BIN is not set. Quick: a few seconds.
import { test, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const HANDLERS = path.join(HERE, '..', 'lambda')
const STREAM_ARN = 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/edge-logs'

function wrapperPath(name) {
  if (process.env.FERRY_BIN) {
    const built = path.join(path.dirname(process.env.FERRY_BIN), name)
    fs.accessSync(built, fs.constants.X_OK) // the build copies the wrappers next to ferry
    return built
  }
  return path.join(HERE, '..', '..', 'plugins', 'lambda', 'wrappers', name)
}
const PYTHON = wrapperPath('ferry-lambda-python')
const NODE = wrapperPath('ferry-lambda-node')
// python3 may be a shim that takes a second to start (pyenv): the tests run the wrapper with the interpreter
// it resolves to, and through its #! line in the load-failure test only.
const PYTHON_EXE = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim()
const argvOf = (wrapper, args) => (wrapper === PYTHON ? [PYTHON_EXE, [wrapper, ...args]] : [wrapper, args])

let nextId = 0
// A Firehose event with one record per text, as ferry writes it.
function event(texts, { invocationId = `inv-${++nextId}` } = {}) {
  return {
    invocationId,
    deliveryStreamArn: STREAM_ARN,
    region: 'eu-west-1',
    records: texts.map((text, i) => ({
      recordId: `${invocationId}-r${i}`,
      approximateArrivalTimestamp: 1764921600000 + i,
      data: Buffer.from(text).toString('base64'),
    })),
  }
}

// Every wrapper a test started; one still running when its test ends (a failed assertion) is killed, so
// that the runner can exit.
const running = new Set()
const killRunning = () => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}
afterEach(killRunning)
after(killRunning) // also after a test that timed out, which afterEach may not see

// Spawns a wrapper. w.ask(event) writes one line and resolves with the next answer line, parsed;
// w.end() closes stdin and resolves with { code, signal, stdout, stderr } once the process has exited.
// Every stdout line must be JSON: w.lines holds them all.
function startWrapper(wrapper, spec, env = {}) {
  const [file, args] = argvOf(wrapper, [spec])
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'edge-transform', FERRY_LAMBDA_TIMEOUT_MS: '5000', ...env },
  })
  running.add(child)
  child.on('close', () => running.delete(child))
  const w = { child, lines: [], stdout: '', stderr: '' }
  const waiting = []
  let partial = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (s) => {
    w.stdout += s
    partial += s
    for (let nl = partial.indexOf('\n'); nl !== -1; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl)
      partial = partial.slice(nl + 1)
      w.lines.push(line)
      const next = waiting.shift()
      if (next) next.resolve(line)
    }
  })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s) => (w.stderr += s))
  w.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  w.exited.then(() => {
    for (const next of waiting.splice(0)) next.reject(new Error(`the wrapper exited before answering\n${w.stderr}`))
  })
  w.send = (ev) => child.stdin.write(JSON.stringify(ev) + '\n')
  w.next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  w.ask = async (ev) => {
    const answer = w.next()
    w.send(ev)
    const line = await answer
    try {
      return JSON.parse(line)
    } catch {
      assert.fail(`not a JSON answer: ${JSON.stringify(line)}\n--- stderr ---\n${w.stderr}`)
    }
  }
  w.end = async () => {
    child.stdin.end()
    const { code, signal } = await w.exited
    return { code, signal, stdout: w.stdout, stderr: w.stderr }
  }
  return w
}

// Runs a wrapper that must refuse to start: exit status 2, one line of its own on stderr (last, after what
// the module printed while it loaded), nothing on stdout.
async function refusal(wrapper, args, { direct = false } = {}) {
  const child = direct ? spawn(wrapper, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(...argvOf(wrapper, args), { stdio: ['pipe', 'pipe', 'pipe'] })
  running.add(child)
  child.on('close', () => running.delete(child))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (s) => (stdout += s))
  child.stderr.on('data', (s) => (stderr += s))
  const [code] = await new Promise((resolve) => child.on('close', (...a) => resolve(a)))
  assert.equal(stdout, '')
  const lines = stderr.trimEnd().split('\n')
  const own = lines.filter((l) => l.startsWith(path.basename(wrapper) + ':'))
  assert.equal(own.length, 1, `one line of the wrapper's on stderr, got:\n${stderr}`)
  assert.equal(own[0], lines[lines.length - 1], `the wrapper's line comes last:\n${stderr}`)
  return { code, line: own[0] }
}

const passedRecords = (ev) => ev.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: r.data }))

test('python: the context of every invocation, the module kept warm, answers in order', { timeout: 30000 }, async () => {
  const w = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:context_fields`)
  const ev = event(['{"a":1}', 'two'])
  const answer = await w.ask(ev)
  assert.deepEqual(answer.records, passedRecords(ev))
  const c = answer.context
  assert.equal(c.function_name, 'edge-transform')
  assert.equal(c.function_version, '$LATEST')
  assert.equal(c.invoked_function_arn, 'arn:aws:lambda:eu-west-1:111122223333:function:edge-transform')
  assert.equal(c.memory_limit_in_mb, null) // ferry does not know it
  assert.equal(c.aws_request_id, ev.invocationId)
  assert.equal(c.log_group_name, '/aws/lambda/edge-transform')
  assert.match(c.log_stream_name, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
  assert.ok(c.remaining_ms <= 5000 && c.remaining_ms > 4000, `remaining ${c.remaining_ms} ms of 5000`)
  assert.ok(c.remaining_ms - c.remaining_ms_later >= 190, `${c.remaining_ms} then ${c.remaining_ms_later}`)
  assert.equal((await w.end()).code, 0)

  // Several requests written at once: one answer each, in order; module state persists.
  const counter = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:counter`)
  const events = Array.from({ length: 20 }, (_, i) => event([`line ${i}`]))
  const answers = events.map(() => counter.next())
  for (const ev of events) counter.send(ev)
  const got = (await Promise.all(answers)).map((l) => JSON.parse(l))
  got.forEach((a, i) => {
    assert.deepEqual(a.records, passedRecords(events[i]))
    assert.equal(a.invocations, i + 1)
  })
  const ended = await counter.end()
  assert.equal(ended.code, 0)
  assert.match(ended.stderr, /wrapper_cases\.py: loaded/)
})

test('python: nothing a handler prints, a subprocess writes or C code printf()s reaches the protocol', { timeout: 30000 }, async () => {
  const w = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:noisy`)
  for (let i = 0; i < 3; i++) {
    const ev = event([`noisy ${i}`])
    assert.deepEqual((await w.ask(ev)).records, passedRecords(ev))
  }
  const { code, stdout, stderr } = await w.end()
  assert.equal(code, 0)
  assert.equal(stdout.split('\n').filter(Boolean).length, 3, `stdout: ${stdout}`)
  for (const text of ['print to stdout', 'sys.stdout.write without a newline', 'os.write to fd 1', 'from os.system',
    'from subprocess', 'printf from C', '[WARNING]\tinv-']) {
    assert.ok(stderr.includes(text), `"${text}" is not on stderr:\n${stderr}`)
  }
})

test('python: a raised exception, an answer JSON cannot carry, sys.exit, a bad request line', { timeout: 30000 }, async () => {
  const raises = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:raises`)
  const a = await raises.ask(event(['x']))
  assert.equal(a.errorType, 'ValueError')
  assert.equal(a.errorMessage, 'record 7 is not what I expected')
  assert.ok(Array.isArray(a.stackTrace) && a.stackTrace.length === 1, JSON.stringify(a.stackTrace))
  assert.match(a.stackTrace[0], /wrapper_cases\.py", line \d+, in raises/)
  assert.deepEqual(Object.keys(a).sort(), ['errorMessage', 'errorType', 'stackTrace'])
  // The process goes on after a failed invocation.
  assert.equal((await raises.ask(event(['y']))).errorType, 'ValueError')
  const r = await raises.end()
  assert.equal(r.code, 0)
  assert.match(r.stderr, /\[ERROR\] ValueError: record 7 is not what I expected/)

  for (const fn of ['marshal_error', 'not_a_number']) {
    const w = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:${fn}`)
    const m = await w.ask(event(['x']))
    assert.equal(m.errorType, 'Runtime.MarshalError', JSON.stringify(m))
    assert.match(m.errorMessage, /^Unable to marshal response: /)
    assert.equal((await w.end()).code, 0)
  }

  const exits = startWrapper(PYTHON, `${HANDLERS}/wrapper_cases.py:exits`)
  exits.send(event(['x']))
  assert.equal((await exits.exited).code, 3)
  assert.equal(exits.stdout, '')

  // logging as Lambda sets it up: a handler module's basicConfig() finds the root logger configured, and
  // logger.info() shows once, in Lambda's format.
  const logs = startWrapper(PYTHON, `${HANDLERS}/logging_setup.py:lambda_handler`)
  const logged = event(['x', 'y'])
  assert.deepEqual((await logs.ask(logged)).records, passedRecords(logged))
  const logEnd = await logs.end()
  assert.equal(logEnd.code, 0)
  assert.deepEqual(logEnd.stderr.split('\n').filter((l) => l.includes('transforming')),
    [`[INFO]\t${logged.invocationId}\ttransforming 2 records`], logEnd.stderr)

  const bad = startWrapper(PYTHON, `${HANDLERS}/passthrough.py:lambda_handler`)
  bad.child.stdin.write('this is not json\n')
  assert.equal(JSON.parse(await bad.next()).errorType, 'Runtime.UnmarshalError')
  assert.equal((await bad.end()).code, 0)
})

test('python: load failures exit 2 with one clear line; EOF exits 0', { timeout: 30000 }, async () => {
  const cases = [
    [[`${HANDLERS}/no_such_file.py:lambda_handler`], /^ferry-lambda-python: cannot load .*no_such_file\.py:lambda_handler: no such file$/],
    [[`${HANDLERS}/syntax_error.py:lambda_handler`], /^ferry-lambda-python: cannot load .*syntax_error\.py:lambda_handler: SyntaxError: .*line 2/],
    [[`${HANDLERS}/passthrough.py:no_such_function`], /^ferry-lambda-python: cannot load .*: module 'passthrough' has no attribute 'no_such_function'$/],
    [[`${HANDLERS}/wrapper_cases.py:not_callable`], /^ferry-lambda-python: cannot load .*: 'not_callable' is not a function \(int\)$/],
    [[`${HANDLERS}/passthrough.py`], /^ferry-lambda-python: usage: ferry-lambda-python MODULE_FILE:FUNCTION/],
    [[], /^ferry-lambda-python: usage: ferry-lambda-python MODULE_FILE:FUNCTION$/],
  ]
  for (const [i, [args, pattern]] of cases.entries()) {
    // The last one through the wrapper's own #! line: the build copied an executable script.
    const { code, line } = await refusal(PYTHON, args, { direct: i === cases.length - 1 })
    assert.equal(code, 2, line)
    assert.match(line, pattern)
  }
  const idle = startWrapper(PYTHON, `${HANDLERS}/passthrough.py:lambda_handler`)
  assert.deepEqual(await idle.end(), { code: 0, signal: null, stdout: '', stderr: '' })
})

test('node: the context of every invocation, the module kept warm, answers in order', { timeout: 30000 }, async () => {
  const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:contextFields`)
  const ev = event(['{"a":1}', 'two'])
  const answer = await w.ask(ev)
  assert.deepEqual(answer.records, passedRecords(ev))
  const c = answer.context
  assert.equal(c.functionName, 'edge-transform')
  assert.equal(c.functionVersion, '$LATEST')
  assert.equal(c.invokedFunctionArn, 'arn:aws:lambda:eu-west-1:111122223333:function:edge-transform')
  assert.equal(c.memoryLimitInMB, undefined)
  assert.equal(c.awsRequestId, ev.invocationId)
  assert.equal(c.logGroupName, '/aws/lambda/edge-transform')
  assert.match(c.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
  assert.equal(c.callbackWaitsForEmptyEventLoop, true)
  assert.ok(c.remainingMs <= 5000 && c.remainingMs > 4000, `remaining ${c.remainingMs} ms of 5000`)
  assert.ok(c.remainingMs - c.remainingMsLater >= 190, `${c.remainingMs} then ${c.remainingMsLater}`)
  assert.equal((await w.end()).code, 0)

  for (const fn of ['counter', 'callbackLater']) {
    const counter = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:${fn}`)
    const events = Array.from({ length: 10 }, (_, i) => event([`line ${i}`]))
    const answers = events.map(() => counter.next())
    // All at once, in one write: lines split across and within chunks.
    counter.child.stdin.write(events.map((e) => JSON.stringify(e) + '\n').join(''))
    const got = (await Promise.all(answers)).map((l) => JSON.parse(l))
    got.forEach((a, i) => {
      assert.deepEqual(a.records, passedRecords(events[i]), fn)
      assert.equal(a.invocations ?? a.n, i + 1, fn)
    })
    const ended = await counter.end()
    assert.equal(ended.code, 0)
    assert.match(ended.stderr, /wrapper_cases\.js: loaded/)
  }
})

test('node: a request line written in pieces, a large one, and EOF with an answer under way', { timeout: 30000 }, async () => {
  const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:callbackLater`)
  const ev = event(['a'.repeat(3 * 1024 * 1024), 'b'])
  const text = JSON.stringify(ev) + '\n'
  const answer = w.next()
  for (let i = 0; i < text.length; i += 100000) w.child.stdin.write(text.slice(i, i + 100000))
  // stdin ends while the handler's timer runs: the answer must still come, then exit 0.
  const ended = await w.end()
  assert.deepEqual(JSON.parse(await answer).records, passedRecords(ev))
  assert.equal(ended.code, 0)
  assert.equal(w.lines.length, 1)
})

test('node: console, process.stdout and the deprecation warning go to stderr, never into the protocol', { timeout: 30000 }, async () => {
  const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:noisy`)
  for (let i = 0; i < 3; i++) {
    const ev = event([`noisy ${i}`])
    const a = await w.ask(ev)
    assert.deepEqual(a.records, passedRecords(ev))
    assert.equal(a.fromShell, 'from execSync')
    assert.equal(a.decoded, `noisy ${i}`)
  }
  const { code, stdout, stderr } = await w.end()
  assert.equal(code, 0)
  assert.equal(stdout.split('\n').filter(Boolean).length, 3, `stdout: ${stdout}`)
  for (const text of ['console.log', 'console.info', 'console.debug', 'console.warn', 'console.error', 'console.dir',
    'console.table', 'process.stdout.write without a newline', '[DEP0005] DeprecationWarning: Buffer() is deprecated']) {
    assert.ok(stderr.includes(text), `"${text}" is not on stderr:\n${stderr}`)
  }
})

test('node: a thrown error, a rejected promise, callback errors, context.fail, answers JSON cannot carry', { timeout: 30000 }, async () => {
  const expect = {
    throws: ['TypeError', 'record 7 is not what I expected'],
    rejects: ['RangeError', 'rejected after a while'],
    callbackError: ['Error', 'called back with an error'],
    callbackText: ['string', 'just a text'],
    legacyFail: ['Error', 'context.fail'],
  }
  // Side by side: each case is its own process.
  const errors = Object.entries(expect).map(async ([fn, [type, message]]) => {
    const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:${fn}`)
    for (let i = 0; i < 2; i++) {
      const a = await w.ask(event(['x']))
      assert.deepEqual(Object.keys(a).sort(), ['errorMessage', 'errorType', 'stackTrace'], fn)
      assert.equal(a.errorType, type, fn)
      assert.equal(a.errorMessage, message, fn)
      if (type !== 'string') assert.match(a.stackTrace.join('\n'), /wrapper_cases\.js:\d+/, fn)
    }
    assert.equal((await w.end()).code, 0, fn)
  })
  const marshal = ['marshalError', 'circular'].map(async (fn) => {
    const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:${fn}`)
    const a = await w.ask(event(['x']))
    assert.equal(a.errorType, 'Runtime.MarshalError', fn)
    assert.equal((await w.end()).code, 0)
  })
  const legacy = ['legacySucceed', 'legacyDone', 'nested.handler'].map(async (fn) => {
    const w = startWrapper(NODE, `${HANDLERS}/wrapper_cases.js:${fn}`)
    const ev = event(['x', 'y'])
    assert.deepEqual((await w.ask(ev)).records, passedRecords(ev), fn)
    assert.equal((await w.end()).code, 0)
  })
  await Promise.all([...errors, ...marshal, ...legacy])
})

test('node: ES modules and CommonJS handlers; load failures exit 2 with one clear line', { timeout: 30000 }, async () => {
  const specs = ['passthrough.mjs:handler', 'wrapper_cases.mjs:handler', 'esm_package/handler.js:handler',
    'passthrough_async.js:handler', 'passthrough_callback.js:handler', 'waf_drop_default_action.js:handler']
  await Promise.all(specs.map(async (spec) => {
    const w = startWrapper(NODE, `${HANDLERS}/${spec}`)
    const ev = event(['{"action":"ALLOW"}', '{"terminatingRuleId":"Default_Action"}'])
    const a = await w.ask(ev)
    const expected = passedRecords(ev)
    if (spec.startsWith('waf')) expected[1].result = 'Dropped'
    assert.deepEqual(a.records, expected, spec)
    if (spec.startsWith('wrapper_cases')) assert.deepEqual([a.module, a.awsRequestId], ['esm', ev.invocationId])
    if (spec.startsWith('esm_package')) assert.equal(a.module, 'esm-package')
    const ended = await w.end()
    assert.equal(ended.code, 0, spec)
    if (spec.startsWith('waf')) {
      assert.match(ended.stderr, /Processing completed\. Dropped 1 of 2 records\./)
      assert.match(ended.stderr, /\[DEP0005\] DeprecationWarning/)
    }
  }))
  const cases = [
    [[`${HANDLERS}/no_such_file.js:handler`], /^ferry-lambda-node: cannot load .*no_such_file\.js:handler: no such file$/],
    [[`${HANDLERS}/syntax_error.js:handler`], /^ferry-lambda-node: cannot load .*syntax_error\.js:handler: SyntaxError: .* \(at .*syntax_error\.js:\d+\)$/],
    [[`${HANDLERS}/passthrough_async.js:nope`], /^ferry-lambda-node: cannot load .*: the module exports no 'nope'$/],
    [[`${HANDLERS}/passthrough.mjs:nope`], /^ferry-lambda-node: cannot load .*: the module exports no 'nope'$/],
    [[`${HANDLERS}/wrapper_cases.js:notCallable`], /^ferry-lambda-node: cannot load .*: 'notCallable' is not a function \(number\)$/],
    [[`${HANDLERS}/passthrough_async.js`], /^ferry-lambda-node: usage: ferry-lambda-node FILE:EXPORT/],
    [[], /^ferry-lambda-node: usage: ferry-lambda-node FILE:EXPORT$/],
  ]
  await Promise.all(cases.map(async ([args, pattern]) => {
    const { code, line } = await refusal(NODE, args)
    assert.equal(code, 2, line)
    assert.match(line, pattern)
  }))
  const idle = startWrapper(NODE, `${HANDLERS}/passthrough_async.js:handler`)
  assert.deepEqual(await idle.end(), { code: 0, signal: null, stdout: '', stderr: '' })
})

test('the blog posts\' handlers answer as their posts say', { timeout: 30000 }, async () => {
  const py = startWrapper(PYTHON, `${HANDLERS}/firehose_add_timestamp.py:lambda_handler`)
  const ev = event(['{"ticker_symbol":"QXZ","price":1.5}', '{"n":2}'])
  const before = Date.now() / 1000
  const a = await py.ask(ev)
  assert.equal(a.records.length, 2)
  a.records.forEach((r, i) => {
    assert.equal(r.recordId, ev.records[i].recordId)
    assert.equal(r.result, 'Ok')
    const text = Buffer.from(r.data, 'base64').toString()
    assert.ok(text.endsWith('}\n'), text)
    const obj = JSON.parse(text)
    assert.ok(obj.timestamp >= before - 1 && obj.timestamp <= Date.now() / 1000 + 1, text)
    delete obj.timestamp
    assert.deepEqual(obj, JSON.parse(Buffer.from(ev.records[i].data, 'base64')))
  })
  const ended = await py.end()
  assert.equal(ended.code, 0)
  assert.match(ended.stderr, /Successfully processed 2 records\./)
})
