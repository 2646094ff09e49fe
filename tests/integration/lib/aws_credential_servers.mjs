// lib/aws_credential_servers.mjs — fakes of the AWS services that hand out credentials, on 127.0.0.1.
//
// Role: the peers of ferry's credential provider chain that cannot run here: the EC2 instance metadata
// service (IMDSv2 with its token rules), the ECS container credentials endpoint, and STS
// (AssumeRole, AssumeRoleWithWebIdentity), plus an `issuer` shared by all of them and by the
// PutRecords endpoint (lib/put_records_endpoint.mjs, option verifySignature) so that credentials
// handed out here are the only ones a signed request is accepted with, and only until they expire.
//
//   const issuer = createIssuer()
//   issuer.issue({ lifetimeSeconds, temporary }) -> { accessKeyId, secretAccessKey, sessionToken, expiration: Date, ... }
//   issuer.register({ accessKeyId, secretAccessKey, sessionToken?, expiration? })  keys a test made up itself
//   issuer.verify(request, { now, service, region, normalize, maxSkewSeconds })
//       request: { method, url (path and query as sent), rawHeaders: [name, value, ...] | headers: {}, body }
//       -> { ok: true, accessKeyId, credentials } or { error: 'ExpiredTokenException' | 'UnrecognizedClientException'
//          | 'InvalidSignatureException' | 'IncompleteSignatureException', message, accessKeyId? }
//   issuer.expire(accessKeyId)  ends a credential set now (the server side of an early revocation)
//   issuer.secrets()            every secret key and session token issued or registered (for leak checks)
//   signRequest(request, credentials, { region, service, now })  a SigV4 client, for the self-tests
//
//   const imds = await startImds({ issuer, region, roleName, lifetimeSeconds, allowV1, tokenDisabled,
//                                  tokenDisabledStatus, delayMs, malformed, failCredentials })
//   const ecs  = await startContainerCredentials({ issuer, token, lifetimeSeconds, delayMs, malformed, fail })
//   const sts  = await startSts({ issuer, lifetimeSeconds, expectedWebIdentityToken, expectedExternalId,
//                                 expectedRoleArn, delayMs })
// Each server has .url, .requests ([{ method, path, headers, body, time }]), .options (the knobs, which a
// test may change while it runs), .issued (credential sets it handed out) and .close(). STS also keeps
// .calls ([{ action, params, signedBy, issued, error }]).
import crypto from 'node:crypto'
import http from 'node:http'

// ---------------------------------------------------------------------------------------------------
// Credentials

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+'

function randomString(alphabet, n) {
  const bytes = crypto.randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[bytes[i] % alphabet.length]
  return s
}

// ISO 8601 UTC without fractions, the way AWS writes Expiration: 2026-11-26T19:00:00Z.
export function isoSeconds(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function createIssuer({ defaultLifetimeSeconds = 3600 } = {}) {
  const known = new Map() // accessKeyId -> credentials
  const issued = []
  const issuer = {
    issued,
    // A new credential set. temporary: an ASIA key with a session token (STS, IMDS, ECS); otherwise an
    // AKIA key without one. Expiration is whole seconds, as AWS writes it, and is what verify() enforces.
    issue({ lifetimeSeconds = defaultLifetimeSeconds, temporary = true, source = 'issuer' } = {}) {
      const now = Date.now()
      const creds = {
        accessKeyId: (temporary ? 'ASIA' : 'AKIA') + randomString(UPPER_ALNUM, 16),
        secretAccessKey: randomString(SECRET_CHARS, 40),
        sessionToken: temporary ? 'IQoJb3JpZ2luX2Vj' + crypto.randomBytes(180).toString('base64') : undefined,
        issuedAt: new Date(now),
        expiration: lifetimeSeconds == null ? null : new Date(Math.floor((now + lifetimeSeconds * 1000) / 1000) * 1000),
        source,
      }
      known.set(creds.accessKeyId, creds)
      issued.push(creds)
      return creds
    },
    // Keys the test chose (config, environment, profile files): known to verify() from now on.
    register({ accessKeyId, secretAccessKey, sessionToken, expiration = null, source = 'registered' }) {
      const creds = {
        accessKeyId,
        secretAccessKey,
        sessionToken: sessionToken || undefined,
        issuedAt: new Date(),
        expiration: expiration == null ? null : new Date(expiration),
        source,
      }
      known.set(accessKeyId, creds)
      return creds
    },
    lookup(accessKeyId) {
      return known.get(accessKeyId)
    },
    expire(accessKeyId, at = Date.now()) {
      const c = known.get(accessKeyId)
      if (c) c.expiration = new Date(at)
    },
    isExpired(accessKeyId, now = Date.now()) {
      const c = known.get(accessKeyId)
      return !!c && c.expiration != null && now >= c.expiration.getTime()
    },
    secrets() {
      const out = []
      for (const c of known.values()) {
        out.push(c.secretAccessKey)
        if (c.sessionToken) out.push(c.sessionToken)
      }
      return out
    },
    accessKeyIds() {
      return [...known.keys()]
    },
    verify(request, opts = {}) {
      return verifySigV4(request, (id) => known.get(id), opts)
    },
  }
  return issuer
}

// ---------------------------------------------------------------------------------------------------
// SigV4

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex')
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest()

// RFC 3986 encoding of everything but the unreserved characters, as SigV4 wants it.
function uriEncode(s) {
  return Array.from(Buffer.from(String(s), 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b)
      return /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0')
    })
    .join('')
}

function percentDecode(s) {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

// The canonical URI of a path as sent. Non-S3 services encode the path as it was sent (so an encoded
// path is encoded twice) after removing dot segments and empty segments when normalize is on.
function canonicalUri(rawPath, normalize = true) {
  let p = rawPath || '/'
  if (normalize) {
    const out = []
    for (const seg of p.split('/')) {
      if (seg === '' || seg === '.') continue
      if (seg === '..') out.pop()
      else out.push(seg)
    }
    p = '/' + out.join('/') + (out.length && /\/\.{0,2}$/.test(p) ? '/' : '')
  }
  return p
    .split('/')
    .map((seg) => uriEncode(seg))
    .join('/')
}

function canonicalQuery(rawQuery) {
  if (!rawQuery) return ''
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=')
      const k = i < 0 ? p : p.slice(0, i)
      const v = i < 0 ? '' : p.slice(i + 1)
      return [uriEncode(percentDecode(k)), uriEncode(percentDecode(v))]
    })
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join('&')
}

// [name, value, name, value, ...] from a request's rawHeaders, or from a headers object.
function headerPairs(request) {
  if (Array.isArray(request.rawHeaders)) return request.rawHeaders
  const out = []
  for (const [k, v] of Object.entries(request.headers || {})) {
    for (const one of Array.isArray(v) ? v : [v]) out.push(k, String(one))
  }
  return out
}

function headerValues(pairs, name) {
  const vals = []
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i].toLowerCase() === name) vals.push(pairs[i + 1])
  return vals
}

// The canonical request of SigV4 for `request` with the given (lowercase, sorted) signed headers.
export function canonicalRequest(request, signedHeaders, { normalize = true, payloadHash } = {}) {
  const url = request.url || '/'
  const q = url.indexOf('?')
  const rawPath = q < 0 ? url : url.slice(0, q)
  const rawQuery = q < 0 ? '' : url.slice(q + 1)
  const pairs = headerPairs(request)
  const lines = signedHeaders.map((name) => {
    const vals = headerValues(pairs, name).map((v) => String(v).trim().replace(/\s+/g, ' '))
    return `${name}:${vals.join(',')}`
  })
  const body = request.body == null ? Buffer.alloc(0) : request.body
  return [
    String(request.method || 'GET').toUpperCase(),
    canonicalUri(rawPath, normalize),
    canonicalQuery(rawQuery),
    lines.join('\n') + '\n',
    signedHeaders.join(';'),
    payloadHash || sha256hex(body),
  ].join('\n')
}

export function stringToSign(amzDate, scope, canonical) {
  return ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n')
}

export function signingKey(secret, date, region, service) {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request')
}

// "20150830T123600Z" -> ms, NaN if it is not one.
export function amzDateMs(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(s || ''))
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

export function amzDate(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
}

function parseAuthorization(value) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(String(value || ''))
  if (!m) return null
  const fields = {}
  for (const part of m[1].split(',')) {
    const i = part.indexOf('=')
    if (i > 0) fields[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) return null
  const cred = fields.Credential.split('/')
  if (cred.length !== 5 || cred[4] !== 'aws4_request') return null
  return {
    accessKeyId: cred[0],
    date: cred[1],
    region: cred[2],
    service: cred[3],
    scope: cred.slice(1).join('/'),
    signedHeaders: fields.SignedHeaders.split(';'),
    signature: fields.Signature,
  }
}

function verifySigV4(request, lookup, { now = Date.now(), service, region, normalize = true, maxSkewSeconds = 300 } = {}) {
  const pairs = headerPairs(request)
  const auth = headerValues(pairs, 'authorization')[0]
  if (!auth) return { error: 'IncompleteSignatureException', message: 'Authorization header is missing' }
  const a = parseAuthorization(auth)
  if (!a) return { error: 'IncompleteSignatureException', message: `Authorization header is not a SigV4 header: ${String(auth).slice(0, 40)}` }
  const { accessKeyId } = a
  const sorted = [...a.signedHeaders].sort()
  if (sorted.join(';') !== a.signedHeaders.join(';') || a.signedHeaders.some((h) => h !== h.toLowerCase())) {
    return { error: 'InvalidSignatureException', accessKeyId, message: 'SignedHeaders must be lowercase and sorted' }
  }
  if (!a.signedHeaders.includes('host')) {
    return { error: 'InvalidSignatureException', accessKeyId, message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization." }
  }
  const xDate = headerValues(pairs, 'x-amz-date')[0]
  let dateStr = xDate
  if (!dateStr) {
    const d = headerValues(pairs, 'date')[0]
    dateStr = d ? amzDate(Date.parse(d)) : undefined
  }
  const signedAt = amzDateMs(dateStr)
  if (Number.isNaN(signedAt)) return { error: 'IncompleteSignatureException', accessKeyId, message: 'no valid X-Amz-Date or Date header' }
  if (!a.signedHeaders.includes(xDate ? 'x-amz-date' : 'date')) {
    return { error: 'InvalidSignatureException', accessKeyId, message: 'the date header is not signed' }
  }
  if (dateStr.slice(0, 8) !== a.date) {
    return { error: 'InvalidSignatureException', accessKeyId, message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${a.date}' != '${dateStr.slice(0, 8)}'` }
  }
  if (service && a.service !== service) {
    return { error: 'InvalidSignatureException', accessKeyId, message: `Credential should be scoped to correct service: '${service}'.` }
  }
  if (region && a.region !== region) {
    return { error: 'InvalidSignatureException', accessKeyId, message: `Credential should be scoped to a valid region, not '${a.region}'.` }
  }
  if (maxSkewSeconds != null && Math.abs(signedAt - now) > maxSkewSeconds * 1000) {
    return { error: 'InvalidSignatureException', accessKeyId, message: `Signature expired: ${dateStr} is too far from ${amzDate(now)}` }
  }
  const creds = lookup(accessKeyId)
  if (!creds) return { error: 'UnrecognizedClientException', accessKeyId, message: 'The security token included in the request is invalid.' }
  const token = headerValues(pairs, 'x-amz-security-token')[0]
  if ((creds.sessionToken || undefined) !== (token || undefined)) {
    return {
      error: 'UnrecognizedClientException',
      accessKeyId,
      message: creds.sessionToken ? (token ? 'The security token included in the request is invalid.' : 'the temporary key was used without its X-Amz-Security-Token') : 'The security token included in the request is invalid.',
    }
  }
  if (creds.expiration && now >= creds.expiration.getTime()) {
    return { error: 'ExpiredTokenException', accessKeyId, message: 'The security token included in the request is expired' }
  }
  const canonical = canonicalRequest(request, a.signedHeaders, { normalize })
  const sts = stringToSign(dateStr, a.scope, canonical)
  const expected = crypto.createHmac('sha256', signingKey(creds.secretAccessKey, a.date, a.region, a.service)).update(sts).digest('hex')
  const given = Buffer.from(String(a.signature))
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, Buffer.from(expected))) {
    return {
      error: 'InvalidSignatureException',
      accessKeyId,
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      canonicalRequest: canonical,
      stringToSign: sts,
    }
  }
  return { ok: true, accessKeyId, credentials: creds, service: a.service, region: a.region }
}

// Signs request ({ method, url, headers: {lowercase: value}, body }) in place: adds host (from `host`),
// x-amz-date, x-amz-security-token and authorization; every header present is signed. Returns request.
export function signRequest(request, credentials, { region = 'us-east-1', service, now = Date.now(), host } = {}) {
  const headers = { ...(request.headers || {}) }
  if (host) headers.host = host
  const date = amzDate(now)
  headers['x-amz-date'] = date
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken
  for (const k of Object.keys(headers)) {
    if (k !== k.toLowerCase()) throw new Error(`signRequest: header names must be lowercase (${k})`)
  }
  const signed = Object.keys(headers).filter((k) => k !== 'authorization').sort()
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`
  const canonical = canonicalRequest({ ...request, headers }, signed)
  const sig = crypto.createHmac('sha256', signingKey(credentials.secretAccessKey, date.slice(0, 8), region, service)).update(stringToSign(date, scope, canonical)).digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${sig}`
  request.headers = headers
  return request
}

// ---------------------------------------------------------------------------------------------------
// Server plumbing

async function startServer(handler) {
  const requests = []
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const entry = { method: req.method, path: req.url, headers: { ...req.headers }, body: body.toString('utf8'), time: Date.now() }
      requests.push(entry)
      Promise.resolve()
        .then(() => handler(req, res, body, entry))
        .catch((err) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(`fake server error: ${err.message}`)
        })
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function reply(res, status, body, type = 'text/plain') {
  if (res.destroyed) return
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

// ---------------------------------------------------------------------------------------------------
// EC2 instance metadata service

export async function startImds(opts = {}) {
  const o = {
    issuer: null,
    region: 'us-east-1',
    roleName: 'ferry-instance-role',
    lifetimeSeconds: 3600,
    allowV1: undefined, // default: only when tokenDisabled
    tokenDisabled: false,
    tokenDisabledStatus: 403,
    delayMs: 0,
    malformed: false,
    failCredentials: false,
    ...opts,
  }
  if (!o.issuer) throw new Error('startImds: an issuer is required')
  const tokens = new Map() // token -> expiry ms
  const issued = []
  const tokenRequests = []
  const srv = await startServer(async (req, res, body, entry) => {
    if (o.delayMs) await sleep(o.delayMs)
    const path = req.url.split('?')[0]
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(res, 405, 'Method Not Allowed')
      if (req.headers['x-forwarded-for'] !== undefined) return reply(res, 403, 'Forbidden')
      if (o.tokenDisabled) return reply(res, o.tokenDisabledStatus, o.tokenDisabledStatus === 405 ? 'Method Not Allowed' : 'Forbidden')
      const ttlText = req.headers['x-aws-ec2-metadata-token-ttl-seconds']
      const ttl = /^\d+$/.test(String(ttlText || '')) ? Number(ttlText) : NaN
      if (!(ttl >= 1 && ttl <= 21600)) return reply(res, 400, 'Bad Request')
      const token = 'AQAEA' + crypto.randomBytes(36).toString('base64').replace(/[+/=]/g, 'x')
      tokens.set(token, Date.now() + ttl * 1000)
      tokenRequests.push({ token, ttl, time: Date.now() })
      entry.issuedToken = token
      res.writeHead(200, { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) })
      return res.end(token)
    }
    if (req.method !== 'GET') return reply(res, 405, 'Method Not Allowed')
    const token = req.headers['x-aws-ec2-metadata-token']
    if (token !== undefined) {
      const exp = tokens.get(token)
      entry.tokenValid = exp !== undefined && Date.now() < exp
      if (!entry.tokenValid) return reply(res, 401, 'Unauthorized')
    } else {
      entry.tokenValid = false
      const v1 = o.allowV1 === undefined ? o.tokenDisabled : o.allowV1
      if (!v1) return reply(res, 401, 'Unauthorized')
    }
    const prefix = '/latest/meta-data/iam/security-credentials/'
    if (path === '/latest/meta-data/placement/region') {
      return o.region ? reply(res, 200, o.region) : reply(res, 404, 'Not Found')
    }
    if (path === prefix || path === prefix.slice(0, -1)) {
      if (o.failCredentials) return reply(res, 500, 'Internal Server Error')
      return o.roleName ? reply(res, 200, o.roleName) : reply(res, 404, 'Not Found')
    }
    if (path.startsWith(prefix)) {
      const role = path.slice(prefix.length).replace(/\/$/, '')
      if (role !== o.roleName) return reply(res, 404, 'Not Found')
      if (o.failCredentials) return reply(res, 500, 'Internal Server Error')
      const c = o.issuer.issue({ lifetimeSeconds: o.lifetimeSeconds, source: 'imds' })
      issued.push(c)
      const doc = JSON.stringify(
        {
          Code: 'Success',
          LastUpdated: isoSeconds(Date.now()),
          Type: 'AWS-HMAC',
          AccessKeyId: c.accessKeyId,
          SecretAccessKey: c.secretAccessKey,
          Token: c.sessionToken,
          Expiration: isoSeconds(c.expiration.getTime()),
        },
        null,
        2,
      )
      // malformed: cut in the middle of the token, so the document holds secrets but is not JSON.
      return reply(res, 200, o.malformed ? doc.slice(0, doc.indexOf('"Token"') + 40) : doc)
    }
    return reply(res, 404, 'Not Found')
  })
  return Object.assign(srv, { options: o, issued, tokenRequests, tokens })
}

// ---------------------------------------------------------------------------------------------------
// ECS container credentials endpoint

export async function startContainerCredentials(opts = {}) {
  const o = { issuer: null, token: undefined, lifetimeSeconds: 3600, delayMs: 0, malformed: false, fail: false, roleArn: 'arn:aws:iam::123456789012:role/ferry-task-role', ...opts }
  if (!o.issuer) throw new Error('startContainerCredentials: an issuer is required')
  const issued = []
  const srv = await startServer(async (req, res) => {
    if (o.delayMs) await sleep(o.delayMs)
    if (req.method !== 'GET') return reply(res, 405, 'Method Not Allowed')
    if (o.token !== undefined && req.headers.authorization !== o.token) {
      return reply(res, 401, JSON.stringify({ code: 'Unauthorized', message: 'invalid authorization token' }), 'application/json')
    }
    if (o.fail) return reply(res, 500, JSON.stringify({ code: 'InternalError', message: 'injected failure' }), 'application/json')
    const c = o.issuer.issue({ lifetimeSeconds: o.lifetimeSeconds, source: 'ecs' })
    issued.push(c)
    const doc = JSON.stringify({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: isoSeconds(c.expiration.getTime()),
      RoleArn: o.roleArn,
    })
    return reply(res, 200, o.malformed ? doc.slice(0, doc.indexOf('"Token"') + 40) : doc, 'application/json')
  })
  return Object.assign(srv, { options: o, issued })
}

// ---------------------------------------------------------------------------------------------------
// STS

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c])
}

function stsError(res, status, code, message, type = 'Sender') {
  const body =
    `<ErrorResponse xmlns="${STS_NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(code)}</Code>\n` +
    `    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`
  reply(res, status, body, 'text/xml')
}

// Maps verify() errors onto what STS answers for them.
const STS_AUTH_ERRORS = {
  ExpiredTokenException: [400, 'ExpiredToken', 'The security token included in the request is expired'],
  UnrecognizedClientException: [403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'],
  InvalidSignatureException: [403, 'SignatureDoesNotMatch', null],
  IncompleteSignatureException: [400, 'IncompleteSignature', null],
}

export async function startSts(opts = {}) {
  const o = {
    issuer: null,
    lifetimeSeconds: null, // null: DurationSeconds of the request, else 3600
    expectedWebIdentityToken: undefined, // string or () => string
    expectedExternalId: undefined, // string or () => string; null: ExternalId must be absent
    expectedRoleArn: undefined,
    delayMs: 0,
    failWith: null, // { status, code, message } for every call
    ...opts,
  }
  if (!o.issuer) throw new Error('startSts: an issuer is required')
  const issued = []
  const calls = []
  const value = (v) => (typeof v === 'function' ? v() : v)
  const srv = await startServer(async (req, res, body, entry) => {
    if (o.delayMs) await sleep(o.delayMs)
    if (req.method !== 'POST') return stsError(res, 400, 'InvalidAction', `STS takes POST, not ${req.method}`)
    const ctype = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase()
    if (ctype !== 'application/x-www-form-urlencoded') {
      return stsError(res, 400, 'InvalidParameterValue', `Content-Type must be application/x-www-form-urlencoded, not '${ctype}'`)
    }
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')))
    const call = { action: params.Action, params, signedBy: null, issued: null, error: null, time: Date.now() }
    calls.push(call)
    entry.params = params
    const fail = (status, code, message) => {
      call.error = { status, code, message }
      stsError(res, status, code, message)
    }
    if (o.failWith) return fail(o.failWith.status || 400, o.failWith.code || 'InvalidAction', o.failWith.message || 'injected failure')
    if (params.Version !== '2011-06-15') return fail(400, 'MissingParameter', `Version must be 2011-06-15, not '${params.Version}'`)
    if (params.Action !== 'AssumeRole' && params.Action !== 'AssumeRoleWithWebIdentity') {
      return fail(400, 'InvalidAction', `Could not find operation ${params.Action} for version 2011-06-15`)
    }
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(params.RoleArn || '')) {
      return fail(400, 'ValidationError', `RoleArn '${params.RoleArn}' is missing or not a role ARN`)
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(params.RoleSessionName || '')) {
      return fail(400, 'ValidationError', `RoleSessionName '${params.RoleSessionName}' is missing or invalid (2 to 64 of [\\w+=,.@-])`)
    }
    if (o.expectedRoleArn !== undefined && params.RoleArn !== value(o.expectedRoleArn)) {
      return fail(403, 'AccessDenied', `Not authorized to perform sts:${params.Action} on ${params.RoleArn}`)
    }
    const duration = params.DurationSeconds ? Number(params.DurationSeconds) : 3600
    if (!(duration >= 900 && duration <= 43200)) return fail(400, 'ValidationError', `DurationSeconds ${params.DurationSeconds} is not within 900..43200`)
    const lifetime = o.lifetimeSeconds ?? duration
    let resultTag
    let extra = ''
    if (params.Action === 'AssumeRoleWithWebIdentity') {
      if (!params.WebIdentityToken) return fail(400, 'ValidationError', 'WebIdentityToken is required')
      const want = value(o.expectedWebIdentityToken)
      if (want !== undefined && params.WebIdentityToken !== want) {
        return fail(400, 'InvalidIdentityToken', 'The web identity token that was passed is not the current one')
      }
      resultTag = 'AssumeRoleWithWebIdentity'
      extra =
        `    <SubjectFromWebIdentityToken>system:serviceaccount:default:ferry</SubjectFromWebIdentityToken>\n` +
        `    <Audience>sts.amazonaws.com</Audience>\n    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.example</Provider>\n`
    } else {
      const v = o.issuer.verify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body }, { service: 'sts' })
      call.signedBy = v.accessKeyId || null
      call.verify = v.ok ? 'ok' : v.error
      if (!v.ok) {
        const [status, code, msg] = STS_AUTH_ERRORS[v.error] || [403, 'AccessDenied', null]
        return fail(status, code, msg || v.message)
      }
      if (o.expectedExternalId !== undefined) {
        const want = value(o.expectedExternalId)
        if ((params.ExternalId ?? null) !== want) {
          return fail(403, 'AccessDenied', `User: arn:aws:iam::123456789012:user/caller is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`)
        }
      }
      resultTag = 'AssumeRole'
    }
    const c = o.issuer.issue({ lifetimeSeconds: lifetime, source: `sts:${params.Action}` })
    issued.push(c)
    call.issued = c
    const role = params.RoleArn.split('/').pop()
    const xml =
      `<${resultTag}Response xmlns="${STS_NS}">\n  <${resultTag}Result>\n` +
      `    <Credentials>\n      <AccessKeyId>${c.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>\n` +
      `      <SessionToken>${xmlEscape(c.sessionToken)}</SessionToken>\n      <Expiration>${isoSeconds(c.expiration.getTime())}</Expiration>\n    </Credentials>\n` +
      extra +
      `    <AssumedRoleUser>\n      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:${xmlEscape(params.RoleSessionName)}</AssumedRoleId>\n` +
      `      <Arn>arn:aws:sts::123456789012:assumed-role/${xmlEscape(role)}/${xmlEscape(params.RoleSessionName)}</Arn>\n    </AssumedRoleUser>\n` +
      `    <PackedPolicySize>6</PackedPolicySize>\n` +
      `  </${resultTag}Result>\n  <ResponseMetadata>\n    <RequestId>${crypto.randomUUID()}</RequestId>\n  </ResponseMetadata>\n</${resultTag}Response>\n`
    reply(res, 200, xml, 'text/xml')
  })
  return Object.assign(srv, { options: o, issued, calls })
}
