// lib/load_client.mjs — a PutRecords load generator (a child process), to measure the endpoint.
//
// Role: harness.test.mjs checks that the tests' PutRecords endpoint keeps up with the writer's 20,000
// lines/s with room to spare. This script sends what ferry sends at most: requests of 500 records of
// lineFor(first..first+N) lines (~160 bytes, base64 in the JSON body), `concurrency` at a time over
// keep-alive HTTP/1.1 connections to 127.0.0.1, for `seconds`, and prints one JSON line:
//   { records, requests, seconds, recordsPerSecond, bodies, linesPerBody, first, last, sentPerBody: [n...] }
// The request bodies are built before the clock starts (BODIES of them, used in turn), so the client's own
// CPU goes to HTTP only. Exit status 1 (message on stderr) if any request fails.
//
//   node load_client.mjs <endpoint> [seconds=5] [concurrency=4] [first=1]
import http from 'node:http'
import { lineFor } from './lines.mjs'

const [endpoint, secondsArg = '5', concurrencyArg = '4', firstArg = '1'] = process.argv.slice(2)
const seconds = Number(secondsArg)
const concurrency = Number(concurrencyArg)
const first = Number(firstArg)
const BODIES = 20
const PER_BODY = 500

const bodies = []
for (let b = 0; b < BODIES; b++) {
  const Records = []
  for (let i = 0; i < PER_BODY; i++) {
    const seq = first + b * PER_BODY + i
    Records.push({ Data: Buffer.from(lineFor(seq), 'utf8').toString('base64'), PartitionKey: seq.toString(16).padStart(16, '0') })
  }
  bodies.push(Buffer.from(JSON.stringify({ StreamName: 'load', Records })))
}
const sentPerBody = new Array(BODIES).fill(0)

const url = new URL(endpoint)
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
function put(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'Kinesis_20131202.PutRecords',
          authorization: 'AWS4-HMAC-SHA256 Credential=AKIDLOAD/20240601/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
          'content-length': body.length,
        },
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`))
          const out = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          if (out.FailedRecordCount) return reject(new Error(`${out.FailedRecordCount} records failed`))
          resolve()
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

let records = 0
let requests = 0
let next = 0
const t0 = performance.now()
const end = t0 + seconds * 1000
try {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const b = next++ % BODIES
        await put(bodies[b])
        sentPerBody[b]++
        records += PER_BODY
        requests++
      }
    }),
  )
} catch (err) {
  process.stderr.write(`load_client: ${err.message}\n`)
  process.exit(1)
}
const elapsed = (performance.now() - t0) / 1000
agent.destroy()
process.stdout.write(
  JSON.stringify({
    records,
    requests,
    seconds: Number(elapsed.toFixed(3)),
    recordsPerSecond: Math.round(records / elapsed),
    bodies: BODIES,
    linesPerBody: PER_BODY,
    first,
    last: first + BODIES * PER_BODY - 1,
    sentPerBody,
  }) + '\n',
)
