// lib/firehose_endpoint.mjs — an Amazon Data Firehose PutRecordBatch endpoint of the tests' own, on 127.0.0.1.
//
// Role: the Firehose peer for ferry's tests (no Firehose emulator speaks PutRecordBatch faithfully). It
// speaks JSON 1.1 (X-Amz-Target Firehose_20150804.PutRecordBatch), ENFORCES the API's hard limits and
// refuses what AWS refuses, the way AWS answers, so a ferry that breaks a limit fails its test instead of
// passing against a lenient stub:
//   - more than 500 records, or none      -> 400 ValidationException (at 'records')
//   - a record over 1,000 KiB decoded     -> 400 ValidationException (at 'records.N.member.data', N from 1)
//   - over 4 MiB of decoded data          -> 400 InvalidArgumentException "Records size exceeds 4 MB limit"
//   - another target, a missing or malformed SigV4 Authorization, a signature scoped to another service
//     than "firehose" (or, given credentials, a wrong signature), another content type, a body that is
//     not the request's JSON shape -> the 400 AWS gives (UnknownOperationException,
//     MissingAuthenticationTokenException, IncompleteSignatureException, InvalidSignatureException,
//     UnrecognizedClientException, SerializationException)
// Sources: the PutRecordBatch API reference (500 records, 1,000 KB per record before base64, 4 MB per
// request; the Kinesis Agent's FirehoseConstants uses 1000 * 1024 and 4 * 1024 * 1024); the messages AWS
// returns are as users have reported them (osquery/osquery#3568, postmates/cernan#210).
// Every refused request is also listed in ep.violations, so a test can assert that none happened.
//
// Requests that pass are put to a policy, and the records it does not fail are kept:
//
//   const ep = await startFirehoseEndpoint({ policy, credentials, region, deliveryStreams })
//   policy({ index, deliveryStreamName, records }) -> { status?, body?, throttle?, failRecord?(i), delayMs?, hang? }
//     index         0-based number of the request (refused ones count too)
//     records       [Buffer] decoded data, in request order
//     status/body   answer the whole request with that HTTP status and JSON body (e.g. 500 InternalFailure)
//     throttle      answer 503 {"__type":"ServiceUnavailableException","message":"Slow down."}
//     failRecord    per-record verdict: an ErrorCode string fails that record (ServiceUnavailableException
//                   comes with AWS's "Slow down."), null stores it
//     delayMs       wait before answering; hang: never answer
//   credentials     optional { accessKeyId, secretAccessKey }: signatures are then verified
//   region          optional: the credential scope must name it
//   deliveryStreams optional list of names that exist; others get 400 ResourceNotFoundException
//   ep.endpoint, ep.accepted (Buffers of stored records, in order), ep.lines() (their newline-separated
//   lines), ep.requests (count arrived), ep.log (answers: [{ index, status, records, bytes }]),
//   ep.violations ([{ index, kind, type, message }], kind one of target, signature, content-type, body,
//   no-records, records-per-request, record-bytes, request-bytes, delivery-stream),
//   ep.waitForRequests(n), ep.waitFor(predicate), ep.stop()
import crypto from 'node:crypto'
import http from 'node:http'

export const TARGET = 'Firehose_20150804.PutRecordBatch'
export const MAX_RECORDS = 500
export const MAX_RECORD_BYTES = 1000 * 1024
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024
const ACCOUNT = '123456789012'
const MAX_SKEW_MS = 15 * 60 * 1000 // SigV4: requests signed more than 15 minutes away are refused

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest()

// SigV4 header value normalisation: trimmed, runs of spaces collapsed.
const canonicalValue = (v) => v.trim().replace(/\s+/g, ' ')

function amzDateToMs(d) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d || '')
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

// Checks the Authorization header; returns null or [kind, __type, message].
function checkSignature(req, body, { credentials, region }) {
  const auth = req.headers.authorization
  if (!auth) return ['signature', 'MissingAuthenticationTokenException', 'Missing Authentication Token']
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(auth)
  if (!m) return ['signature', 'IncompleteSignatureException', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth}`]
  const [, keyId, date, scopeRegion, service, signedHeaders, signature] = m
  if (service !== 'firehose') return ['signature', 'InvalidSignatureException', `Credential should be scoped to correct service: 'firehose'. `]
  if (region && scopeRegion !== region) return ['signature', 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'. `]
  const names = signedHeaders.split(';')
  for (const required of ['host', 'x-amz-date']) {
    if (!names.includes(required)) return ['signature', 'InvalidSignatureException', `'${required}' must be a 'SignedHeader' in the AWS Authorization.`]
  }
  const amzDate = req.headers['x-amz-date']
  const when = amzDateToMs(amzDate)
  if (Number.isNaN(when) || amzDate.slice(0, 8) !== date) return ['signature', 'IncompleteSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate}'`]
  if (Math.abs(Date.now() - when) > MAX_SKEW_MS) return ['signature', 'InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than the 15 minutes the server allows`]
  if (!credentials) return null
  if (keyId !== credentials.accessKeyId) return ['signature', 'UnrecognizedClientException', 'The security token included in the request is invalid.']
  // Values of every signed header, in the order received (a repeated header is joined with commas).
  const values = new Map()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase()
    const value = canonicalValue(req.rawHeaders[i + 1])
    values.set(name, values.has(name) ? `${values.get(name)},${value}` : value)
  }
  const canonicalHeaders = names.map((n) => `${n}:${values.get(n) ?? ''}\n`).join('')
  const canonicalRequest = [req.method, '/', '', canonicalHeaders, signedHeaders, sha256(body)].join('\n')
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n')
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date)
  for (const part of [scopeRegion, service, 'aws4_request']) key = hmac(key, part)
  if (hmac(key, stringToSign).toString('hex') !== signature) {
    return ['signature', 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.']
  }
  return null
}

// Parses and validates the body as AWS's model validation and the service do; returns
// { error: [kind, __type, message] } or { deliveryStreamName, records }.
function checkBody(raw, deliveryStreams) {
  let body
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch (e) {
    return { error: ['body', 'SerializationException', `Start of structure or map found where not expected: ${e.message}`] }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: ['body', 'SerializationException', 'Start of list found where not expected'] }
  const { DeliveryStreamName: name, Records: list } = body
  if (name !== undefined && typeof name !== 'string') return { error: ['body', 'SerializationException', 'DeliveryStreamName must be a string'] }
  if (list !== undefined && !Array.isArray(list)) return { error: ['body', 'SerializationException', 'Records must be a list'] }
  const problems = [] // [kind, message], reported together like AWS's "N validation errors detected"
  if (name === undefined) problems.push(['body', "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"])
  else if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) problems.push(['body', `Value '${name}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 64`])
  if (list === undefined) problems.push(['no-records', "Value null at 'records' failed to satisfy constraint: Member must not be null"])
  else if (list.length === 0) problems.push(['no-records', "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"])
  else if (list.length > MAX_RECORDS) problems.push(['records-per-request', `Value '[${list.length} records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORDS}`])
  const records = []
  for (const [i, entry] of (list || []).entries()) {
    const data = entry && typeof entry === 'object' ? entry.Data : undefined
    if (typeof data !== 'string' || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
      return { error: ['body', 'SerializationException', `records.${i + 1}.member.data is not a base64 blob`] }
    }
    const bytes = Buffer.from(data, 'base64')
    if (bytes.length > MAX_RECORD_BYTES) {
      problems.push(['record-bytes', `Value 'java.nio.HeapByteBuffer[pos=0 lim=${bytes.length} cap=${bytes.length}]' at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`])
    }
    records.push(bytes)
  }
  if (problems.length > 0) {
    const n = problems.length
    const message = `${n} validation error${n > 1 ? 's' : ''} detected: ${problems.map((p) => p[1]).join('; ')}`
    return { error: [problems[0][0], 'ValidationException', message] }
  }
  if (deliveryStreams && !deliveryStreams.includes(name)) {
    return { error: ['delivery-stream', 'ResourceNotFoundException', `Firehose ${name} under account ${ACCOUNT} not found.`] }
  }
  if (records.reduce((n, r) => n + r.length, 0) > MAX_REQUEST_BYTES) {
    return { error: ['request-bytes', 'InvalidArgumentException', 'Records size exceeds 4 MB limit'] }
  }
  return { deliveryStreamName: name, records }
}

export async function startFirehoseEndpoint({ policy = () => ({}), credentials, region, deliveryStreams } = {}) {
  const accepted = []
  const log = []
  const violations = []
  let requests = 0
  const waiters = []
  const hung = []

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const index = requests++
      for (const w of waiters.splice(0)) w()
      const raw = Buffer.concat(chunks)
      const send = (status, body) => {
        log.push({ index, status, records: body.RequestResponses?.length ?? 0, bytes: raw.length })
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': crypto.randomUUID() })
        res.end(JSON.stringify(body))
        for (const w of waiters.splice(0)) w()
      }
      const refuse = ([kind, type, message]) => {
        violations.push({ index, kind, type, message })
        send(400, { __type: type, message })
      }

      const target = req.headers['x-amz-target']
      if (target !== TARGET) return refuse(['target', 'UnknownOperationException', `unknown operation: ${target}`])
      const badSignature = checkSignature(req, raw, { credentials, region })
      if (badSignature) return refuse(badSignature)
      if (!String(req.headers['content-type'] || '').startsWith('application/x-amz-json-1.1')) {
        return refuse(['content-type', 'SerializationException', `unexpected Content-Type: ${req.headers['content-type']}`])
      }
      const parsed = checkBody(raw, deliveryStreams)
      if (parsed.error) return refuse(parsed.error)

      const { deliveryStreamName, records } = parsed
      const verdict = policy({ index, deliveryStreamName, records }) || {}
      const answer = () => {
        if (verdict.throttle) return send(503, { __type: 'ServiceUnavailableException', message: 'Slow down.' })
        if (verdict.status) return send(verdict.status, verdict.body || {})
        let failed = 0
        const results = records.map((data, i) => {
          const code = verdict.failRecord ? verdict.failRecord(i) : null
          if (code) {
            failed++
            const message = code === 'ServiceUnavailableException' ? 'Slow down.' : `injected ${code}`
            return { ErrorCode: code, ErrorMessage: message }
          }
          accepted.push(data)
          return { RecordId: crypto.randomBytes(64).toString('base64') }
        })
        send(200, { FailedPutCount: failed, Encrypted: false, RequestResponses: results })
      }
      if (verdict.hang) hung.push(res)
      else if (verdict.delayMs) setTimeout(answer, verdict.delayMs)
      else answer()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()

  const waitFor = async (predicate, what, timeoutMs = 30000) => {
    const deadline = Date.now() + timeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accepted,
    log,
    violations,
    get requests() {
      return requests
    },
    // The stored data split into lines: ferry packs lines, each ending with '\n', into records.
    lines() {
      const text = Buffer.concat(accepted).toString('utf8')
      const lines = text.split('\n')
      if (lines[lines.length - 1] === '') lines.pop()
      return lines
    },
    // Resolves once at least n requests have arrived.
    waitForRequests(n, timeoutMs = 30000) {
      return waitFor(() => requests >= n, `${n} requests (${requests} so far)`, timeoutMs)
    },
    // Resolves once predicate() is true, checked after each answer and every 200 ms.
    waitFor(predicate, timeoutMs = 30000) {
      return waitFor(predicate, 'the condition', timeoutMs)
    },
    async stop() {
      for (const r of hung) r.destroy()
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
