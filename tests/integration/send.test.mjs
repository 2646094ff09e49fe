// send.test.mjs — `ferry send` end to end: standard input, several files and a .gz file to kinesalite with
// and without aggregation (read back through aws-kinesis-agg: every line once), to the tests' Firehose
// endpoint, the progress bar in a pseudo-terminal (script(1), its last frame), and the exit status for
// records refused for good (1, dead letters named, or on standard error when the file cannot be made), an
// endpoint that is down (1 after --max-retry-time), SIGINT (130, the summary saying what was sent; a second
// one, or shutdown_timeout, ends the wait), and a send beside a daemon running with the same config.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

let kinesalite, client, tmp
let streams = 0

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-send-'))
  kinesalite = await startKinesalite()
  client = makeClient(kinesalite.endpoint)
})

after(async () => {
  if (kinesalite) await kinesalite.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

// The environment ferry send runs with: test keys and region, never a developer's own.
function sendEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  return { ...env, AWS_ACCESS_KEY_ID: 'AKIDFERRYTEST', AWS_SECRET_ACCESS_KEY: 'ferry-test-secret', AWS_REGION: 'us-east-1', ...extra }
}

// Runs `ferry send args`, feeding `input` (a Buffer) on its standard input; resolves with code, signal,
// stderr. onSpawn(child) may signal it.
function send(args, { input = null, env = {}, cwd = tmp, onStderr } = {}) {
  const child = spawn(ferryBinary(), ['send', ...args], { cwd, env: sendEnv(env), stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s) => {
    stderr += s
    if (onStderr) onStderr(stderr, child)
  })
  child.stdin.on('error', () => {})
  if (input) child.stdin.end(input)
  else child.stdin.end()
  const done = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stderr })))
  done.child = child
  return done
}

async function newStream(shards = 2) {
  const name = `send-${++streams}`
  await createStream(client, name, shards)
  return name
}

function assertEveryLineOnce(lines, records, stderr) {
  const result = compareRecords(lines, records)
  assert.ok(result.ok, `${describeMismatch(result)}\n${stderr}`)
}

test('standard input to Kinesis, aggregated: every line once, exit 0, one summary line', async () => {
  const stream = await newStream()
  const lines = generateLines(2000, { seed: 17 })
  const r = await send(['--stream', stream, '--endpoint', kinesalite.endpoint], { input: fileContents(lines) })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /^ferry send: 2000 records \(.*\) read from 1 input; 2000 acknowledged by Kinesis stream 'send-\d+' in [\d.]+ s\n$/)
  const records = await readAll(client, stream)
  assert.ok(records.some((x) => x.aggregated), 'aggregated by default')
  assertEveryLineOnce(lines, records, r.stderr)
})

test('several files and a .gz file, without aggregation: every line once', async () => {
  const stream = await newStream()
  const lines = generateLines(1500, { seed: 18 })
  const a = path.join(tmp, 'a.log')
  const b = path.join(tmp, 'b.log.gz')
  const c = path.join(tmp, 'c.log')
  fs.writeFileSync(a, fileContents(lines.slice(0, 500)))
  fs.writeFileSync(b, zlib.gzipSync(fileContents(lines.slice(500, 1000))))
  // The last line without a newline is sent too.
  fs.writeFileSync(c, fileContents(lines.slice(1000)).subarray(0, -1))
  const r = await send(['--stream', stream, '--endpoint', kinesalite.endpoint, '--no-aggregate', '--partition-key', 'k', a, b, c])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /1500 records .* read from 3 inputs; 1500 acknowledged/)
  const records = await readAll(client, stream)
  assert.ok(records.every((x) => !x.aggregated && x.partitionKey === 'k'), 'no aggregates; the fixed key')
  assertEveryLineOnce(lines, records, r.stderr)
})

test('to Firehose, flags over a config: the flow\'s framing applies, every line once', async () => {
  const ep = await startFirehoseEndpoint()
  try {
    const configPath = path.join(tmp, 'firehose.yaml')
    // The flow's skip_header_lines applies; its destination is replaced by --delivery-stream.
    fs.writeFileSync(configPath, [
      'state_dir: /nonexistent/never-used',
      'flows:',
      '  - name: web',
      '    files: [/var/log/never-read.log]',
      '    skip_header_lines: 1',
      '    kinesis:',
      '      stream: not-this-one',
      '  - name: other',
      '    files: [/var/log/other.log]',
      '    kinesis:',
      '      stream: nor-this-one',
    ].join('\n') + '\n')
    const lines = generateLines(2000, { seed: 19, longLines: [] })
    const input = Buffer.concat([Buffer.from('# a header line\n'), fileContents(lines)])
    const r = await send(['-c', configPath, '--flow', 'web', '--delivery-stream', 'ds', '--endpoint', ep.endpoint], { input })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /2000 acknowledged by Firehose delivery stream 'ds'/)
    assertEveryLineOnce(lines, ep.lines().map((l) => ({ data: Buffer.from(l) })), r.stderr)
    // Two flows and no --flow: a usage error naming them.
    const usage = await send(['-c', configPath, '--delivery-stream', 'ds', '--endpoint', ep.endpoint])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /has 2 flows \(web, other\): name one with --flow/)
  } finally {
    await ep.stop()
  }
})

test('progress bar in a pseudo-terminal: its last frame shows 100% and every record acknowledged', async () => {
  const stream = await newStream(2)
  const lines = generateLines(6000, { seed: 20, longLines: [] })
  const file = path.join(tmp, 'progress.log')
  fs.writeFileSync(file, fileContents(lines))
  const typescript = path.join(tmp, 'typescript')
  const command = [ferryBinary(), 'send', '--stream', stream, '--endpoint', kinesalite.endpoint, file]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  // The pseudo-terminal is made 100 columns wide, so the bar has room beside the figures.
  const child = spawn('script', ['-qfec', `stty cols 100; ${command}`, typescript], { env: { ...sendEnv(), COLUMNS: '120', LINES: '30' }, stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end()
  let out = ''
  child.stdout.on('data', (s) => { out += s })
  const { code } = await new Promise((resolve) => child.once('close', (c, s) => resolve({ code: c, signal: s })))
  assert.equal(code, 0, out)
  // Frames are redrawn with a carriage return; the last one before the summary is the final state.
  const frames = out.split(/\r|\n/).map((f) => f.replace(/\x1b\[K/g, '')).filter((f) => /rec\/s/.test(f))
  assert.ok(frames.length >= 1, out)
  const last = frames[frames.length - 1]
  assert.match(last, /^100% \[#{30}\] 6\.0k rec [\d.]+ [kM]B read, 6\.0k rec [\d.]+ [kM]B acked, [\d.]+k? rec\/s$/, out)
  assert.match(out, /6000 records .* 6000 acknowledged/)
})

test('records refused for good: exit 1, the dead-letter file named and holding them', async () => {
  // The endpoint refuses every record that holds "refuse" (a permanent error), stores the rest.
  const ep = await startFirehoseEndpoint({
    policy: ({ records }) => ({ failRecord: (i) => (records[i].toString().includes('refuse') ? 'InvalidArgumentException' : null) }),
  })
  try {
    const input = Buffer.from('keep 1\nrefuse 2\nkeep 3\nrefuse 4\nkeep 5\n')
    const dead = path.join(tmp, 'refused.jsonl')
    // One line per record: packing would put refused and kept lines in one record.
    const configPath = path.join(tmp, 'nopack.yaml')
    fs.writeFileSync(configPath, 'flows:\n  - name: f\n    files: [/x]\n    firehose:\n      delivery_stream: ds\n      pack: false\n')
    const r = await send(['-c', configPath, '--endpoint', ep.endpoint, '--dead-letter', dead], { input })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /3 acknowledged by Firehose delivery stream 'ds'/)
    assert.ok(r.stderr.includes(`2 records refused for good, written to ${dead}`), r.stderr)
    const letters = fs.readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(letters.map((l) => [l.data.trimEnd(), l.error_code]), [['refuse 2', 'InvalidArgumentException'], ['refuse 4', 'InvalidArgumentException']])
    assert.deepEqual(ep.lines().sort(), ['keep 1', 'keep 3', 'keep 5'])
    // A dead-letter file that cannot be made: the refused records are written to standard error instead.
    const unwritable = path.join(tmp, 'refused.jsonl', 'under-a-file.jsonl')
    const r2 = await send(['-c', configPath, '--endpoint', ep.endpoint, '--dead-letter', unwritable], { input })
    assert.equal(r2.code, 1, r2.stderr)
    assert.ok(r2.stderr.includes(`2 records refused for good, written to standard error (${unwritable} could not be written)`), r2.stderr)
    const onStderr = r2.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    assert.deepEqual(onStderr.map((l) => l.data.trimEnd()).sort(), ['refuse 2', 'refuse 4'])
  } finally {
    await ep.stop()
  }
})

test('an endpoint that is down: exit 1 after --max-retry-time, the summary says nothing was sent', async () => {
  // A port nobody listens on.
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve))
  const started = Date.now()
  const r = await send(['--delivery-stream', 'ds', '--endpoint', `http://127.0.0.1:${port}`, '--max-retry-time', '1500ms'],
    { input: Buffer.from('one\ntwo\nthree\n') })
  assert.equal(r.code, 1, r.stderr)
  assert.ok(Date.now() - started < 15000, 'gave up within the time asked')
  assert.match(r.stderr, /0 acknowledged by Firehose delivery stream 'ds'/)
  assert.match(r.stderr, /3 records not sent: no acknowledgement for 1500ms \(--max-retry-time\)/)
  assert.match(r.stderr, /standard input: sent up to byte 0 of the 14 read/)
})

test('SIGINT: what is in flight is answered, exit 130, the summary says what was and was not sent', async () => {
  const stream = await newStream(1)
  // A writer that never closes: ferry reads what comes, is interrupted, and sends what it read.
  const lines = generateLines(1000, { seed: 21, longLines: [] })
  const live = spawn(ferryBinary(), ['send', '--stream', stream, '--endpoint', kinesalite.endpoint], { cwd: tmp, env: sendEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  live.stderr.setEncoding('utf8')
  live.stderr.on('data', (s) => { stderr += s })
  live.stdin.write(fileContents(lines))
  const done = new Promise((resolve) => live.once('close', (code, signal) => resolve({ code, signal })))
  // Once the lines are in the stream, interrupt: the pipe is still open.
  const deadline = Date.now() + 15000
  let records = []
  while (Date.now() < deadline) {
    records = await readAll(client, stream)
    if (records.length >= lines.length) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  live.kill('SIGINT')
  const { code } = await done
  live.stdin.destroy()
  assert.equal(code, 130, stderr)
  assert.match(stderr, /1000 records .* read from 1 input; 1000 acknowledged/)
  assert.match(stderr, /0 records not sent: interrupted by signal 2/)
  assertEveryLineOnce(lines, await readAll(client, stream), stderr)
})

test('a second SIGINT stops at once while a request hangs: exit 130, the summary counts what was not sent', async () => {
  const ep = await startFirehoseEndpoint({ policy: () => ({ hang: true }) })
  try {
    const child = spawn(ferryBinary(), ['send', '--delivery-stream', 'ds', '--endpoint', ep.endpoint], { cwd: tmp, env: sendEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s) => { stderr += s })
    child.stdin.end('one\ntwo\nthree\n')
    const done = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
    await ep.waitForRequests(1)
    child.kill('SIGINT')
    // The first one waits for the hanging request (shutdown_timeout is 10 s); the second does not.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(child.exitCode, null, 'still waiting for the request in flight after one SIGINT')
    const second = Date.now()
    child.kill('SIGINT')
    const { code } = await done
    assert.ok(Date.now() - second < 2000, 'stopped at once')
    assert.equal(code, 130, stderr)
    assert.match(stderr, /3 records \(14 B\) read from 1 input; 0 acknowledged by Firehose delivery stream 'ds'/)
    assert.match(stderr, /3 records not sent: interrupted by signal 2/)
  } finally {
    await ep.stop()
  }
})

test('one SIGINT after the input ended waits at most shutdown_timeout for a hanging request', async () => {
  const ep = await startFirehoseEndpoint({ policy: () => ({ hang: true }) })
  try {
    const configPath = path.join(tmp, 'short-shutdown.yaml')
    fs.writeFileSync(configPath, 'shutdown_timeout: 1s\nflows:\n  - name: f\n    files: [/x]\n    firehose:\n      delivery_stream: ds\n')
    const pending = send(['-c', configPath, '--endpoint', ep.endpoint], { input: Buffer.from('one\ntwo\n') })
    await ep.waitForRequests(1)
    const signalled = Date.now()
    pending.child.kill('SIGINT')
    const r = await pending
    const waited = Date.now() - signalled
    assert.equal(r.code, 130, r.stderr)
    assert.ok(waited >= 900 && waited < 5000, `stopped after ${waited} ms, shutdown_timeout is 1 s`)
    assert.match(r.stderr, /2 records not sent: interrupted by signal 2/)
  } finally {
    await ep.stop()
  }
})

test('beside a running daemon with the same config: both send, the daemon keeps its lock and socket', async () => {
  const stream = await newStream(1)
  const stateDir = path.join(tmp, 'daemon-state')
  const logPath = path.join(tmp, 'daemon.log')
  fs.writeFileSync(logPath, 'daemon 1\ndaemon 2\n')
  const configPath = path.join(tmp, 'daemon.yaml')
  writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream, files: [logPath] })
  const daemon = startFerry(configPath)
  try {
    const status = () => execFileSync(ferryBinary(), ['status', '--state-dir', stateDir], { encoding: 'utf8' })
    const deadline = Date.now() + 10000
    while (Date.now() < deadline) {
      try { status(); break } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
    }
    const r = await send(['-c', configPath], { input: Buffer.from('send 1\nsend 2\n') })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /2 acknowledged by Kinesis stream/)
    assert.equal(daemon.exitStatus, null, ferryOutputForHumans(daemon))
    assert.match(status(), /flow|e2e/)
    let data = []
    for (let i = 0; i < 50 && data.length < 4; i++) {
      data = (await readAll(client, stream)).map((x) => x.data.toString()).sort()
      if (data.length < 4) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.deepEqual(data, ['daemon 1', 'daemon 2', 'send 1', 'send 2'])
  } finally {
    const stopped = await stopFerry(daemon)
    assert.equal(stopped.code, 0, ferryOutputForHumans(daemon))
  }
})
