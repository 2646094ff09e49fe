// spool.test.mjs — the disk spool and dead letters, end to end.
//
// Role: integration tests of DESIGN.md §3 against the tests' own PutRecords endpoint
// (lib/put_records_endpoint.mjs), which can go down (refusing connections), fail records and requests,
// and refuse records for good. Each test ends by comparing what the endpoint stored with the lines written:
//   - mode always: every request is written ahead and sent from the spool; each line arrives once and the
//     acknowledged segments are deleted;
//   - an outage: lines written meanwhile go to the spool and all arrive once the endpoint is back;
//   - a spool cap smaller than the outage's data: the spool stays within it, reading waits, nothing lost;
//   - a full disk under the spool (a small tmpfs; needs root): a clear error, then recovery;
//   - a spool damaged between runs (a flipped byte, a cut tail, a zeroed tail): the damage is reported
//     with the segment and offset, and every line outside the damaged entry arrives;
//   - 30 % of records throttled, 5 % of requests answered 500 and 3 % cut off (connection reset) for a
//     whole run: nothing lost;
//   - records the endpoint refuses for good (400 ValidationException) go to the dead-letter file;
//   - a spool left by a flow that is no longer configured is reported at start.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch, rng } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const temps = []
const mounts = []
after(() => {
  for (const dir of mounts) {
    try {
      execFileSync('umount', ['-l', dir])
    } catch {}
  }
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function setup(endpoint, extraYaml = '', flowYaml = '') {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-spool-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, '')
  const configPath = path.join(tmp, 'ferry.yaml')
  const stateDir = path.join(tmp, 'state')
  writeConfig(configPath, { stateDir, endpoint, stream: 's', files: [logPath] })
  fs.appendFileSync(configPath, flowYaml)
  fs.appendFileSync(configPath, extraYaml)
  return { tmp, logPath, configPath, stateDir, spoolDir: path.join(stateDir, 'spool', 'e2e') }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${ferry ? ferryOutputForHumans(ferry) : ''}`)
    await sleep(50)
  }
}

function segments(spoolDir) {
  if (!fs.existsSync(spoolDir)) return []
  return fs
    .readdirSync(spoolDir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => path.join(spoolDir, n))
}

function spoolBytes(spoolDir) {
  return segments(spoolDir).reduce((sum, p) => {
    try {
      return sum + fs.statSync(p).size
    } catch {
      return sum // deleted meanwhile
    }
  }, 0)
}

// Appends `lines` to the log in `bursts` parts, `gapMs` apart.
async function writeInBursts(logPath, lines, bursts, gapMs) {
  const per = Math.ceil(lines.length / bursts)
  for (let i = 0; i < lines.length; i += per) {
    fs.appendFileSync(logPath, fileContents(lines.slice(i, i + per)))
    await sleep(gapMs)
  }
}

// `count` lines of ~200 random base-36 characters: LZ4 cannot shrink them much.
function incompressibleLines(count, seed) {
  const r = rng(seed)
  const lines = []
  for (let i = 0; i < count; i++) {
    let s = `${i} `
    while (s.length < 200) s += r().toString(36).slice(2)
    lines.push(Buffer.from(s))
  }
  return lines
}

// Every line stored at least once, nothing stored that was not written; returns the duplicates.
function assertNoneLost(lines, accepted, ferry) {
  const result = compareRecords(lines, accepted.map((data) => ({ data })))
  assert.equal(result.missing.length, 0, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
  assert.equal(result.unexpected.length, 0, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
  return result.duplicated.length
}

test('mode always: every line goes through the spool, arrives once, and the spool is emptied', async () => {
  const ep = await startPutRecordsEndpoint()
  const { logPath, configPath, spoolDir } = setup(ep.endpoint, 'spool: { mode: always }\n')
  const lines = generateLines(20000, { longLines: [], seed: 3 })
  const ferry = startFerry(configPath)
  try {
    await writeInBursts(logPath, lines, 5, 200)
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all lines', ferry)
    await waitUntil(() => segments(spoolDir).length === 0, 10000, 'an empty spool', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const result = compareRecords(lines, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    assert.match(stderr, new RegExp(`spooled ${lines.length}, spool 0 bytes`))
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('an outage: lines written meanwhile go to the spool, and all arrive once the endpoint is back', async () => {
  const ep = await startPutRecordsEndpoint()
  const { logPath, configPath, spoolDir } = setup(ep.endpoint)
  const lines = generateLines(30000, { longLines: [], seed: 11 })
  const ferry = startFerry(configPath)
  try {
    fs.appendFileSync(logPath, fileContents(lines.slice(0, 5000)))
    await waitUntil(() => ep.accepted.length >= 5000, 30000, 'the first lines', ferry)
    await ep.down()
    await writeInBursts(logPath, lines.slice(5000), 10, 300)
    // Read on during the outage: into the spool, not held in memory.
    await waitUntil(() => spoolBytes(spoolDir) > 100000, 20000, `over 100000 bytes in the spool (${spoolBytes(spoolDir)})`, ferry)
    const spooled = spoolBytes(spoolDir)
    await ep.up()
    await waitUntil(() => ep.accepted.length >= lines.length, 60000, 'all lines after the outage', ferry)
    // Acknowledged segments are deleted.
    await waitUntil(() => segments(spoolDir).length === 0, 10000, 'an empty spool', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const dups = assertNoneLost(lines, ep.accepted, ferry)
    console.log(`outage: ${lines.length} lines, 0 lost, ${dups} duplicates, ${spooled} bytes spooled`)
    assert.match(stderr, /written to the spool/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.up()
    await ep.stop()
  }
})

test('a spool cap smaller than the outage: the spool stays within it, reading waits, nothing is lost', async () => {
  const ep = await startPutRecordsEndpoint()
  const cap = 1 << 20
  const { logPath, configPath, spoolDir } = setup(ep.endpoint, `memory_limit: 4MiB\nspool: { max_bytes: 1MiB }\n`)
  // Lines that do not compress much, so the 1 MiB spool holds only part of the outage.
  const lines = incompressibleLines(40000, 5)
  const ferry = startFerry(configPath)
  try {
    fs.appendFileSync(logPath, fileContents(lines.slice(0, 1000)))
    await waitUntil(() => ep.accepted.length >= 1000, 30000, 'the first lines', ferry)
    await ep.down()
    fs.appendFileSync(logPath, fileContents(lines.slice(1000)))
    let most = 0
    const deadline = Date.now() + 6000
    while (Date.now() < deadline) {
      most = Math.max(most, spoolBytes(spoolDir))
      await sleep(25)
    }
    assert.ok(most > cap / 2, `the spool never filled (${most} bytes)`)
    assert.ok(most <= cap, `the spool grew to ${most} bytes, past max_bytes ${cap}`)
    await waitUntil(() => /spool .* is full/.test(ferry.output.stderr), 10000, 'the full spool reported', ferry)
    await ep.up()
    await waitUntil(() => ep.accepted.length >= lines.length, 90000, 'all lines after the outage', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const dups = assertNoneLost(lines, ep.accepted, ferry)
    console.log(`spool cap: ${lines.length} lines (${(lines.length * 201) >> 20} MiB), spool at most ${most} B, 0 lost, ${dups} duplicates`)
    assert.match(stderr, /the spool takes records again/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.up()
    await ep.stop()
  }
})

test('a full disk under the spool: a clear error, then recovery when space returns', { skip: process.getuid() !== 0 && 'mounting a tmpfs needs root' }, async () => {
  const ep = await startPutRecordsEndpoint()
  const { logPath, configPath, spoolDir } = setup(ep.endpoint, `memory_limit: 4MiB\n`)
  fs.mkdirSync(spoolDir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', spoolDir])
  mounts.push(spoolDir)
  const lines = incompressibleLines(20000, 9)
  const ferry = startFerry(configPath)
  try {
    fs.appendFileSync(logPath, fileContents(lines.slice(0, 1000)))
    await waitUntil(() => ep.accepted.length >= 1000, 30000, 'the first lines', ferry)
    await ep.down()
    fs.appendFileSync(logPath, fileContents(lines.slice(1000)))
    await waitUntil(() => /cannot write to the spool: .*No space left on device/.test(ferry.output.stderr), 20000, 'ENOSPC reported', ferry)
    assert.equal(ferry.exitStatus, null, 'ferry exited on a full disk')
    await ep.up()
    await waitUntil(() => ep.accepted.length >= lines.length, 90000, 'all lines after the outage', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const dups = assertNoneLost(lines, ep.accepted, ferry)
    console.log(`disk full: ${lines.length} lines, 0 lost, ${dups} duplicates`)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.up()
    await ep.stop()
  }
})

// Fills the spool during an outage with `bursts` entries, stops ferry, damages the spool with `damage`,
// starts ferry again with the endpoint up; returns what arrived, the lines, and the second run's stderr.
async function damagedSpoolRun(damage) {
  const ep = await startPutRecordsEndpoint()
  const { logPath, configPath, spoolDir } = setup(ep.endpoint, '', '      aggregate: false\n      max_age: 200ms\n')
  const lines = generateLines(3000, { longLines: [], seed: 21 })
  let ferry = startFerry(configPath)
  try {
    fs.appendFileSync(logPath, fileContents(lines.slice(0, 100)))
    await waitUntil(() => ep.accepted.length >= 100, 30000, 'the first lines', ferry)
    await ep.down()
    // Bursts further apart than max_age (200 ms): one request, so one spool entry, each.
    await writeInBursts(logPath, lines.slice(100), 10, 500)
    await sleep(500)
    let { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const files = segments(spoolDir)
    assert.ok(files.length >= 1, 'nothing was spooled\n' + stderr)
    const accepted = ep.accepted.length
    damage(files[files.length - 1])
    await ep.up()
    ferry = startFerry(configPath)
    await waitUntil(() => /damaged at offset|unreadable entry/.test(ferry.output.stderr), 20000, 'the damage reported', ferry)
    // Everything but the damaged entry: at most one burst (290 lines) missing.
    await waitUntil(() => ep.accepted.length >= lines.length - 290, 30000, 'the undamaged entries', ferry)
    await sleep(1000)
    ;({ code, stderr } = await stopFerry(ferry))
    assert.equal(code, 0, stderr)
    return { accepted: ep.accepted, lines, stderr, before: accepted, ferry }
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.up()
    await ep.stop()
  }
}

function assertOneEntryLost({ accepted, lines, stderr, ferry }, what) {
  const result = compareRecords(lines, accepted.map((data) => ({ data })))
  assert.equal(result.unexpected.length, 0, describeMismatch(result))
  assert.ok(result.missing.length > 0, `${what}: nothing was lost, so the damage hit nothing?\n${ferryOutputForHumans(ferry)}`)
  assert.ok(result.missing.length <= 290, `${what}: ${result.missing.length} lines lost, more than one entry\n${describeMismatch(result)}`)
  assert.match(stderr, /spool segment \S+\.seg (is damaged at offset \d+|has an unreadable entry at offset \d+)/)
  console.log(`${what}: ${lines.length} lines, ${result.missing.length} lost in the damaged entry, ${result.duplicated.length} duplicates`)
}

test('a spool segment with a flipped byte: that entry is reported and skipped, the rest arrives', async () => {
  const run = await damagedSpoolRun((file) => {
    const fd = fs.openSync(file, 'r+')
    const size = fs.fstatSync(fd).size
    const at = Math.floor(size / 2)
    const b = Buffer.alloc(1)
    fs.readSync(fd, b, 0, 1, at)
    b[0] ^= 0x40
    fs.writeSync(fd, b, 0, 1, at)
    fs.closeSync(fd)
  })
  assertOneEntryLost(run, 'flipped byte')
})

test('a spool segment cut short: the torn entry is reported, the rest arrives', async () => {
  const run = await damagedSpoolRun((file) => fs.truncateSync(file, fs.statSync(file).size - 50))
  assertOneEntryLost(run, 'truncated')
})

test('a spool segment with a zero-filled tail (power loss): the rest arrives', async () => {
  const run = await damagedSpoolRun((file) => {
    const size = fs.statSync(file).size
    const fd = fs.openSync(file, 'r+')
    const n = Math.min(4000, size - 1)
    fs.writeSync(fd, Buffer.alloc(n), 0, n, size - n)
    fs.closeSync(fd)
  })
  assertOneEntryLost(run, 'zero-filled tail')
})

test('30% of records throttled, 5% of requests failing with 500 and 3% cut off for a whole run: nothing lost', async () => {
  const r = rng(77)
  const ep = await startPutRecordsEndpoint({
    policy: () => {
      if (r() < 0.03) return { reset: true }
      if (r() < 0.05) return { status: 500, body: { __type: 'InternalFailure', message: 'injected 500' } }
      return { failRecord: () => (r() < 0.3 ? 'ProvisionedThroughputExceededException' : null) }
    },
  })
  const { logPath, configPath } = setup(ep.endpoint, 'retry: { backoff_base: 20ms, backoff_cap: 500ms }\n', '      aggregate: false\n')
  const lines = generateLines(20000, { longLines: [], seed: 31 })
  const ferry = startFerry(configPath)
  try {
    await writeInBursts(logPath, lines, 20, 100)
    await waitUntil(() => new Set(ep.accepted.map((b) => b.toString('latin1'))).size >= lines.length, 120000, 'all lines', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const dups = assertNoneLost(lines, ep.accepted, ferry)
    console.log(`throttle 30% + 500 at 5% + resets at 3%: ${lines.length} lines, 0 lost, ${dups} duplicates, ${ep.requests} requests`)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('records refused for good go to the dead-letter file with their error; the rest arrives', async () => {
  const poison = (b) => b.includes('POISON')
  const ep = await startPutRecordsEndpoint({
    policy: ({ records }) =>
      records.some((rec) => poison(rec.data))
        ? { status: 400, body: { __type: 'ValidationException', message: 'injected: record refused' } }
        : {},
  })
  const { logPath, configPath, stateDir } = setup(ep.endpoint, '', '      aggregate: false\n')
  const lines = generateLines(2000, { longLines: [], seed: 41 })
  const bad = [Buffer.from('POISON one'), Buffer.from('POISON \u00e9 two')]
  lines.splice(700, 0, bad[0])
  lines.splice(1500, 0, bad[1])
  const ferry = startFerry(configPath)
  try {
    fs.appendFileSync(logPath, fileContents(lines))
    const good = lines.filter((l) => !poison(l))
    await waitUntil(() => ep.accepted.length >= good.length, 30000, 'the good lines', ferry)
    const deadFile = path.join(stateDir, 'dead-letter', 'e2e.jsonl')
    await waitUntil(() => fs.existsSync(deadFile) && fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).length >= 2, 10000, 'two dead letters', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const result = compareRecords(good, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    const letters = fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    assert.deepEqual(letters.map((l) => l.data).sort(), bad.map((b) => b.toString('utf8')).sort())
    for (const l of letters) {
      assert.equal(l.error_code, 'ValidationException')
      assert.equal(l.flow, 'e2e')
      assert.match(l.error_message, /record refused/)
    }
    assert.match(stderr, /refused for good \(ValidationException/)
    console.log(`dead letters: ${lines.length} lines, ${good.length} delivered, ${letters.length} dead letters, 0 lost`)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('a spool left by a flow no longer in the config is reported at start, not lost silently', async () => {
  const ep = await startPutRecordsEndpoint()
  const { configPath, stateDir } = setup(ep.endpoint)
  const orphan = path.join(stateDir, 'spool', 'old-flow')
  fs.mkdirSync(orphan, { recursive: true })
  fs.writeFileSync(path.join(orphan, '00000000000000000001.seg'), Buffer.alloc(1234, 7))
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 15000, 'the start', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assert.match(stderr, /spool\/old-flow holds 1234 bytes of undelivered records of a flow that is not in the config/)
    assert.ok(fs.existsSync(path.join(orphan, '00000000000000000001.seg')), 'the orphan spool was touched')
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})
