// aggregation.test.mjs — KPL aggregation end to end: ferry -> kinesalite (4 shards) -> aws-kinesis-agg.
//
// Role: proves the aggregation rules against real peers. ferry ships 100,000 lines to a 4-shard stream
// with aggregation on (the default); every record read back is taken apart with AWS's own deaggregator
// with MD5 checksums verified (lib/kinesis.mjs), and the test asserts: every line exactly once, most lines
// inside aggregates, and every sub-record's hash key (MD5 of its partition key, or its explicit hash key)
// inside the hash key range of the shard it was read from — the KCL drops sub-records that are not. A
// second test takes partition keys from a JSON field. Figures (Kinesis records and PutRecords calls per
// million lines, user bytes as a share of payload bytes) are printed as diagnostics.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, listShards, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const run = promisify(execFile)

function hashKeyOf(partitionKey) {
  return BigInt('0x' + crypto.createHash('md5').update(partitionKey, 'utf8').digest('hex'))
}

// Ships `lines` through ferry into a fresh 4-shard stream; returns the user records and ferry's counters.
async function ship(t, lines, extraKinesisYaml = '') {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-aggregation-'))
  const stream = 'ferry-aggregation'
  let kinesalite, ferry, ok = false
  try {
    kinesalite = await startKinesalite()
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, stream, 4)
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, fileContents(lines))
    const stateDir = path.join(tmp, 'state')
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream, files: [logPath] })
    fs.appendFileSync(configPath, extraKinesisYaml)
    ferry = startFerry(configPath)
    const died = new AbortController()
    ferry.exited.then(({ code, signal }) => died.abort(new Error(`ferry exited on its own (code ${code}, signal ${signal})`)))
    const started = Date.now()
    try {
      await waitForRecords(client, stream, lines.length, 180000, { intervalMs: 1000, signal: died.signal })
    } catch (err) {
      assert.fail(`${err.message}\n${ferryOutputForHumans(ferry)}`)
    }
    t.diagnostic(`${lines.length} lines in the stream after ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const { stdout } = await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])
    const counters = JSON.parse(stdout).flows[0].counters
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    const records = await readAll(client, stream)
    const shards = await listShards(client, stream)
    ok = true
    return { records, shards, counters, ferry }
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (ok) fs.rmSync(tmp, { recursive: true, force: true })
    else t.diagnostic(`kept ${tmp}`)
  }
}

// Every sub-record lies in the hash key range of the shard it was read from.
function assertInShard(records, shards) {
  const ranges = new Map(shards.map((s) => [s.ShardId, [BigInt(s.HashKeyRange.StartingHashKey), BigInt(s.HashKeyRange.EndingHashKey)]]))
  let misplaced = 0
  let example = null
  for (const r of records) {
    if (!r.aggregated) continue
    const key = r.explicitHashKey !== null ? BigInt(r.explicitHashKey) : hashKeyOf(r.partitionKey)
    const [lo, hi] = ranges.get(r.shardId)
    if (key < lo || key > hi) {
      misplaced++
      example ??= `${r.partitionKey} (hash ${key}) in ${r.shardId} [${lo}, ${hi}]`
    }
  }
  assert.equal(misplaced, 0, `sub-records outside their shard's hash key range, e.g. ${example}`)
}

function figures(t, lines, records, counters) {
  const kinesisRecords = new Set(records.map((r) => `${r.shardId}/${r.sequenceNumber}`)).size
  const perMillion = (n) => Math.round((n * 1e6) / lines.length)
  t.diagnostic(
    `Kinesis records ${kinesisRecords} (${perMillion(kinesisRecords)} per million lines), PutRecords calls ` +
      `${counters.requests} (${perMillion(counters.requests)} per million), aggregates ${counters.aggregates}, ` +
      `raw ${counters.kinesis_records - counters.aggregates}, user bytes ${counters.user_bytes} of ` +
      `${counters.kinesis_bytes} record bytes (${((100 * counters.user_bytes) / counters.kinesis_bytes).toFixed(1)} %)`,
  )
  return kinesisRecords
}

test('100,000 lines through KPL aggregation into 4 shards: each exactly once, every sub-record in its shard', { timeout: 600000 }, async (t) => {
  const lines = generateLines(100000, { longLines: [] })
  const { records, shards, counters, ferry } = await ship(t, lines)
  const cmp = compareRecords(lines, records)
  assert.ok(cmp.ok, `${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`)
  const aggregated = records.filter((r) => r.aggregated).length
  assert.ok(aggregated >= 0.99 * lines.length, `only ${aggregated} of ${lines.length} lines were aggregated`)
  assertInShard(records, shards)
  assert.deepEqual(new Set(records.map((r) => r.shardId)).size, 4, 'records on all 4 shards')
  const kinesisRecords = figures(t, lines, records, counters)
  assert.ok(kinesisRecords < lines.length / 50, `${kinesisRecords} Kinesis records for ${lines.length} lines`)
  assert.ok(counters.user_bytes / counters.kinesis_bytes >= 0.9, 'aggregates are mostly user bytes')
})

test('partition keys from a JSON field are the sub-records\' keys, and aggregates stay in their shards', { timeout: 300000 }, async (t) => {
  const lines = []
  for (let i = 0; i < 5000; i++) lines.push(Buffer.from(JSON.stringify({ user: { id: `user-${i % 37}` }, seq: i, msg: 'hello' })))
  lines.push(Buffer.from('not json at all'))
  const { records, shards, counters } = await ship(t, lines, '      partition_key: {field: user.id, fallback: fixed-fallback}\n')
  const cmp = compareRecords(lines, records)
  assert.ok(cmp.ok, describeMismatch(cmp))
  for (const r of records) {
    const text = r.data.toString('utf8')
    const expected = text.startsWith('{') ? JSON.parse(text).user.id : 'fixed-fallback'
    assert.equal(r.partitionKey, expected)
  }
  assertInShard(records, shards)
  figures(t, lines, records, counters)
})
