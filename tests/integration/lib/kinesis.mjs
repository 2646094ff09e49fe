// lib/kinesis.mjs — the tests' own Kinesis client: create streams, read everything back.
//
// Role: the "other side" of ferry in the integration tests. Uses the real AWS SDK for JavaScript
// v3 against kinesalite (or any Kinesis endpoint) to create streams and to read every record
// that ferry put, so the tests can compare them byte for byte with the lines written.
//
// Why NodeHttpHandler: @aws-sdk/client-kinesis defaults to NodeHttp2Handler (HTTP/2, for
// SubscribeToShard). Against kinesalite's plain-HTTP/1.1 server that fails at once with
// "ERR_HTTP2_ERROR Protocol error" (checked by harness.test.mjs), so makeClient() passes an
// HTTP/1.1 handler explicitly.
//
// Records are returned as user records: KPL aggregated records are taken apart with AWS's own
// deaggregator (aws-kinesis-agg) with MD5 checksums verified, so a test sees the lines ferry read whether
// or not it aggregated them. Each is { shardId, sequenceNumber, subSequenceNumber, partitionKey,
// explicitHashKey, aggregated, data } with data a Buffer; for an aggregate, partitionKey and
// explicitHashKey are the user record's own (explicitHashKey null when it has none), and outerKey the
// aggregate's partition key.
import { createRequire } from 'node:module'
import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'

const { deaggregateSync } = createRequire(import.meta.url)('aws-kinesis-agg')
const KPL_MAGIC = Buffer.from('f3899ac2', 'hex')

export const TEST_REGION = 'us-east-1'
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTESTHARNESS', secretAccessKey: 'test-harness-secret' }

// Records per GetRecords call. Kinesis allows up to 10000 (kinesalite enforces that too), but real
// Kinesis also caps a response at 10 MiB, which kinesalite does not; 1000 keeps responses small.
const GET_RECORDS_LIMIT = 1000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function makeClient(endpoint) {
  return new KinesisClient({
    region: TEST_REGION,
    endpoint,
    credentials: TEST_CREDENTIALS,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 }),
    maxAttempts: 5, // the SDK retries throttling (ProvisionedThroughputExceeded) and 5xx itself
  })
}

// Create a stream and wait until it is ACTIVE (kinesalite-server makes that take ~50 ms).
export async function createStream(client, name, shardCount, timeoutMs = 30000) {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { StreamDescriptionSummary: s } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))
    if (s.StreamStatus === 'ACTIVE') return s
    if (Date.now() > deadline) throw new Error(`stream ${name} still ${s.StreamStatus} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

// All shards of a stream (ListShards, following NextToken).
export async function listShards(client, name) {
  const shards = []
  let input = { StreamName: name }
  for (;;) {
    const out = await client.send(new ListShardsCommand(input))
    shards.push(...(out.Shards || []))
    if (!out.NextToken) return shards
    input = { NextToken: out.NextToken } // StreamName must not be sent together with NextToken
  }
}

// Read one shard from a starting position until it is drained: a GetRecords that returns no
// records while MillisBehindLatest is 0, or no NextShardIterator (a closed shard read to its end).
// start: { type: 'TRIM_HORIZON' } or { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber }.
export async function readShard(client, name, shardId, start = { type: 'TRIM_HORIZON' }, { decode } = {}) {
  const { ShardIterator } = await client.send(
    new GetShardIteratorCommand({
      StreamName: name,
      ShardId: shardId,
      ShardIteratorType: start.type,
      StartingSequenceNumber: start.sequenceNumber,
    }),
  )
  const records = []
  let iterator = ShardIterator
  while (iterator) {
    const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }))
    for (const r of out.Records || []) {
      records.push(...userRecords(shardId, r, decode))
    }
    if ((out.Records || []).length === 0 && out.MillisBehindLatest === 0) break
    iterator = out.NextShardIterator
  }
  return records
}

// The user records in one Kinesis record: itself when it is not a KPL aggregate, else its sub-records,
// checked against the aggregate's MD5 (a bad checksum throws). decode (optional) turns the record's data
// into what the producer packed, e.g. gunzip for a stream ferry sends compressed.
export function userRecords(shardId, r, decode) {
  const data = decode ? decode(Buffer.from(r.Data)) : Buffer.from(r.Data) // a copy: r.Data is a Uint8Array
  const base = { shardId, sequenceNumber: r.SequenceNumber, outerKey: r.PartitionKey }
  if (data.length < 20 || !data.subarray(0, 4).equals(KPL_MAGIC)) {
    return [{ ...base, subSequenceNumber: null, partitionKey: r.PartitionKey, explicitHashKey: null, aggregated: false, data }]
  }
  // The explicit hash key each sub-record really has: aws-kinesis-agg reports the first table entry for a
  // record without one, so the index is read from the protobuf here.
  const explicit = explicitHashKeys(data)
  let out
  deaggregateSync({ partitionKey: r.PartitionKey, data: data.toString('base64') }, true, (err, users) => {
    if (err) throw new Error(`shard ${shardId} record ${r.SequenceNumber}: ${err.message}`)
    out = users.map((u, i) => ({
      ...base,
      subSequenceNumber: u.subSequenceNumber,
      partitionKey: u.partitionKey,
      explicitHashKey: explicit[i],
      aggregated: true,
      data: Buffer.from(u.data, 'base64'),
    }))
  })
  return out
}

// Per sub-record of an aggregate, its explicit hash key or null; a minimal protobuf walk of
// AggregatedRecord (field 2: the key table; field 3: records, whose field 2 is the key's index).
function explicitHashKeys(aggregate) {
  const buf = aggregate.subarray(4, aggregate.length - 16)
  let pos = 0
  const varint = (b) => {
    let v = 0n
    let shift = 0n
    for (;;) {
      const byte = b[pos++]
      v |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return v
      shift += 7n
    }
  }
  const table = []
  const indexes = []
  while (pos < buf.length) {
    const tag = Number(varint(buf))
    const field = tag >> 3
    const len = Number(varint(buf))
    const body = buf.subarray(pos, pos + len)
    pos += len
    if (field === 2) table.push(body.toString('utf8'))
    if (field === 3) {
      let index = null
      const outer = pos
      pos = 0
      while (pos < body.length) {
        const t = Number(varint(body))
        if ((t & 7) === 0) {
          const v = varint(body)
          if (t >> 3 === 2) index = Number(v)
        } else {
          const l = Number(varint(body))
          pos += l
        }
      }
      pos = outer
      indexes.push(index)
    }
  }
  return indexes.map((i) => (i === null ? null : table[i]))
}

// Every record in the stream: all shards, each from TRIM_HORIZON, in shard then sequence order.
export async function readAll(client, name, { decode } = {}) {
  const all = []
  for (const shard of await listShards(client, name)) {
    all.push(...(await readShard(client, name, shard.ShardId, undefined, { decode })))
  }
  return all
}

// Poll until the stream holds at least `count` records or `timeoutMs` passes, then return all
// the records read (fewer than `count` on timeout: the caller asserts and reports).
// Reads incrementally: each poll continues every shard after the last sequence number seen.
// Options: intervalMs between polls; signal (AbortSignal) to give up early, e.g. when the process
// under test dies — the promise then rejects with signal.reason; decode as for userRecords.
export async function waitForRecords(client, name, count, timeoutMs, { intervalMs = 250, signal, decode } = {}) {
  const deadline = Date.now() + timeoutMs
  const perShard = new Map() // shardId -> records read so far, in order
  let total = 0
  for (;;) {
    signal?.throwIfAborted()
    for (const shard of await listShards(client, name)) {
      const seen = perShard.get(shard.ShardId) || []
      const last = seen[seen.length - 1]
      const start = last ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: last.sequenceNumber } : { type: 'TRIM_HORIZON' }
      const fresh = await readShard(client, name, shard.ShardId, start, { decode })
      for (const r of fresh) seen.push(r)
      total += fresh.length
      perShard.set(shard.ShardId, seen)
    }
    if (total >= count || Date.now() >= deadline) break
    await sleepOrAbort(Math.min(intervalMs, Math.max(0, deadline - Date.now())), signal)
  }
  return [...perShard.values()].flat()
}

function sleepOrAbort(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
