// billing.test.mjs — what AWS bills for a flow, as `ferry status` counts it, against what the endpoint
// received, computed here independently.
//
// Role: proves the billing counters (NOTES.md, "Billing") end to end. Kinesis: ferry -> kinesalite, the
// stream read back raw (each Kinesis record as stored: ceil(bytes / 25,600) PUT payload units, at least
// 1) and taken apart with aws-kinesis-agg (each user record as if sent alone); Firehose: ferry -> the
// tests' own PutRecordBatch endpoint (each record rounded up to 5,120 bytes, at least 5,120; each line
// with its newline as its own record). Lines sit at the rounding edges (5,119..5,121, 25,599..25,601
// bytes). Both `ferry status --json` and the text report's billing line are checked.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, listShards, userRecords, waitForRecords } from './lib/kinesis.mjs'
import { ferryStatus, yamlQuote, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const EDGE_LINES = [5119, 5120, 5121, 25599, 25600, 25601, 51200, 51201, 70000]
const LINES = 8000

const payloadUnits = (bytes) => Math.max(1, Math.ceil(bytes / 25600))
const billedBytes = (bytes) => Math.max(1, Math.ceil(bytes / 5120)) * 5120
const sum = (xs) => xs.reduce((a, b) => a + b, 0)
const thousands = (n) => n.toLocaleString('en-US')

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-billing-'))
  temps.push(tmp)
  return tmp
}

// The flow's counters once ferry has counted `count` user records acknowledged.
async function countersWhenSent(stateDir, count, ferry) {
  const deadline = Date.now() + 60000
  for (;;) {
    const counters = (await ferryStatus(stateDir)).flows[0].counters
    if (counters.records_sent >= count) return counters
    if (Date.now() > deadline) assert.fail(`ferry counted ${counters.records_sent} of ${count}\n${ferryOutputForHumans(ferry)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function statusText(stateDir) {
  return ferryStatus(stateDir, { json: false })
}

// Every Kinesis record of the stream as stored, not taken apart.
async function readRaw(client, stream) {
  const out = []
  for (const shard of await listShards(client, stream)) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    )
    while (iterator) {
      const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }))
      for (const r of got.Records || []) out.push({ shardId: shard.ShardId, r })
      if ((got.Records || []).length === 0 && got.MillisBehindLatest === 0) break
      iterator = got.NextShardIterator
    }
  }
  return out
}

test('Kinesis: PUT payload units of the records stored, and of their lines sent alone', { timeout: 120000 }, async (t) => {
  const tmp = tempDir()
  const stream = 'ferry-billing'
  const kinesalite = await startKinesalite()
  let ferry
  try {
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, stream, 2)
    const lines = generateLines(LINES, { longLines: EDGE_LINES })
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, fileContents(lines))
    const stateDir = path.join(tmp, 'state')
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream, files: [logPath] })
    ferry = startFerry(configPath)
    await waitForRecords(client, stream, lines.length, 60000, { intervalMs: 500 })
    const counters = await countersWhenSent(stateDir, lines.length, ferry)
    const text = await statusText(stateDir)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    const raw = await readRaw(client, stream)
    const users = raw.flatMap(({ shardId, r }) => userRecords(shardId, r))
    const cmp = compareRecords(lines, users)
    assert.ok(cmp.ok, describeMismatch(cmp)) // each line once: no record was stored twice
    const units = sum(raw.map(({ r }) => payloadUnits(r.Data.length)))
    const alone = sum(users.map((u) => payloadUnits(u.data.length)))
    t.diagnostic(`${lines.length} lines in ${raw.length} Kinesis records: ${units} PUT payload units, ${alone} one per line`)
    assert.equal(counters.kinesis_records_sent, raw.length)
    assert.equal(counters.put_payload_units, units)
    assert.equal(counters.put_payload_units_unaggregated, alone)
    assert.ok(units < alone / 10, 'aggregation saves most units')
    const saved = ((100 * (alone - units)) / alone).toFixed(1)
    assert.ok(
      text.includes(`billing: ${thousands(units)} PUT payload units for ${thousands(lines.length)} lines (${thousands(alone)} if sent one per line: ${saved}% saved)`),
      text,
    )
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await kinesalite.stop()
  }
})

test('Firehose: billed bytes of the records stored, and of their lines sent alone', { timeout: 120000 }, async (t) => {
  const tmp = tempDir()
  const credentials = { accessKeyId: 'AKIDBILLINGTEST', secretAccessKey: 'billing-test-secret' }
  const ep = await startFirehoseEndpoint({ credentials, region: 'eu-west-1', deliveryStreams: ['billing'] })
  let ferry
  try {
    const lines = generateLines(LINES, { longLines: EDGE_LINES })
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, fileContents(lines))
    const stateDir = path.join(tmp, 'state')
    const configPath = path.join(tmp, 'ferry.yaml')
    fs.writeFileSync(
      configPath,
      [
        `state_dir: ${yamlQuote(stateDir)}`,
        `aws:`,
        `  region: eu-west-1`,
        `  access_key_id: ${credentials.accessKeyId}`,
        `  secret_access_key: ${credentials.secretAccessKey}`,
        `  firehose_endpoint: ${yamlQuote(ep.endpoint)}`,
        `flows:`,
        `  - name: billing`,
        `    files: [${yamlQuote(logPath)}]`,
        `    start_at: beginning`,
        `    firehose: { delivery_stream: billing }`,
      ].join('\n') + '\n',
    )
    ferry = startFerry(configPath)
    const counters = await countersWhenSent(stateDir, lines.length, ferry)
    const text = await statusText(stateDir)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    // Each record is lines, each ending in '\n'; sent alone, a line would be a record of its bytes and newline.
    const records = ep.accepted
    const lineBytes = []
    for (const record of records) {
      let start = 0
      for (let i = record.indexOf(0x0a); i !== -1; i = record.indexOf(0x0a, start)) {
        lineBytes.push(i + 1 - start)
        start = i + 1
      }
    }
    assert.equal(lineBytes.length, lines.length)
    const billed = sum(records.map((r) => billedBytes(r.length)))
    const alone = sum(lineBytes.map(billedBytes))
    t.diagnostic(`${lines.length} lines in ${records.length} Firehose records: ${billed} bytes billed, ${alone} one per line`)
    assert.equal(counters.firehose_records_sent, records.length)
    assert.equal(counters.billed_bytes, billed)
    assert.equal(counters.billed_bytes_unaggregated, alone)
    const saved = ((100 * (alone - billed)) / alone).toFixed(1)
    assert.ok(
      text.includes(`billing: ${thousands(billed)} bytes billed for ${thousands(lines.length)} lines (${thousands(alone)} if sent one per line: ${saved}% saved)`),
      text,
    )
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})
