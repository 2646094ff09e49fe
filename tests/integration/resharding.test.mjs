// resharding.test.mjs — a shard is split while ferry aggregates into it (kinesalite, real SplitShard).
//
// Role: proves that resharding loses nothing. ferry aggregates with per-record partition keys (a JSON
// field) into a 2-shard stream while a writer appends; mid-way, shard 0 is split. Aggregates predicted
// for the closed parent land on a child, PutRecords says which, and ferry lists the shards again and sends
// the sub-records of each misplaced aggregate again, raw. The test reads the stream as a KCL consumer
// would (sub-records outside the hash key range of the shard they were read from are dropped) and asserts
// that every line is there; copies beyond one are counted and reported (the KPL makes the same ones).
// shard_map_refresh is 10 minutes, so only the wrong-shard answers can have told ferry.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { SplitShardCommand } from '@aws-sdk/client-kinesis'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, listShards, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'

const run = promisify(execFile)
const STREAM = 'ferry-resharding'
const LINES = 12000

const hashKeyOf = (key) => BigInt('0x' + crypto.createHash('md5').update(key, 'utf8').digest('hex'))
const line = (i) => JSON.stringify({ k: `key-${i % 97}`, seq: i, msg: 'resharding under load' })

test('a shard split while ferry aggregates into it: no line lost to a KCL consumer, the new map used', { timeout: 300000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-resharding-'))
  let kinesalite, ferry, passed = false
  try {
    kinesalite = await startKinesalite()
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 2)
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, '')
    const stateDir = path.join(tmp, 'state')
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [logPath] })
    fs.appendFileSync(configPath, '      partition_key: {field: k}\n      shard_map_refresh: 10m\n      max_age: 200ms\n')
    ferry = startFerry(configPath)

    // 12,000 lines over about 6 s; shard 0 is split after 2 s.
    const before = await listShards(client, STREAM)
    const parent = before.find((s) => s.ShardId === 'shardId-000000000000')
    const mid = (BigInt(parent.HashKeyRange.StartingHashKey) + BigInt(parent.HashKeyRange.EndingHashKey)) / 2n
    let split = false
    for (let i = 0; i < LINES; i += 200) {
      const chunk = []
      for (let j = i; j < i + 200; j++) chunk.push(line(j) + '\n')
      fs.appendFileSync(logPath, chunk.join(''))
      if (!split && i >= LINES / 3) {
        await client.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: parent.ShardId, NewStartingHashKey: String(mid) }))
        split = true
        t.diagnostic(`split ${parent.ShardId} at ${mid} after ${i} lines`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }

    const died = new AbortController()
    ferry.exited.then(({ code, signal }) => died.abort(new Error(`ferry exited on its own (code ${code}, signal ${signal})`)))
    try {
      await waitForRecords(client, STREAM, LINES, 120000, { intervalMs: 1000, signal: died.signal })
    } catch (err) {
      assert.fail(`${err.message}\n${ferryOutputForHumans(ferry)}`)
    }
    // Let the last misplaced aggregates be sent again.
    await new Promise((r) => setTimeout(r, 1500))
    const { stdout } = await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])
    const counters = JSON.parse(stdout).flows[0].counters
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    const shards = await listShards(client, STREAM)
    assert.equal(shards.length, 4, 'the parent and its two children')
    const ranges = new Map(shards.map((s) => [s.ShardId, [BigInt(s.HashKeyRange.StartingHashKey), BigInt(s.HashKeyRange.EndingHashKey)]]))
    const records = await readAll(client, STREAM)
    // What a KCL consumer keeps: raw records, and sub-records inside their shard's range.
    const kept = records.filter((r) => {
      if (!r.aggregated) return true
      const [lo, hi] = ranges.get(r.shardId)
      const h = hashKeyOf(r.partitionKey)
      return h >= lo && h <= hi
    })
    const seen = new Map()
    for (const r of kept) seen.set(r.data.toString(), (seen.get(r.data.toString()) || 0) + 1)
    const missing = []
    for (let i = 0; i < LINES; i++) if (!seen.has(line(i))) missing.push(i)
    const copies = [...seen.values()].reduce((a, n) => a + n - 1, 0)
    t.diagnostic(
      `wrong_shard ${counters.wrong_shard}, resent ${counters.resent_records}, aggregates ${counters.aggregates}, ` +
        `records kept by a KCL consumer ${kept.length} of ${records.length}, extra copies ${copies}`,
    )
    assert.equal(missing.length, 0, `lines a KCL consumer never sees: ${missing.slice(0, 10).join(', ')}\n${ferryOutputForHumans(ferry)}`)
    assert.ok(counters.wrong_shard >= 1, 'ferry noticed the misplaced aggregates')
    assert.match(ferry.output.stderr, /3 open shards/, 'the new shard map is used')
    for (const r of records) assert.ok(seen.has(r.data.toString()) || r.aggregated, 'nothing but lines')
    passed = true
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else t.diagnostic(`kept ${tmp}`)
  }
})
