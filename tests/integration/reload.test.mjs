// reload.test.mjs — `ferry reload` and SIGHUP re-read the config of a running ferry (issue 18, Reload).
//
// One kinesalite for the file; each test runs its own ferry on a config it rewrites between reloads:
//   - a flow added, one changed (its partition key), one removed, one left alone: `ferry reload` exits 0
//     and says so per flow; the unchanged flow keeps its counters (same object), the changed one resumes
//     where it was (every line once, the new key on lines written after the reload), the removed one
//     stops (its checkpoints stay on disk), the new one starts;
//   - a broken config: exit 1, its errors (file:line:col) printed and logged, the daemon unchanged and still
//     shipping; a changed state_dir is refused the same way;
//   - SIGHUP applies the file like `ferry reload` does;
//   - a changed aws section: new access, the flow restarted on it, every line once;
//   - SIGTERM while a reload drains a flow (its endpoint hangs): ferry stops in order once the drain is over;
//   - `ferry reload` with no ferry running exits 1, and bad usage 2.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { startFerry, stopFerry, ferryBinary, ferryOutputForHumans } from './lib/ferry.mjs'
import { startKinesalite } from './lib/kinesalite.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'
import { makeClient, createStream, readAll } from './lib/kinesis.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
let kinesalite
let client
const temps = []

before(async () => {
  kinesalite = await startKinesalite()
  client = makeClient(kinesalite.endpoint)
  await Promise.all(['keep', 'change', 'gone', 'new', 'hup'].map((s) => createStream(client, `reload-${s}`, 1)))
})
after(async () => {
  if (kinesalite) await kinesalite.stop()
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-reload-'))
  temps.push(tmp)
  return tmp
}

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (ferry?.exitStatus) assert.fail(`ferry exited while waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    await sleep(100)
  }
}

// A config with the given flows: { name, key } each, one file and one stream per flow.
function writeConfig(tmp, flows, { stateDir = `${tmp}/state`, extra = [], aws = [] } = {}) {
  const file = path.join(tmp, 'ferry.yaml')
  const yaml = [
    `state_dir: ${stateDir}`,
    ...extra,
    'aws:',
    '  region: us-east-1',
    '  access_key_id: AKIDFERRYTEST',
    '  secret_access_key: ferry-test-secret',
    `  kinesis_endpoint: ${kinesalite.endpoint}`,
    ...aws,
    'flows:',
    ...flows.flatMap((f) => [
      `  - name: ${f.name}`,
      `    files: ["${tmp}/${f.name}.log"]`,
      '    start_at: beginning',
      `    kinesis: { stream: reload-${f.stream ?? f.name}, max_age: 100ms, partition_key: ${f.key ?? 'random'} }`,
    ]),
    '',
  ].join('\n')
  fs.writeFileSync(file, yaml, { mode: 0o600 })
  return file
}

// Asynchronous, so ferry's own output is read meanwhile.
function ferryCli(args) {
  return new Promise((resolve) => {
    execFile(ferryBinary(), args, { encoding: 'utf8', timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr })
    })
  })
}

// A line in ferry's log; it arrives through a pipe, shortly after the answer.
async function logged(ferry, re) {
  await waitUntil(() => re.test(ferry.output.stderr), 5000, `a log line matching ${re}`, ferry)
}

async function status(tmp) {
  const r = await ferryCli(['status', '--state-dir', `${tmp}/state`, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

async function recordsRead(tmp, flow) {
  const f = (await status(tmp)).flows.find((x) => x.name === flow)
  return f ? f.counters.records_read : undefined
}

function append(tmp, flow, tag, count) {
  const lines = Array.from({ length: count }, (_, i) => `${flow} ${tag} ${i}`)
  fs.appendFileSync(path.join(tmp, `${flow}.log`), lines.join('\n') + '\n')
  return lines
}

// The user records in a stream, as { text, key }, with the ones of other tests' runs left out.
async function records(stream, prefix) {
  return (await readAll(client, stream))
    .map((r) => ({ text: r.data.toString('utf8').replace(/\n$/, ''), key: r.partitionKey }))
    .filter((r) => r.text.startsWith(prefix))
}

async function waitForLines(stream, prefix, count, ferry) {
  await waitUntil(async () => (await records(stream, prefix)).length >= count, 15000, `${count} records in ${stream}`, ferry)
}

test('ferry reload adds, changes and removes flows, and leaves the unchanged one running', { timeout: 60000 }, async () => {
  const tmp = tempDir()
  for (const f of ['keep', 'change', 'gone', 'new']) fs.writeFileSync(path.join(tmp, `${f}.log`), '')
  const config = writeConfig(tmp, [{ name: 'keep' }, { name: 'change', key: 'key-a' }, { name: 'gone' }])
  const ferry = startFerry(config)
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 10000, 'ferry to start', ferry)
    const before = Object.fromEntries(['keep', 'change', 'gone'].map((f) => [f, append(tmp, f, 'before', 50)]))
    for (const f of ['keep', 'change', 'gone']) await waitForLines(`reload-${f}`, `${f} before`, 50, ferry)
    await waitUntil(async () => (await recordsRead(tmp, 'keep')) === 50, 5000, 'keep to count its records', ferry)

    writeConfig(tmp, [{ name: 'keep' }, { name: 'change', key: 'key-b' }, { name: 'new' }])
    const r = await ferryCli(['reload', '-c', config])
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${ferryOutputForHumans(ferry)}`)
    assert.match(r.stdout, /^reload applied: .*ferry\.yaml$/m)
    assert.match(r.stdout, /^ {2}flow change: restarted \(its options changed\)$/m)
    assert.match(r.stdout, /^ {2}flow gone: removed$/m)
    assert.match(r.stdout, /^ {2}flow keep: unchanged$/m)
    assert.match(r.stdout, /^ {2}flow new: added$/m)
    await logged(ferry, /reload applied from .*: 1 flow\(s\) unchanged, 1 restarted, 1 removed, 1 added/)

    // The unchanged flow is the same object: its counters go on; the changed one's started again.
    assert.equal(await recordsRead(tmp, 'keep'), 50)
    assert.equal(await recordsRead(tmp, 'change'), 0)
    assert.equal(await recordsRead(tmp, 'gone'), undefined)
    assert.ok(fs.existsSync(`${tmp}/state/checkpoints/gone.json`), 'a removed flow keeps its checkpoints')

    const afterLines = Object.fromEntries(['keep', 'change', 'gone', 'new'].map((f) => [f, append(tmp, f, 'after', 50)]))
    for (const f of ['keep', 'change', 'new']) await waitForLines(`reload-${f}`, `${f} after`, 50, ferry)
    await sleep(500) // time enough for a removed flow to send, were it still running

    const exact = (got, want, what) => assert.deepEqual([...got].sort(), [...want].sort(), what)
    exact((await records('reload-keep', 'keep')).map((x) => x.text), [...before.keep, ...afterLines.keep], 'keep: every line once')
    exact((await records('reload-new', 'new')).map((x) => x.text), afterLines.new, 'new: every line once')
    exact((await records('reload-gone', 'gone')).map((x) => x.text), before.gone, 'gone: nothing after its removal')
    // The changed flow resumed where it was: every line once, the new key from the reload on.
    const changed = await records('reload-change', 'change')
    exact(changed.map((x) => x.text), [...before.change, ...afterLines.change], 'change: every line once')
    for (const rec of changed) assert.equal(rec.key, rec.text.includes(' before ') ? 'key-a' : 'key-b', rec.text)

    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
  } finally {
    if (!ferry.exitStatus) ferry.kill('SIGKILL')
  }
})

test('a broken config is refused with its errors; the daemon goes on unchanged', { timeout: 60000 }, async () => {
  const tmp = tempDir()
  fs.writeFileSync(path.join(tmp, 'keep.log'), '')
  const config = writeConfig(tmp, [{ name: 'keep', stream: 'hup' }])
  const ferry = startFerry(config)
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 10000, 'ferry to start', ferry)
    const first = append(tmp, 'keep', 'broken-before', 20)
    await waitForLines('reload-hup', 'keep broken-before', 20, ferry)

    // Two errors: an unknown key and a bad value, each at its line.
    const good = fs.readFileSync(config, 'utf8')
    fs.writeFileSync(config, good.replace('flows:', 'flowz: 1\nmemory_limit: lots\nflows:'), { mode: 0o600 })
    const r = await ferryCli(['reload', '--state-dir', `${tmp}/state`])
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`)
    assert.match(r.stderr, /^reload refused: .*ferry\.yaml; ferry keeps running with the config it had$/m)
    assert.match(r.stderr, /error: .*ferry\.yaml:\d+:\d+: flowz: unknown key/)
    assert.match(r.stderr, /error: .*ferry\.yaml:\d+:\d+: memory_limit: /)
    await logged(ferry, /ferry\.yaml:\d+:\d+: flowz: unknown key/)
    await logged(ferry, /reload refused: ferry keeps running with the config it had \(2 error\(s\)\)/)

    // A valid file with another state_dir is refused too.
    writeConfig(tmp, [{ name: 'keep', stream: 'hup' }], { stateDir: `${tmp}/elsewhere` })
    const moved = await ferryCli(['reload', '--state-dir', `${tmp}/state`])
    assert.equal(moved.code, 1, `${moved.stdout}${moved.stderr}`)
    assert.match(moved.stderr, /state_dir cannot change on a reload \(running with .*\/state, the file now says .*\/elsewhere\)/)

    // Nothing changed: the same flow object, still shipping.
    assert.equal(await recordsRead(tmp, 'keep'), 20)
    const second = append(tmp, 'keep', 'broken-after', 20)
    await waitForLines('reload-hup', 'keep broken-', 40, ferry)
    const got = (await records('reload-hup', 'keep broken-')).map((x) => x.text).sort()
    assert.deepEqual(got, [...first, ...second].sort())
    assert.equal(await recordsRead(tmp, 'keep'), 40)
    assert.equal((await stopFerry(ferry)).code, 0)
  } finally {
    if (!ferry.exitStatus) ferry.kill('SIGKILL')
  }
})

test('SIGHUP reloads the config as ferry reload does', { timeout: 60000 }, async () => {
  const tmp = tempDir()
  for (const f of ['keep', 'new']) fs.writeFileSync(path.join(tmp, `${f}.log`), '')
  // A second flow into the stream of the first test's new flow is fine: lines are told apart by prefix.
  const config = writeConfig(tmp, [{ name: 'keep', stream: 'hup' }], { extra: ['log_level: info'] })
  const ferry = startFerry(config)
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 10000, 'ferry to start', ferry)
    writeConfig(tmp, [{ name: 'keep', stream: 'hup' }, { name: 'new', stream: 'hup' }], { extra: ['log_level: debug'] })
    ferry.kill('SIGHUP')
    await waitUntil(() => /reload applied from .*: 1 flow\(s\) unchanged, 0 restarted, 0 removed, 1 added/.test(ferry.output.stderr), 10000, 'the reload', ferry)
    await logged(ferry, /reload: log_level is now debug/)
    const lines = append(tmp, 'new', 'hup', 30)
    await waitForLines('reload-hup', 'new hup', 30, ferry)
    assert.deepEqual((await records('reload-hup', 'new hup')).map((x) => x.text).sort(), lines.sort())
    assert.equal((await stopFerry(ferry)).code, 0)
  } finally {
    if (!ferry.exitStatus) ferry.kill('SIGKILL')
  }
})

test('a changed aws section builds new AWS access and restarts every flow on it, losing nothing', { timeout: 60000 }, async () => {
  const tmp = tempDir()
  fs.writeFileSync(path.join(tmp, 'aws.log'), '')
  const config = writeConfig(tmp, [{ name: 'aws', stream: 'keep' }])
  const ferry = startFerry(config)
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 10000, 'ferry to start', ferry)
    const first = append(tmp, 'aws', 'first', 40)
    writeConfig(tmp, [{ name: 'aws', stream: 'keep' }], { aws: ['  request_timeout: 20s'] })
    const r = await ferryCli(['reload', '-c', config])
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${ferryOutputForHumans(ferry)}`)
    assert.match(r.stdout, /^ {2}flow aws: restarted \(the aws section changed\)$/m)
    assert.match(r.stdout, /^ {2}aws: new access built; every flow restarted on it$/m)
    await logged(ferry, /reload: AWS region us-east-1 \(from config\)/)
    const second = append(tmp, 'aws', 'second', 40)
    await waitForLines('reload-keep', 'aws ', 80, ferry)
    const got = (await records('reload-keep', 'aws ')).map((x) => x.text).sort()
    assert.deepEqual(got, [...first, ...second].sort(), 'every line once, across the new access')
    assert.equal((await stopFerry(ferry)).code, 0)
  } finally {
    if (!ferry.exitStatus) ferry.kill('SIGKILL')
  }
})

test('a stop signal during a reload waits for the flow being drained, then stops in order', { timeout: 60000 }, async () => {
  const tmp = tempDir()
  const hung = await startFirehoseEndpoint({ policy: () => ({ hang: true }) })
  fs.writeFileSync(path.join(tmp, 'hung.log'), 'a line\n')
  const write = (maxAge) => {
    fs.writeFileSync(
      path.join(tmp, 'ferry.yaml'),
      [
        `state_dir: ${tmp}/state`,
        'shutdown_timeout: 2s',
        'aws:',
        '  region: us-east-1',
        '  access_key_id: AKIDFERRYTEST',
        '  secret_access_key: ferry-test-secret',
        `  firehose_endpoint: ${hung.endpoint}`,
        '  request_timeout: 1m',
        'flows:',
        '  - name: hung',
        `    files: ["${tmp}/hung.log"]`,
        '    start_at: beginning',
        `    firehose: { delivery_stream: d, max_age: ${maxAge} }`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    )
    return path.join(tmp, 'ferry.yaml')
  }
  const ferry = startFerry(write('100ms'))
  try {
    await waitUntil(() => hung.requests >= 1, 10000, 'a request in flight', ferry)
    write('200ms')
    const answer = ferryCli(['reload', '--state-dir', `${tmp}/state`])
    await logged(ferry, /reload: flow 'hung' restarted/)
    ferry.kill('SIGTERM')
    await logged(ferry, /signal 15: stopping once the reload under way has restarted its flows/)
    const stopped = await stopFerry(ferry, 20000)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    // The reload finished (its drain gave up after shutdown_timeout), then the ordered stop ran.
    const log = stopped.stderr
    const finished = log.search(/reload applied from /)
    const stopping = log.search(/signal 15: stopping; sending what was read/)
    assert.ok(finished >= 0 && stopping > finished, log)
    assert.match(log, /ferry stopped/)
    const r = await answer
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`)
    assert.match(r.stderr, /flow hung: restarted \(its options changed\).*; not running: not started again: ferry is stopping/)
  } finally {
    if (!ferry.exitStatus) ferry.kill('SIGKILL')
    await hung.stop()
  }
})

test('ferry reload without a running ferry exits 1; bad usage exits 2', async () => {
  const tmp = tempDir()
  const none = await ferryCli(['reload', '--state-dir', `${tmp}/nothing`])
  assert.equal(none.code, 1, none.stderr)
  assert.match(none.stderr, /^ferry reload: no ferry is running with state_dir .*\/nothing \(/)
  for (const args of [['--bogus'], ['-c'], ['-c', 'a.yaml', '--state-dir', tmp]]) {
    const r = await ferryCli(['reload', ...args])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /usage: ferry reload \[-c FILE \| --state-dir DIR\]/)
  }
})
