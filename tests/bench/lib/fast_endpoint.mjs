// lib/fast_endpoint.mjs — a Kinesis and Firehose endpoint cheap enough to measure ferry's throughput against.
//
// Role: the peer of tests/bench/throughput.mjs. It runs in a node process of its own (forked by
// startFastEndpoint) so that its CPU time is measured apart from ferry's and it can use another core. It
// answers, on 127.0.0.1 over HTTP or HTTPS (with a key and certificate the parent made, e.g. with
// tests/integration/lib/test_ca.mjs), every call ferry makes as AWS would when all goes well:
//   Kinesis_20131202.PutRecords     JSON 1.1 (Data in base64) or CBOR 1.1 (Data a byte string), chosen by the
//                                   request's Content-Type and answered in kind: every record stored
//   Kinesis_20131202.ListShards     one open shard covering every hash key
//   Firehose_20150804.PutRecordBatch JSON 1.1: every record stored
// It keeps no records, only counts: requests, records, payload bytes (decoded data) and user lines. A
// Kinesis record that is a KPL aggregate (magic F3 89 9A C2) counts the `records` entries of its
// AggregatedRecord, found by a walk over the protobuf keys (no deaggregation, no MD5 check); another
// Kinesis record is one line; a Firehose record counts its newlines. To stay well below ferry's own CPU
// time it does not parse JSON bodies (it finds each "Data" in them and reads the base64 in place) and
// reuses one body buffer per connection; CBOR bodies are decoded with the `cbor` package.
//
//   const ep = await startFastEndpoint({ expectedLines, tls })
//                         tls: optional { keyFile, certFile } (PEM paths): serve HTTPS instead of HTTP
//   ep.url, ep.pid        url: http://127.0.0.1:PORT, or https://127.0.0.1:PORT with tls
//   await ep.counts()  -> { requests, records, payloadBytes, lines, errors, connections, idleMs, firstAt, halfAt,
//                           doneAt }
//                         connections: TCP connections accepted (ferry keeps its connections alive)
//                         idleMs: from the first record to the last line, the sum of the pauses of 100 ms or
//                         more with no request in flight (stalls, and waits for max_age at the end)
//   await ep.done      -> the counts, once `lines` has reached expectedLines (doneAt: the time it did)
//   await ep.refused   -> the reason, once a request has been answered with an error (ferry would retry it)
//   await ep.exited    -> { code, signal } of the endpoint's process
//   await ep.stop()
// The *At times are Date.now() values of the endpoint's process when that request was answered.
import { fork } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const JSON_TYPE = 'application/x-amz-json-1.1'
const CBOR_TYPE = 'application/x-amz-cbor-1.1'
const KPL_MAGIC = 0xf3899ac2
const KPL_MAGIC_BYTES = 4
const KPL_MD5_BYTES = 16
const RECORDS_FIELD = 3 // AggregatedRecord.records
const CBOR_MAX_ANSWER = 1 << 20
const IDLE_MS = 100 // a pause with no request in flight this long or longer counts towards idleMs
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

// Parent side: fork this file as the endpoint and wait until it listens. The key and certificate go by
// path, so that the child reads them itself.
export async function startFastEndpoint({ expectedLines, tls = null }) {
  const args = [String(expectedLines), ...(tls ? [tls.keyFile, tls.certFile] : [])]
  const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const killOnExit = () => child.kill('SIGKILL')
  process.on('exit', killOnExit)
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  exited.then(() => process.removeListener('exit', killOnExit))
  const countWaiters = []
  let resolveDone, resolveRefused
  const done = new Promise((resolve) => (resolveDone = resolve))
  const refused = new Promise((resolve) => (resolveRefused = resolve))
  child.on('message', (m) => {
    if (m.type === 'counts') countWaiters.shift()?.(m.counts)
    else if (m.type === 'done') resolveDone(m.counts)
    else if (m.type === 'refused') resolveRefused(m.reason)
  })
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => (m.type === 'listening' ? resolve(m.port) : reject(new Error(`endpoint said ${m.type}`))))
    exited.then(({ code, signal }) => reject(new Error(`endpoint exited before listening (code ${code}, signal ${signal})`)))
  })
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    pid: child.pid,
    done,
    refused,
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

// ---- counting without decoding: base64 is read a quad at a time, only where a count needs a byte ----

const BASE64 = new Uint8Array(256) // value of each base64 character; '=' (and anything else) 0
for (const [value, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  BASE64[c.charCodeAt(0)] = value
}
// The 24 bits of the base64 quad at text[q].
const quadBits = (text, q) => (BASE64[text[q]] << 18) | (BASE64[text[q + 1]] << 12) | (BASE64[text[q + 2]] << 6) | BASE64[text[q + 3]]
// Byte i of the data that base64 text from `start` encodes.
const base64Byte = (text, start, i) => (quadBits(text, start + Math.floor(i / 3) * 4) >> (16 - 8 * (i % 3))) & 0xff
// The length of the data that base64 text[start, end) encodes.
const base64Length = (text, start, end) => ((end - start) / 4) * 3 - (text[end - 1] === 0x3d ? 1 : 0) - (text[end - 2] === 0x3d ? 1 : 0)

// The newlines in the data that base64 text[start, end) encodes.
function base64Newlines(text, start, end) {
  let n = 0
  for (let q = start; q < end; q += 4) {
    const bits = quadBits(text, q)
    if (bits >> 16 === 10) n++
    if (((bits >> 8) & 0xff) === 10) n++
    if ((bits & 0xff) === 10) n++
  }
  return n
}

// The `records` entries of a KPL aggregate of `length` bytes (magic, AggregatedRecord, MD5), read through
// byteAt(i): a walk over the protobuf keys that skips every field's contents.
function aggregatedRecords(length, byteAt) {
  const end = length - KPL_MD5_BYTES
  let pos = KPL_MAGIC_BYTES
  const varint = () => {
    let value = 0
    let scale = 1
    let byte
    do {
      if (pos >= end) throw new Error('AggregatedRecord: varint runs past the end')
      byte = byteAt(pos++)
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
      const length = varint() // before `pos +=`, which would read pos ahead of the call
      pos += length
      if (Math.floor(key / 8) === RECORDS_FIELD) records++
    } else if (wireType === 0) varint()
    else if (wireType === 1) pos += 8
    else if (wireType === 5) pos += 4
    else throw new Error(`AggregatedRecord: wire type ${wireType} at byte ${pos}`)
  }
  if (pos !== end) throw new Error('AggregatedRecord: a field runs into the MD5 trailer')
  return records
}

const MIN_AGGREGATE = KPL_MAGIC_BYTES + KPL_MD5_BYTES

// The user lines in one Kinesis record's data, as a Buffer (CBOR): an aggregate's records, else 1.
function bufferLines(data) {
  if (data.length < MIN_AGGREGATE || data.readUInt32BE(0) !== KPL_MAGIC) return 1
  return aggregatedRecords(data.length, (i) => data[i])
}

// The same for data as base64 text[start, end) (JSON).
function base64Lines(text, start, end) {
  const length = base64Length(text, start, end)
  if (length < MIN_AGGREGATE || quadBits(text, start) !== KPL_MAGIC >>> 8 || quadBits(text, start + 4) >> 16 !== (KPL_MAGIC & 0xff)) return 1
  return aggregatedRecords(length, (i) => base64Byte(text, start, i))
}

// Calls fn(start, end) for the base64 text of every record's Data in a JSON 1.1 body; returns how many.
// The body is not parsed: this reads compact JSON with the base64 unescaped between its quotes, as ferry
// (rapidjson's Writer) and the AWS SDKs write it; '"Data":"' cannot occur inside a JSON string, where
// quotes are escaped.
const DATA_KEY = Buffer.from('"Data":"')
function forEachJsonData(body, fn) {
  let count = 0
  for (let at = body.indexOf(DATA_KEY); at !== -1; at = body.indexOf(DATA_KEY, at + DATA_KEY.length)) {
    const start = at + DATA_KEY.length
    const end = body.indexOf(0x22, start)
    if (end === -1 || (end - start) % 4 !== 0) throw new Error(`Data at byte ${start} is not base64 between quotes`)
    fn(start, end)
    count++
  }
  if (count === 0) throw new Error('no "Data":"..." in the body (this endpoint reads compact JSON only)')
  return count
}

// The request body, in a buffer kept per connection (a connection carries one request at a time) so that
// large bodies do not cost a fresh allocation each.
function readBody(req, onBody) {
  const socket = req.socket
  let length = 0
  req.on('data', (chunk) => {
    if (!socket.bodyBuffer || socket.bodyBuffer.length < length + chunk.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * (length + chunk.length), Number(req.headers['content-length']) || 0))
      socket.bodyBuffer?.copy(grown, 0, 0, length)
      socket.bodyBuffer = grown
    }
    length += chunk.copy(socket.bodyBuffer, length)
  })
  req.on('end', () => onBody(socket.bodyBuffer ? socket.bodyBuffer.subarray(0, length) : Buffer.alloc(0)))
}

// Child side: serve until SIGTERM or until the parent goes away; over HTTPS when given a key and a
// certificate file.
function serve(expectedLines, keyFile, certFile) {
  const cbor = createRequire(new URL('../../integration/package.json', import.meta.url))('cbor')
  const counts = {
    requests: 0, records: 0, payloadBytes: 0, lines: 0, errors: 0, connections: 0, idleMs: 0, firstAt: null, halfAt: null, doneAt: null,
  }
  let inFlight = 0
  let idleSince = null // while no request is in flight, since when
  let sequence = 0

  // Counts one request's records.
  const store = (records, bytes, lines) => {
    counts.requests++
    counts.records += records
    counts.payloadBytes += bytes
    counts.lines += lines
    const now = Date.now()
    counts.firstAt ??= now
    if (counts.halfAt === null && counts.lines * 2 >= expectedLines) counts.halfAt = now
    if (counts.doneAt === null && counts.lines >= expectedLines) {
      counts.doneAt = now
      process.send({ type: 'done', counts })
    }
  }
  const putRecords = (body, useCbor) => {
    let records = 0
    let bytes = 0
    let lines = 0
    if (useCbor) {
      for (const { Data } of cbor.decodeFirstSync(body).Records) {
        if (!Buffer.isBuffer(Data)) throw new Error('Data must be a byte string')
        records++
        bytes += Data.length
        lines += bufferLines(Data)
      }
    } else {
      records = forEachJsonData(body, (start, end) => {
        bytes += base64Length(body, start, end)
        lines += base64Lines(body, start, end)
      })
    }
    store(records, bytes, lines)
    return { FailedRecordCount: 0, Records: Array.from({ length: records }, () => ({ SequenceNumber: String(++sequence), ShardId: SHARD_ID })) }
  }
  const putRecordBatch = (body) => {
    let bytes = 0
    let lines = 0
    const records = forEachJsonData(body, (start, end) => {
      bytes += base64Length(body, start, end)
      lines += base64Newlines(body, start, end)
    })
    store(records, bytes, lines)
    return { FailedPutCount: 0, Encrypted: false, RequestResponses: Array.from({ length: records }, () => ({ RecordId: String(++sequence) })) }
  }
  const operations = {
    'Kinesis_20131202.PutRecords': putRecords,
    'Kinesis_20131202.ListShards': () => ONE_SHARD,
    'Firehose_20150804.PutRecordBatch': putRecordBatch,
  }

  const handler = (req, res) => {
    if (inFlight++ === 0 && idleSince !== null && counts.doneAt === null && Date.now() - idleSince >= IDLE_MS) {
      counts.idleMs += Date.now() - idleSince
    }
    res.on('finish', () => {
      if (--inFlight === 0 && counts.firstAt !== null) idleSince = Date.now()
    })
    readBody(req, (body) => {
      const useCbor = String(req.headers['content-type'] || '').split(';')[0].trim() === CBOR_TYPE
      const send = (status, value) => {
        res.writeHead(status, { 'content-type': useCbor ? CBOR_TYPE : JSON_TYPE })
        // encodeOne with a large highWaterMark: cbor.encode cuts its output at 16 KiB (cbor 5.2.0).
        res.end(useCbor ? cbor.encodeOne(value, { highWaterMark: CBOR_MAX_ANSWER }) : JSON.stringify(value))
      }
      const operation = operations[req.headers['x-amz-target']]
      const refuse = (type, message) => {
        counts.errors++
        process.send({ type: 'refused', reason: `${type}: ${message}` })
        send(400, { __type: type, message })
      }
      if (!operation) {
        refuse('UnknownOperationException', `unknown target ${req.headers['x-amz-target']}`)
        return
      }
      let answer
      try {
        answer = operation(body, useCbor)
      } catch (err) {
        refuse('SerializationException', err.message)
        return
      }
      send(200, answer)
    })
  }
  // https.Server takes the same keep-alive settings as http.Server: ferry's connections are reused either way.
  const server = keyFile
    ? https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, handler)
    : http.createServer(handler)
  server.on('connection', () => counts.connections++)
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

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(Number(process.argv[2]), process.argv[3], process.argv[4])
