// lib/put_records_endpoint.mjs — a Kinesis PutRecords endpoint of the tests' own, on 127.0.0.1.
//
// Role: the peer for behaviour kinesalite cannot show: per-record failures, HTTP errors and slow or
// missing answers. It speaks PutRecords (X-Amz-Target Kinesis_20131202.PutRecords) in JSON 1.1 or, when the
// request's Content-Type is application/x-amz-cbor-1.1, in CBOR 1.1 (Data a byte string), and answers in
// the protocol it was asked in. It keeps every record it accepted and asks a policy how to treat each request:
//
//   const ep = await startPutRecordsEndpoint({ policy, clockOffsetSeconds })
//   policy({ index, records }) -> { status?, body?, delayMs?, failRecord?(i) -> errorCode | null, hang?, reset? }
//     index       0-based number of the request
//     records     [{ data: Buffer, partitionKey }]
//     status/body answer the whole request with that HTTP status and body (an object, sent as JSON or
//                 CBOR like the rest of the answer) instead
//     failRecord  per-record verdict: an ErrorCode string fails that record, null stores it
//     delayMs     wait before answering; hang: never answer; reset: close the connection without an answer
//   ep.endpoint, ep.accepted (the user records' data, Buffers in arrival order: KPL aggregates are taken
//   apart, checksums verified), ep.kinesisRecords (records stored as PutRecords saw them), ep.requests
//   (PutRecords calls), ep.connections (TCP connections, handshakes that failed included), ep.protocols ({ json, cbor }: those calls by the protocol they came in),
//   ep.waitForRequests(n), ep.down() (an outage: the port refuses connections and open ones are cut until
//   ep.up()), ep.stop()
// clockOffsetSeconds plays a server whose clock is that far from the host's: its Date header says so, and
// like AWS it refuses (400 InvalidSignatureException, "Signature expired") a request whose X-Amz-Date is
// more than 5 minutes from its time. verifySignature: an issuer (lib/aws_credential_servers.mjs) that checks the
// SigV4 signature of every request (ListShards too): a request signed with an expired key is answered 400
// ExpiredTokenException, an unknown key or token 400 UnrecognizedClientException, a wrong signature 400
// InvalidSignatureException; ep.signatures is { acceptedByKey: { accessKeyId: requests }, rejected: [{ time,
// target, accessKeyId, error, message }] }. ListShards is answered with one open shard covering every hash key (ferry aggregates for it); those
// calls are neither counted nor shown to the policy.
// https: { key, cert } (PEM) serves HTTPS instead of HTTP; ep.endpoint then starts with https://.
// silent: true starts the endpoint silent: it accepts connections and reads requests but answers none
// (ListShards included), like a peer that hangs; ep.silence() and ep.speak() switch it. Requests held while
// silent are cut off (their connections closed, nothing stored) when it speaks again, so a client that
// already gave up on them cannot have them stored twice. ep.silentRequests counts the requests held, by
// X-Amz-Target. ep.listShardsCalls counts the ListShards calls answered. ep.acceptedAggregated runs parallel
// to ep.accepted: true where that user record came inside a KPL aggregate.
import http from 'node:http'
import nodeHttps from 'node:https'

import cbor from 'cbor'

import { userRecords } from './kinesis.mjs'

const JSON_TYPE = 'application/x-amz-json-1.1'
const CBOR_TYPE = 'application/x-amz-cbor-1.1'

const ONE_SHARD = {
  Shards: [
    {
      ShardId: 'shardId-000000000000',
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    },
  ],
}

// "20150830T123600Z" -> ms since the epoch.
function amzDateMs(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(s || ''))
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

export async function startPutRecordsEndpoint({ policy = () => ({}), clockOffsetSeconds = 0, verifySignature = null, https = null, silent = false } = {}) {
  const accepted = []
  const acceptedAggregated = []
  const silentRequests = {}
  const held = []
  let isSilent = silent
  let listShardsCalls = 0
  let requests = 0
  let kinesisRecords = 0
  const protocols = { json: 0, cbor: 0 }
  const signatures = { acceptedByKey: {}, rejected: [] }
  const waiters = []
  const hung = []
  const sockets = new Set()
  const server = (https ? nodeHttps : http).createServer(https || {}, (req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      if (isSilent) {
        const target = String(req.headers['x-amz-target'] || '')
        silentRequests[target] = (silentRequests[target] || 0) + 1
        held.push(res)
        return
      }
      if (clockOffsetSeconds) {
        const now = Date.now() + clockOffsetSeconds * 1000
        res.setHeader('Date', new Date(now).toUTCString())
        const signed = amzDateMs(req.headers['x-amz-date'])
        if (!(Math.abs(signed - now) <= 5 * 60 * 1000)) {
          const fmt = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          res.end(JSON.stringify({
            __type: 'InvalidSignatureException',
            message: `Signature expired: ${req.headers['x-amz-date']} is now earlier than ${fmt(now - 300000)} (${fmt(now)} - 5 min.)`,
          }))
          return
        }
      }
      if (verifySignature) {
        const v = verifySignature.verify(
          { method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) },
          { service: 'kinesis', now: Date.now() + clockOffsetSeconds * 1000 },
        )
        if (!v.ok) {
          signatures.rejected.push({ time: Date.now(), target: req.headers['x-amz-target'], accessKeyId: v.accessKeyId, error: v.error, message: v.message })
          const asCbor = String(req.headers['content-type'] || '').split(';')[0].trim() === CBOR_TYPE
          const error = { __type: v.error, message: v.message }
          res.writeHead(400, { 'content-type': asCbor ? CBOR_TYPE : JSON_TYPE })
          res.end(asCbor ? cbor.encodeOne(error) : JSON.stringify(error))
          return
        }
        signatures.acceptedByKey[v.accessKeyId] = (signatures.acceptedByKey[v.accessKeyId] || 0) + 1
      }
      if (req.headers['x-amz-target'] === 'Kinesis_20131202.ListShards') {
        listShardsCalls++
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify(ONE_SHARD))
        return
      }
      const index = requests++
      for (const w of waiters.splice(0)) w()
      const useCbor = String(req.headers['content-type'] || '').split(';')[0].trim() === CBOR_TYPE
      protocols[useCbor ? 'cbor' : 'json']++
      // Every answer goes back in the protocol of the request.
      const send = (status, value) => {
        res.writeHead(status, { 'content-type': useCbor ? CBOR_TYPE : JSON_TYPE })
        // encodeOne with room: cbor 5.2's encode() cuts its output at 16 KiB (an answer to ~300 records).
        res.end(useCbor ? cbor.encodeOne(value, { highWaterMark: 1 << 20 }) : JSON.stringify(value))
      }
      const target = req.headers['x-amz-target']
      if (target !== 'Kinesis_20131202.PutRecords' || !String(req.headers.authorization || '').startsWith('AWS4-HMAC-SHA256 ')) {
        send(400, { __type: 'UnknownOperationException', message: `bad target or no signature: ${target}` })
        return
      }
      let records
      if (useCbor) {
        let body
        try {
          body = cbor.decodeFirstSync(Buffer.concat(chunks))
        } catch (e) {
          send(400, { __type: 'SerializationException', message: `not CBOR: ${e.message}` })
          return
        }
        if (!Array.isArray(body?.Records) || !body.Records.every((r) => Buffer.isBuffer(r?.Data))) {
          send(400, { __type: 'SerializationException', message: 'Records must be maps whose Data is a byte string' })
          return
        }
        records = body.Records.map((r) => ({ data: r.Data, partitionKey: r.PartitionKey }))
      } else {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        records = body.Records.map((r) => ({ data: Buffer.from(r.Data, 'base64'), partitionKey: r.PartitionKey }))
      }
      const verdict = policy({ index, records }) || {}
      const answer = () => {
        if (verdict.status) {
          send(verdict.status, verdict.body || {})
          return
        }
        let failed = 0
        const results = records.map((r, i) => {
          const code = verdict.failRecord ? verdict.failRecord(i) : null
          if (code) {
            failed++
            return { ErrorCode: code, ErrorMessage: `injected ${code}` }
          }
          kinesisRecords++
          const seq = String(kinesisRecords)
          for (const u of userRecords('shardId-000000000000', { Data: r.data, PartitionKey: r.partitionKey, SequenceNumber: seq })) {
            accepted.push(u.data)
            acceptedAggregated.push(u.aggregated)
          }
          return { SequenceNumber: seq, ShardId: 'shardId-000000000000' }
        })
        send(200, { FailedRecordCount: failed, Records: results })
      }
      if (verdict.reset) req.socket.destroy()
      else if (verdict.hang) hung.push(res)
      else if (verdict.delayMs) setTimeout(answer, verdict.delayMs)
      else answer()
    })
  })
  let connections = 0
  server.on('connection', (socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  let isDown = false
  return {
    endpoint: `${https ? 'https' : 'http'}://127.0.0.1:${port}`,
    accepted,
    acceptedAggregated,
    signatures,
    silentRequests,
    get listShardsCalls() {
      return listShardsCalls
    },
    get isSilent() {
      return isSilent
    },
    silence() {
      isSilent = true
    },
    speak() {
      isSilent = false
      for (const res of held.splice(0)) res.destroy()
    },
    get requests() {
      return requests
    },
    // TCP connections accepted, those that never got as far as a request (a refused TLS handshake) too.
    get connections() {
      return connections
    },
    get kinesisRecords() {
      return kinesisRecords
    },
    get protocols() {
      return { ...protocols }
    },
    // Resolves once at least n requests have arrived.
    async waitForRequests(n, timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs
      while (requests < n) {
        if (Date.now() > deadline) throw new Error(`only ${requests} of ${n} requests arrived in ${timeoutMs} ms`)
        await new Promise((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 200)
        })
      }
    },
    get isDown() {
      return isDown
    },
    async down() {
      if (isDown) return
      isDown = true
      const closed = new Promise((resolve) => server.close(resolve))
      for (const socket of sockets) socket.destroy()
      for (const res of [...hung.splice(0), ...held.splice(0)]) res.destroy()
      await closed
    },
    async up() {
      if (!isDown) return
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      isDown = false
    },
    async stop() {
      if (isDown) return
      for (const res of [...hung, ...held]) res.destroy()
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
