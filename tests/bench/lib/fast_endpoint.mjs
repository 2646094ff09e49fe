// lib/fast_endpoint.mjs — a Kinesis and Firehose endpoint cheap enough to measure ferry's throughput against.
//
// Role: the peer of tests/bench/throughput.mjs. It runs in a node process of its own (forked by
// startFastEndpoint) so that its CPU time is measured apart from ferry's and it can use another core. It
// answers, on 127.0.0.1 over HTTP, every call ferry makes as AWS would when all goes well:
//   Kinesis_20131202.PutRecords     JSON 1.1 (Data in base64) or CBOR 1.1 (Data a byte string), chosen by the
//                                   request's Content-Type and answered in kind: every record stored
//   Kinesis_20131202.ListShards     one open shard covering every hash key
//   Firehose_20150804.PutRecordBatch JSON 1.1: every record stored
// It keeps no records, only counts: requests, records, payload bytes (decoded data) and user lines. A
// Kinesis record that is a KPL aggregate (magic F3 89 9A C2) counts the `records` entries of its
// AggregatedRecord, found by a walk over the protobuf keys (no deaggregation, no MD5 check); another
// Kinesis record is one line; a Firehose record counts its newlines.
//
//   const ep = await startFastEndpoint({ expectedLines })
//   ep.url, ep.pid
//   await ep.counts()  -> { requests, records, payloadBytes, lines, errors, firstAt, halfAt, doneAt }
//   await ep.done      -> the counts, once `lines` has reached expectedLines (doneAt: the time it did)
//   await ep.stop()
// The *At times are Date.now() values of the endpoint's process when that request was answered.
import { fork } from 'node:child_process'
import http from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const JSON_TYPE = 'application/x-amz-json-1.1'
const CBOR_TYPE = 'application/x-amz-cbor-1.1'
const KPL_MAGIC = 0xf3899ac2
const KPL_MAGIC_BYTES = 4
const KPL_MD5_BYTES = 16
const RECORDS_FIELD = 3 // AggregatedRecord.records
const SHARD_ID = 'shardId-000000000000'
const ONE_SHARD = {
  Shards: [
    {
      ShardId: SHARD_ID,
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    },
  ],
}

// Parent side: fork this file as the endpoint and wait until it listens.
export async function startFastEndpoint({ expectedLines }) {
  const child = fork(fileURLToPath(import.meta.url), [String(expectedLines)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const killOnExit = () => child.kill('SIGKILL')
  process.on('exit', killOnExit)
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  exited.then(() => process.removeListener('exit', killOnExit))
  const countWaiters = []
  let resolveDone
  const done = new Promise((resolve) => (resolveDone = resolve))
  child.on('message', (m) => {
    if (m.type === 'counts') countWaiters.shift()?.(m.counts)
    else if (m.type === 'done') resolveDone(m.counts)
  })
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => (m.type === 'listening' ? resolve(m.port) : reject(new Error(`endpoint said ${m.type}`))))
    exited.then(({ code, signal }) => reject(new Error(`endpoint exited before listening (code ${code}, signal ${signal})`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    done,
    exited,
    counts() {
      return new Promise((resolve) => {
        countWaiters.push(resolve)
        child.send({ type: 'counts' })
      })
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

// The user records in one Kinesis record's data: the `records` entries of a KPL aggregate, else 1.
export function kinesisLines(data) {
  if (data.length < KPL_MAGIC_BYTES + KPL_MD5_BYTES || data.readUInt32BE(0) !== KPL_MAGIC) return 1
  const end = data.length - KPL_MD5_BYTES
  let pos = KPL_MAGIC_BYTES
  const varint = () => {
    let value = 0
    let scale = 1
    let byte
    do {
      if (pos >= end) throw new Error('AggregatedRecord: varint runs past the end')
      byte = data[pos++]
      value += (byte & 0x7f) * scale
      scale *= 128
    } while (byte & 0x80)
    return value
  }
  let records = 0
  while (pos < end) {
    const key = varint()
    const wireType = key % 8
    if (wireType === 2) {
      pos += varint()
      if (Math.floor(key / 8) === RECORDS_FIELD) records++
    } else if (wireType === 0) varint()
    else if (wireType === 1) pos += 8
    else if (wireType === 5) pos += 4
    else throw new Error(`AggregatedRecord: wire type ${wireType} at byte ${pos}`)
  }
  if (pos !== end) throw new Error('AggregatedRecord: a field runs into the MD5 trailer')
  return records
}

// The newlines in a Firehose record's data.
function newlines(data) {
  let n = 0
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++
  return n
}

// Child side: serve until SIGTERM or until the parent goes away.
function serve(expectedLines) {
  const cbor = createRequire(new URL('../../integration/package.json', import.meta.url))('cbor')
  const counts = { requests: 0, records: 0, payloadBytes: 0, lines: 0, errors: 0, firstAt: null, halfAt: null, doneAt: null }
  let sequence = 0

  const store = (datas, linesOf) => {
    counts.requests++
    counts.records += datas.length
    for (const data of datas) {
      counts.payloadBytes += data.length
      counts.lines += linesOf(data)
    }
    const now = Date.now()
    counts.firstAt ??= now
    if (counts.halfAt === null && counts.lines * 2 >= expectedLines) counts.halfAt = now
    if (counts.doneAt === null && counts.lines >= expectedLines) {
      counts.doneAt = now
      process.send({ type: 'done', counts })
    }
  }
  const putRecords = (body, useCbor) => {
    const datas = body.Records.map((r) => (useCbor ? r.Data : Buffer.from(r.Data, 'base64')))
    if (useCbor && !datas.every(Buffer.isBuffer)) throw new Error('Data must be a byte string')
    store(datas, kinesisLines)
    return { FailedRecordCount: 0, Records: datas.map(() => ({ SequenceNumber: String(++sequence), ShardId: SHARD_ID })) }
  }
  const putRecordBatch = (body) => {
    const datas = body.Records.map((r) => Buffer.from(r.Data, 'base64'))
    store(datas, newlines)
    return { FailedPutCount: 0, Encrypted: false, RequestResponses: datas.map(() => ({ RecordId: String(++sequence) })) }
  }
  const operations = {
    'Kinesis_20131202.PutRecords': putRecords,
    'Kinesis_20131202.ListShards': () => ONE_SHARD,
    'Firehose_20150804.PutRecordBatch': putRecordBatch,
  }

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const useCbor = String(req.headers['content-type'] || '').split(';')[0].trim() === CBOR_TYPE
      const send = (status, value) => {
        res.writeHead(status, { 'content-type': useCbor ? CBOR_TYPE : JSON_TYPE })
        res.end(useCbor ? cbor.encode(value) : JSON.stringify(value))
      }
      const operation = operations[req.headers['x-amz-target']]
      if (!operation) {
        counts.errors++
        send(400, { __type: 'UnknownOperationException', message: `unknown target ${req.headers['x-amz-target']}` })
        return
      }
      let answer
      try {
        const raw = Buffer.concat(chunks)
        answer = operation(useCbor ? cbor.decodeFirstSync(raw) : JSON.parse(raw.toString('utf8')), useCbor)
      } catch (err) {
        counts.errors++
        send(400, { __type: 'SerializationException', message: err.message })
        return
      }
      send(200, answer)
    })
  })
  // Long keep-alive: ferry's pooled connections must not be closed under it mid-benchmark.
  server.keepAliveTimeout = 120000
  server.headersTimeout = 130000
  server.requestTimeout = 0
  process.on('message', (m) => {
    if (m.type === 'counts') process.send({ type: 'counts', counts })
  })
  process.on('disconnect', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(Number(process.argv[2]))
