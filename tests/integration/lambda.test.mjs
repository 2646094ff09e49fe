// lambda.test.mjs — Firehose transformation functions run by `ferry run` through the lambda plugin.
//
// Role: end to end with the real wrappers (the build copies them next to ferry) and handlers from
// tests/lambda/: the two blog posts' functions unchanged, one to the tests' Firehose endpoint
// (lib/firehose_endpoint.mjs) and one to kinesalite, every record transformed or dropped exactly as the
// function says and nothing else lost; then faulty functions, each in a flow of its own in one ferry: one
// that crashes every 100th invocation, one that hangs on a marked record (a short timeout), one that never
// answers, two that answer garbage for a marked record (a line that is not JSON; JSON without records), one
// that leaves marked records out of its answer, one that answers ids it was not asked for and one twice, one
// that fails marked records (ProcessingFailed). The plugin's counters in `ferry status --json` and the
// dead-letter entries must match exactly, and every flow goes on afterwards (lines written after the faults
// arrive too).
//
// Run: FERRY_BIN=/path/to/build/ferry node --test tests/integration/lambda.test.mjs
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { ferryBinary, ferryStatus, yamlQuote, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'
import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'

const HANDLERS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lambda')
const CREDENTIALS = { accessKeyId: 'AKIDLAMBDATEST', secretAccessKey: 'lambda-test-secret' }
const REGION = 'eu-west-1'
const WAIT_MS = 20000
// python3 may be a shim that takes a second to start (pyenv): the flows whose processes restart run the
// wrapper with the interpreter it resolves to (the blog post's flow runs it by name, from PATH).
const PYTHON_EXE = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})
function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  temps.push(dir)
  return dir
}

// The build folder: ferry and the wrappers the build copied beside it.
function buildDir() {
  const dir = path.dirname(ferryBinary())
  for (const w of ['ferry-lambda-python', 'ferry-lambda-node']) fs.accessSync(path.join(dir, w), fs.constants.X_OK)
  return dir
}
// PATH with the build folder first, so a command names the wrapper as an installed ferry would.
const pathEnv = () => ({ PATH: `${buildDir()}:${process.env.PATH}` })

// A lambda plugin entry as YAML flow text.
function lambdaYaml(command, options = {}) {
  const entries = [`command: [${command.map(yamlQuote).join(', ')}]`, ...Object.entries(options).map(([k, v]) => `${k}: ${v}`)]
  return `- lambda: { ${entries.join(', ')} }`
}

async function status(stateDir) {
  return ferryStatus(stateDir)
}
const lambdaOf = (report, flow) => report.flows.find((f) => f.name === flow).plugins.find((p) => p.name === 'lambda')

function deadLetters(stateDir, flow) {
  const file = path.join(stateDir, 'dead-letter', `${flow}.jsonl`)
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

// Lines of Firehose records: each record is lines, each ending in '\n'.
function linesOf(records) {
  const out = []
  for (const record of records) {
    const text = record.toString('utf8')
    assert.ok(text.endsWith('\n'), `a Firehose record that does not end with a newline: ${JSON.stringify(text.slice(-80))}`)
    out.push(...text.slice(0, -1).split('\n'))
  }
  return out
}

// Polls predicate until it holds; fails naming `what` (a text, or a function giving one) and ferry's log.
async function until(predicate, what, ferry, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs
  const text = () => (typeof what === 'function' ? what() : what)
  while (!(await predicate())) {
    if (ferry.exitStatus) assert.fail(`ferry exited while waiting for ${text()}\n${ferryOutputForHumans(ferry)}`)
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${text()}\n${ferryOutputForHumans(ferry)}`)
    await sleep(100)
  }
}

// Each line must occur exactly once in got (a list of strings), and nothing else.
function assertSameLines(expected, got, what) {
  const count = new Map()
  for (const l of got) count.set(l, (count.get(l) || 0) + 1)
  const missing = expected.filter((l) => !count.has(l))
  const twice = [...count].filter(([, n]) => n > 1).map(([l]) => l)
  const wanted = new Set(expected)
  const extra = got.filter((l) => !wanted.has(l))
  assert.deepEqual({ missing: missing.slice(0, 5), twice: twice.slice(0, 5), extra: extra.slice(0, 5) },
    { missing: [], twice: [], extra: [] }, `${what}: ${missing.length} missing, ${twice.length} twice, ${extra.length} unexpected`)
  assert.equal(got.length, expected.length, what)
}

test("the blog post's Python function, through ferry to Firehose: every record gets its timestamp, nothing else changes", { timeout: 60000 }, async () => {
  const STREAM = 'tickers'
  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  let ferry
  try {
    const tmp = tempDir('ferry-lambda-py-')
    const logPath = path.join(tmp, 'tickers.log')
    const stateDir = path.join(tmp, 'state')
    const N = 3000
    const objects = Array.from({ length: N }, (_, i) => ({ ticker_symbol: `T${i % 97}`, sector: 'TECHNOLOGY', change: (i % 13) - 6, price: 10 + i / 100, i }))
    fs.writeFileSync(logPath, objects.map((o) => JSON.stringify(o) + '\n').join(''))
    const configPath = path.join(tmp, 'ferry.yaml')
    fs.writeFileSync(configPath, [
      `state_dir: ${yamlQuote(stateDir)}`,
      'aws:',
      `  region: ${REGION}`,
      `  access_key_id: ${CREDENTIALS.accessKeyId}`,
      `  secret_access_key: ${CREDENTIALS.secretAccessKey}`,
      `  firehose_endpoint: ${yamlQuote(ep.endpoint)}`,
      'flows:',
      '  - name: tickers',
      `    files: [${yamlQuote(logPath)}]`,
      '    start_at: beginning',
      `    firehose: { delivery_stream: ${STREAM} }`,
      '    plugins:',
      `      ${lambdaYaml(['ferry-lambda-python', `${HANDLERS}/firehose_add_timestamp.py:lambda_handler`], { timeout: '20s', on_error: 'dead_letter' })}`,
    ].join('\n') + '\n', { mode: 0o600 })

    const before = Date.now() / 1000
    ferry = startFerry(configPath, { env: pathEnv() })
    await until(() => linesOf(ep.accepted).length >= N, `${N} lines at the endpoint`, ferry)
    await until(async () => (await status(stateDir)).flows[0].counters.records_sent >= N, 'records_sent', ferry)
    const report = await status(stateDir)
    await sleep(300) // anything sent twice would arrive now
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    const afterRun = Date.now() / 1000

    assert.deepEqual(ep.violations, [])
    const got = linesOf(ep.accepted).map((l) => JSON.parse(l))
    const seen = new Set()
    for (const obj of got) {
      assert.ok(typeof obj.timestamp === 'number' && obj.timestamp >= before - 1 && obj.timestamp <= afterRun + 1, JSON.stringify(obj))
      const { timestamp, ...rest } = obj
      assert.deepEqual(rest, objects[obj.i])
      assert.ok(!seen.has(obj.i), `record ${obj.i} arrived twice`)
      seen.add(obj.i)
    }
    assert.equal(got.length, N)
    assert.deepEqual(deadLetters(stateDir, 'tickers'), [])
    const lambda = lambdaOf(report, 'tickers')
    assert.equal(lambda.records_in, N, JSON.stringify(lambda))
    assert.equal(lambda.records_out, N, JSON.stringify(lambda))
    assert.equal(lambda.errored, 0, JSON.stringify(lambda))
    assert.match(ferryOutputForHumans(ferry), /lambda\[\d+\]: Successfully processed \d+ records\./)
  } finally {
    if (ferry && ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test("the WAF post's Node function, through ferry to kinesalite: Default_Action entries dropped, the rest unchanged", { timeout: 60000 }, async () => {
  const STREAM = 'waf-logs'
  const kinesalite = await startKinesalite()
  let ferry
  try {
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 1)
    const tmp = tempDir('ferry-lambda-waf-')
    const logPath = path.join(tmp, 'waf.log')
    const stateDir = path.join(tmp, 'state')
    const N = 3000
    const lines = Array.from({ length: N }, (_, i) => JSON.stringify({
      timestamp: 1764921600000 + i,
      formatVersion: 1,
      webaclId: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/edge/1',
      terminatingRuleId: i % 3 === 0 ? 'Default_Action' : `RateLimit-${i % 7}`,
      terminatingRuleType: i % 3 === 0 ? 'REGULAR' : 'RATE_BASED',
      action: i % 3 === 0 ? 'ALLOW' : 'BLOCK',
      httpSourceName: 'ALB',
      httpRequest: { clientIp: `198.51.100.${i % 250}`, country: 'DE', uri: `/item/${i}`, httpMethod: 'GET' },
    }))
    fs.writeFileSync(logPath, lines.map((l) => l + '\n').join(''))
    const kept = lines.filter((l) => !l.includes('Default_Action'))
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [logPath], flowName: 'waf' })
    fs.appendFileSync(configPath, [
      '    plugins:',
      `      ${lambdaYaml(['ferry-lambda-node', `${HANDLERS}/waf_drop_default_action.js:handler`], { on_error: 'dead_letter' })}`,
      '',
    ].join('\n'))

    ferry = startFerry(configPath, { env: pathEnv() })
    const seen = await waitForRecords(client, STREAM, kept.length, WAIT_MS, { intervalMs: 200 })
    assert.equal(seen.length, kept.length, ferryOutputForHumans(ferry))
    await until(async () => lambdaOf(await status(stateDir), 'waf').records_in >= N, 'every record through the plugin', ferry)
    const report = await status(stateDir)
    await sleep(300)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    const records = await readAll(client, STREAM)
    assertSameLines(kept, records.map((r) => r.data.toString('utf8')), 'the stream')
    assert.deepEqual(deadLetters(stateDir, 'waf'), [])
    const lambda = lambdaOf(report, 'waf')
    assert.deepEqual([lambda.records_in, lambda.records_out, lambda.dropped, lambda.errored], [N, kept.length, N - kept.length, 0], JSON.stringify(lambda))
    // The handler's console.log line and Node's deprecation warning are in ferry's log, not in the protocol.
    const log = ferryOutputForHumans(ferry, 1e7)
    const completed = [...log.matchAll(/lambda\[\d+\]: Processing completed\. Dropped (\d+) of (\d+) records\./g)]
    assert.ok(completed.length > 0, log)
    assert.equal(completed.reduce((n, m) => n + Number(m[1]), 0), N - kept.length)
    assert.equal(completed.reduce((n, m) => n + Number(m[2]), 0), N)
    assert.match(log, /lambda\[\d+\]: .*\[DEP0005\] DeprecationWarning: Buffer\(\) is deprecated/)
  } finally {
    if (ferry && ferry.exitStatus === null) ferry.kill('SIGKILL')
    await kinesalite.stop()
  }
})

// The faulty functions, one flow each, side by side in one ferry (plugin(buildDir) is the flow's lambda
// entry). Marked lines must end in the dead-letter file and nowhere else, the others at the endpoint, once.
const FAULTS = [
  {
    name: 'crash',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/crash_every_100th.py:lambda_handler`], { batch_records: 5, on_error: 'dead_letter' }),
    count: 1200,
    marked: () => false,
  },
  {
    name: 'hang',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/hang.py:on_marker`], { batch_records: 1, timeout: '1s', start_timeout: '2s', retries: 1, on_error: 'dead_letter' }),
    count: 200,
    marked: (i) => i === 100,
    marker: 'HANG',
    reason: /^Lambda\.Timeout: no answer within 1s \(and 2s to start\) \(2 attempts\)$/,
  },
  {
    // Never answers: every record fails, and the flow still goes on (lines written later fail the same way).
    name: 'hang-always',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/hang.py:always`], { timeout: '1s', start_timeout: '2s', retries: 1, on_error: 'dead_letter' }),
    count: 10,
    marked: () => true,
    failsAll: true,
    reason: /^Lambda\.Timeout: no answer within 1s \(and 2s to start\) \(2 attempts\)$/,
  },
  {
    name: 'garbage-text',
    plugin: () => lambdaYaml([PYTHON_EXE, `${HANDLERS}/garbage_protocol.py`], { batch_records: 1, retries: 1, on_error: 'dead_letter' }),
    count: 200,
    marked: (i) => i === 50 || i === 150,
    marker: 'GARBAGE',
    reason: /^Lambda\.InvalidResponse: the answer is not JSON .*\(2 attempts\)$/,
  },
  {
    name: 'garbage-json',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/garbage.py:no_records`], { batch_records: 1, retries: 1, on_error: 'dead_letter' }),
    count: 200,
    marked: (i) => i === 60 || i === 160,
    marker: 'GARBAGE',
    reason: /^Lambda\.InvalidResponse: the answer has no records array \(2 attempts\)$/,
  },
  {
    name: 'omit',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/omit_ids.py:lambda_handler`], { on_error: 'dead_letter' }),
    count: 1000,
    marked: (i) => i % 37 === 5,
    marker: 'OMIT',
    reason: /^Lambda\.MissingRecordId/,
  },
  {
    name: 'extra-ids',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/extra_ids.py:lambda_handler`], { batch_records: 50, on_error: 'dead_letter' }),
    count: 500,
    marked: () => false,
  },
  {
    name: 'failed',
    plugin: (bin) => lambdaYaml([PYTHON_EXE, `${bin}/ferry-lambda-python`, `${HANDLERS}/processing_failed.py:lambda_handler`], { on_error: 'dead_letter' }),
    count: 1000,
    marked: (i) => i % 23 === 7,
    marker: 'FAIL',
    reason: /^Lambda\.ProcessingFailedStatus: the function returned ProcessingFailed/,
  },
]
const faultLine = (f, i) => `${f.name} line ${i}${f.marked(i) ? ` ${f.marker}` : ''} ${'x'.repeat(i % 40)}`

test('faulty functions: a crash every 100th invocation, hangs, garbage, missing, unknown and repeated ids, ProcessingFailed; exact counts, and the flows go on', { timeout: 90000 }, async (t) => {
  const delivered = new Map(FAULTS.map((f) => [f.name, []]))
  const ep = await startFirehoseEndpoint({
    credentials: CREDENTIALS,
    region: REGION,
    deliveryStreams: FAULTS.map((f) => f.name),
    policy: ({ deliveryStreamName, records }) => {
      delivered.get(deliveryStreamName).push(...records)
      return {}
    },
  })
  let ferry
  try {
    const tmp = tempDir('ferry-lambda-faults-')
    const stateDir = path.join(tmp, 'state')
    const config = [
      `state_dir: ${yamlQuote(stateDir)}`,
      'aws:',
      `  region: ${REGION}`,
      `  access_key_id: ${CREDENTIALS.accessKeyId}`,
      `  secret_access_key: ${CREDENTIALS.secretAccessKey}`,
      `  firehose_endpoint: ${yamlQuote(ep.endpoint)}`,
      'flows:',
    ]
    for (const f of FAULTS) {
      f.logPath = path.join(tmp, `${f.name}.log`)
      f.lines = Array.from({ length: f.count }, (_, i) => faultLine(f, i))
      fs.writeFileSync(f.logPath, f.lines.map((l) => l + '\n').join(''))
      config.push(
        `  - name: ${f.name}`,
        `    files: [${yamlQuote(f.logPath)}]`,
        '    start_at: beginning',
        `    firehose: { delivery_stream: ${f.name} }`,
        '    plugins:',
        `      ${f.plugin(buildDir())}`,
      )
    }
    const configPath = path.join(tmp, 'ferry.yaml')
    fs.writeFileSync(configPath, config.join('\n') + '\n', { mode: 0o600 })

    ferry = startFerry(configPath, { env: pathEnv() })
    const deliveredLines = (f) => linesOf(delivered.get(f.name))
    const fails = (f, i) => f.failsAll || (i < f.count && f.marked(i))
    const expectedDead = (f) => f.lines.filter((l, i) => fails(f, i))
    const expectedOut = (f) => f.lines.filter((l, i) => !fails(f, i))
    const allThere = () => FAULTS.every((f) => deliveredLines(f).length >= expectedOut(f).length &&
      deadLetters(stateDir, f.name).length >= expectedDead(f).length)
    const progress = () => FAULTS.map((f) => `${f.name}: ${deliveredLines(f).length} of ${expectedOut(f).length} delivered, ` +
      `${deadLetters(stateDir, f.name).length} of ${expectedDead(f).length} dead letters`).join('; ')
    await until(allThere, () => `every flow to deliver and dead-letter its lines (${progress()})`, ferry, 45000)

    // The flows go on: lines written now arrive too (a crashed or killed process was restarted).
    for (const f of FAULTS) {
      const more = Array.from({ length: 20 }, (_, k) => `${f.name} after the faults ${k}`)
      fs.appendFileSync(f.logPath, more.map((l) => l + '\n').join(''))
      f.lines.push(...more)
    }
    await until(allThere, () => `the lines written after the faults (${progress()})`, ferry)
    await until(async () => {
      const r = await status(stateDir)
      return FAULTS.every((f) => lambdaOf(r, f.name).records_in >= f.lines.length)
    }, 'the plugin counters', ferry)
    const report = await status(stateDir)
    await sleep(300)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    const log = ferryOutputForHumans(ferry, 1e7)

    assert.deepEqual(ep.violations, [])
    for (const f of FAULTS) {
      const lambda = lambdaOf(report, f.name)
      const dead = deadLetters(stateDir, f.name)
      const what = `flow ${f.name}: ${JSON.stringify(lambda)}`
      assertSameLines(expectedOut(f), deliveredLines(f), `${f.name}: delivered`)
      assertSameLines(expectedDead(f), dead.map((d) => d.data), `${f.name}: dead letters`)
      for (const d of dead) {
        assert.equal(d.error_code, 'processing-failed', JSON.stringify(d))
        assert.equal(d.destination, 'plugin lambda', JSON.stringify(d))
        if (f.reason) assert.match(d.error_message, f.reason, JSON.stringify(d))
      }
      assert.equal(lambda.records_in, f.lines.length, what)
      assert.equal(lambda.records_out, f.lines.length - dead.length, what)
      assert.equal(lambda.errored, dead.length, what)
      assert.equal(lambda.dead_lettered, dead.length, what)
      t.diagnostic(what)
    }
    // Crashes: each is one retry on a restarted process; the handler says each on stderr before it exits.
    const crashes = [...log.matchAll(/flow crash: lambda\[\d+\]: crash_every_100th: exiting at invocation 100\b/g)].length
    const crash = lambdaOf(report, 'crash')
    assert.ok(crashes >= 2, `${crashes} crashes\n${log}`)
    assert.equal(crash.restarts, crashes, JSON.stringify(crash))
    assert.equal(crash.retries, crashes, JSON.stringify(crash))
    // The hang: two attempts (retries: 1), each killed at its timeout and the process restarted. (A
    // process's first invocation has start_timeout more for the wrapper's start; on a very loaded machine
    // one may still time out and pass on its retry: every timeout but the marked record's last is retried.)
    const hang = lambdaOf(report, 'hang')
    assert.ok(hang.timeouts >= 2, JSON.stringify(hang))
    assert.equal(hang.retries, hang.timeouts - 1, JSON.stringify(hang))
    assert.equal(hang.restarts, hang.timeouts, JSON.stringify(hang))
    // Hanging always: the first ten lines in one invocation, the twenty written later in another; each
    // tried twice. The last kill's restart may still be under way.
    const always = lambdaOf(report, 'hang-always')
    assert.deepEqual([always.invocations, always.timeouts, always.retries], [4, 4, 2], JSON.stringify(always))
    assert.ok(always.restarts === 3 || always.restarts === 4, JSON.stringify(always))
    // Garbage: two marked batches, each tried twice; the processes live on (an answer, if a bad one).
    for (const name of ['garbage-text', 'garbage-json']) {
      const g = lambdaOf(report, name)
      assert.deepEqual([g.retries, g.restarts, g.timeouts], [2, 0, 0], JSON.stringify(g))
    }
    // One record per invocation: one invocation per record and per retry.
    for (const name of ['hang', 'garbage-text', 'garbage-json']) {
      const p = lambdaOf(report, name)
      assert.equal(p.invocations, p.records_in + p.retries, JSON.stringify(p))
    }
    assert.equal(lambdaOf(report, 'failed').processing_failed, expectedDead(FAULTS.find((f) => f.name === 'failed')).length)
    // An unknown and a repeated id in every answer: ignored, counted once per invocation.
    const extra = lambdaOf(report, 'extra-ids')
    assert.ok(extra.invocations >= 11, JSON.stringify(extra))
    assert.deepEqual([extra.unknown_ids, extra.repeated_ids], [extra.invocations, extra.invocations], JSON.stringify(extra))
    for (const name of ['omit', 'failed', 'extra-ids']) {
      const p = lambdaOf(report, name)
      assert.deepEqual([p.retries, p.restarts, p.timeouts], [0, 0, 0], JSON.stringify(p))
    }
  } finally {
    if (ferry && ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})
