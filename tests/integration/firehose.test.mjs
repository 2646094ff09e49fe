// firehose.test.mjs — Firehose delivery end to end: ferry -> PutRecordBatch -> the tests' own endpoint.
//
// Role: proves the Firehose output against lib/firehose_endpoint.mjs, which enforces the API's limits
// (500 records and 4 MiB per request, 1,000 KiB per record), checks each SigV4 signature against the
// credentials and region, and refuses unknown delivery streams. Every test asserts that no request broke
// a limit and that every line arrived exactly once; the first also that packing fills records
// (Firehose bills each record in 5 KB steps), the others per-record failures and throttling, one line
// per record (pack: false), and gzip records whose concatenation is one valid .gz file.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import zlib from 'node:zlib'

import { ferryBinary, yamlQuote, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint, MAX_RECORD_BYTES } from './lib/firehose_endpoint.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const run = promisify(execFile)
const CREDENTIALS = { accessKeyId: 'AKIDFIREHOSETEST', secretAccessKey: 'firehose-test-secret' }
const REGION = 'eu-west-1'
const STREAM = 'edge-logs'

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

// Writes the lines and a config with one Firehose flow; firehoseYaml adds keys to its firehose section.
function setup(endpoint, lines, firehoseYaml = []) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-firehose-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, fileContents(lines))
  const stateDir = path.join(tmp, 'state')
  const configPath = path.join(tmp, 'ferry.yaml')
  fs.writeFileSync(
    configPath,
    [
      `state_dir: ${yamlQuote(stateDir)}`,
      `aws:`,
      `  region: ${REGION}`,
      `  access_key_id: ${CREDENTIALS.accessKeyId}`,
      `  secret_access_key: ${CREDENTIALS.secretAccessKey}`,
      `  firehose_endpoint: ${yamlQuote(endpoint)}`,
      `flows:`,
      `  - name: to-firehose`,
      `    files: [${yamlQuote(logPath)}]`,
      `    start_at: beginning`,
      `    firehose:`,
      `      delivery_stream: ${STREAM}`,
      ...firehoseYaml.map((l) => `      ${l}`),
    ].join('\n') + '\n',
  )
  return { tmp, logPath, stateDir, configPath }
}

// The lines inside the records the endpoint stored, in order: each record is lines, each ending in '\n'.
function linesOf(records) {
  const out = []
  for (const record of records) {
    assert.equal(record[record.length - 1], 0x0a, 'every Firehose record ends with a newline')
    let start = 0
    for (let i = record.indexOf(0x0a); i !== -1; i = record.indexOf(0x0a, start)) {
      out.push({ data: record.subarray(start, i) })
      start = i + 1
    }
  }
  return out
}

// Requests go out several at a time, so records may be stored out of order (as with Firehose itself);
// inside a record, lines keep the order they were read in.
function assertExactlyOnce(lines, got, ferry) {
  const result = compareRecords(lines, got)
  assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
}

// Runs ferry until the endpoint holds `count` lines (decoded by decode), then stops it cleanly.
async function ship(ep, configPath, stateDir, count, decode = (records) => records) {
  const ferry = startFerry(configPath)
  try {
    const deadline = Date.now() + 120000
    while (linesOf(decode(ep.accepted)).length < count) {
      if (ferry.exitStatus) assert.fail(`ferry exited on its own\n${ferryOutputForHumans(ferry)}`)
      if (Date.now() > deadline) assert.fail(`timed out\n${ferryOutputForHumans(ferry)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    // The endpoint has stored the lines; ferry counts them once it has read the answers.
    let counters
    for (;;) {
      const { stdout } = await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])
      counters = JSON.parse(stdout).flows[0].counters
      if (counters.records_sent >= count || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    return { ferry, counters, stderr: stopped.stderr }
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
}

test('every line arrives once, in full packed records, and no request breaks a limit', async (t) => {
  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  try {
    // 60,000 lines (~12 MB) with five lines of about 100 KiB among them.
    const lines = generateLines(60000)
    const packMax = 64 * 1024
    const { configPath, stateDir } = setup(ep.endpoint, lines, [`pack_max_bytes: ${packMax / 1024}KiB`])
    const { ferry, counters } = await ship(ep, configPath, stateDir, lines.length)
    assert.deepEqual(ep.violations, [], 'a request broke a PutRecordBatch limit')
    assertExactlyOnce(lines, linesOf(ep.accepted), ferry)

    // Packing fills records: a record closes when the next line does not fit (or when it has waited
    // max_age, which a file read from its start at full speed rarely does).
    const sizes = ep.accepted.map((r) => r.length)
    let full = 0
    for (let i = 0; i + 1 < ep.accepted.length; i++) {
      const next = ep.accepted[i + 1]
      const nextLine = next.indexOf(0x0a) + 1
      if (sizes[i] + nextLine > packMax) full++
    }
    const bytes = sizes.reduce((a, b) => a + b, 0)
    const fill = bytes / (ep.accepted.length * packMax)
    t.diagnostic(
      `${lines.length} lines (${bytes} bytes) in ${ep.accepted.length} Firehose records (${full} closed full, ` +
        `mean fill ${(100 * fill).toFixed(1)} % of ${packMax} B) and ${ep.log.length} requests; ` +
        `${counters.packed_across_batches} records packed across batches`,
    )
    assert.ok(full >= (ep.accepted.length - 1) * 0.9, `only ${full} of ${ep.accepted.length} records closed full`)
    assert.ok(fill > 0.9, `records are ${(100 * fill).toFixed(1)} % full on average`)
    assert.ok(sizes.every((s) => s <= MAX_RECORD_BYTES))
    // A lone line longer than pack_max_bytes goes out alone; every other record keeps to the pack size.
    for (const record of ep.accepted) {
      if (record.length > packMax) assert.equal(record.indexOf(0x0a), record.length - 1, 'an oversize pack')
    }
    assert.equal(counters.records_sent, lines.length)
    assert.equal(counters.firehose_records_sent, ep.accepted.length)
    assert.equal(counters.records_unsent, 0)
  } finally {
    await ep.stop()
  }
})

test('records failed inside a response and throttled requests are sent again until stored', async () => {
  // Request 0 throttled (HTTP 503, as Firehose throttles), request 1 has every other record fail with
  // ServiceUnavailableException, request 2 a record fail with InternalFailure, request 3 a 500.
  const ep = await startFirehoseEndpoint({
    credentials: CREDENTIALS,
    region: REGION,
    deliveryStreams: [STREAM],
    policy: ({ index }) => {
      if (index === 0) return { throttle: true }
      if (index === 1) return { failRecord: (i) => (i % 2 === 0 ? 'ServiceUnavailableException' : null) }
      if (index === 2) return { failRecord: (i) => (i === 0 ? 'InternalFailure' : null) }
      if (index === 3) return { status: 500, body: { __type: 'InternalFailure', message: 'injected 500' } }
      return {}
    },
  })
  try {
    const lines = generateLines(20000, { longLines: [] })
    // Small packs so each request holds several records that can fail one by one.
    const { configPath, stateDir } = setup(ep.endpoint, lines, ['pack_max_bytes: 8KiB'])
    const { ferry, counters, stderr } = await ship(ep, configPath, stateDir, lines.length)
    assert.deepEqual(ep.violations, [])
    assert.ok(ep.log.length >= 5, `only ${ep.log.length} requests`)
    // Each line once: a failed record was not stored, so sending it again duplicates nothing.
    const result = compareRecords(lines, linesOf(ep.accepted))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    assert.ok(counters.records_retried > 0)
    assert.ok(counters.request_failures >= 2)
    // The requests that failed as a whole went through the spool: Firehose records replay like any other.
    assert.ok(counters.records_spooled > 0, JSON.stringify(counters))
    assert.match(stderr, /ServiceUnavailableException/)
  } finally {
    await ep.stop()
  }
})

test('pack: false sends one line per record, each with its newline', async () => {
  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  try {
    const lines = generateLines(3000, { longLines: [] })
    const { configPath, stateDir } = setup(ep.endpoint, lines, ['pack: false'])
    const { ferry } = await ship(ep, configPath, stateDir, lines.length)
    assert.deepEqual(ep.violations, [])
    assert.equal(ep.accepted.length, lines.length)
    assertExactlyOnce(lines, linesOf(ep.accepted), ferry)
    assert.ok(ep.log.every((r) => r.records <= 500))
  } finally {
    await ep.stop()
  }
})

test('gzip records: each is a gzip member, and their concatenation is one valid .gz file', async (t) => {
  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  try {
    const lines = generateLines(30000)
    const { configPath, stateDir } = setup(ep.endpoint, lines, ['compression: gzip'])
    const gunzipEach = (records) => records.map((r) => zlib.gunzipSync(r))
    const { ferry, counters } = await ship(ep, configPath, stateDir, lines.length, gunzipEach)
    assert.deepEqual(ep.violations, [])
    assertExactlyOnce(lines, linesOf(gunzipEach(ep.accepted)), ferry)
    // What an S3 object of these records would hold: gunzip reads it as one file.
    const object = zlib.gunzipSync(Buffer.concat(ep.accepted))
    assertExactlyOnce(lines, linesOf([object]), ferry)
    const stored = ep.accepted.reduce((a, r) => a + r.length, 0)
    t.diagnostic(
      `${object.length} bytes of lines in ${ep.accepted.length} gzip records of ${stored} bytes ` +
        `(${((100 * stored) / object.length).toFixed(1)} %)`,
    )
    assert.equal(counters.compressed_bytes_in, object.length) // no record was sent twice
    assert.ok(counters.compressed_bytes_out < object.length / 2)
  } finally {
    await ep.stop()
  }
})
