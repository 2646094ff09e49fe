// aws_servers.test.mjs — self-tests of the fake AWS credential services (lib/aws_credential_servers.mjs)
// and of the PutRecords endpoint's signature check, with plain fetch: no ferry involved.
//
// Role: credentials.test.mjs trusts these fakes to refuse what AWS refuses; this file shows that they do.
//   - SigV4: every case of AWS's signing test suite (tests/data/sigv4) gives the same canonical request,
//     string to sign and a verified signature; a changed signature, body, unknown key, missing token or
//     expired key is refused with the error AWS gives;
//   - IMDS: the token rules of IMDSv2 (TTL range, X-Forwarded-For, token required, tokens expire), the
//     credential document's shape and a new key per fetch, and the knobs (allowV1, tokenDisabled,
//     malformed, failCredentials, delayMs);
//   - ECS: the Authorization check and the document's shape;
//   - STS: AssumeRoleWithWebIdentity and AssumeRole (signature, ExternalId) answers in the XML AWS uses;
//   - the PutRecords endpoint with verifySignature: accepted keys counted, expired/unknown/bad signatures
//     refused with 400 and the Kinesis error type.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import {
  createIssuer,
  canonicalRequest,
  stringToSign,
  signRequest,
  startImds,
  startContainerCredentials,
  startSts,
} from './lib/aws_credential_servers.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const SIGV4_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'sigv4')
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

const servers = []
after(async () => {
  for (const s of servers) await s.close?.().catch(() => {})
})
const track = (s) => (servers.push(s), s)

// A fixture's header-signed-request.txt as { method, url, rawHeaders, body }. Header lines starting with
// blanks continue the previous header (get-header-value-multiline).
function parseSignedRequest(text) {
  const cut = text.indexOf('\n\n')
  const head = cut < 0 ? text : text.slice(0, cut)
  const body = cut < 0 ? '' : text.slice(cut + 2)
  const lines = head.split('\n')
  const m = /^(\S+) (.*) HTTP\/1\.1$/.exec(lines[0])
  assert.ok(m, `bad request line: ${lines[0]}`)
  const rawHeaders = []
  for (const line of lines.slice(1)) {
    if (/^\s/.test(line) && rawHeaders.length) {
      rawHeaders[rawHeaders.length - 1] += '\n' + line
      continue
    }
    const colon = line.indexOf(':')
    rawHeaders.push(line.slice(0, colon), line.slice(colon + 1))
  }
  return { method: m[1], url: m[2], rawHeaders, body: Buffer.from(body) }
}

function loadCase(name) {
  const dir = path.join(SIGV4_DIR, name)
  const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8')
  return {
    name,
    context: JSON.parse(read('context.json')),
    request: parseSignedRequest(read('header-signed-request.txt')),
    canonical: read('header-canonical-request.txt'),
    stringToSign: read('header-string-to-sign.txt'),
    signature: read('header-signature.txt').trim(),
  }
}

function issuerFor(ctx) {
  const issuer = createIssuer()
  issuer.register({
    accessKeyId: ctx.credentials.access_key_id,
    secretAccessKey: ctx.credentials.secret_access_key,
    sessionToken: ctx.credentials.token,
  })
  return issuer
}

function authorizationOf(request) {
  const i = request.rawHeaders.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === 'authorization')
  return request.rawHeaders[i + 1]
}

test('SigV4 verify agrees with every case of the AWS signing test suite', () => {
  const cases = fs.readdirSync(SIGV4_DIR).filter((d) => fs.statSync(path.join(SIGV4_DIR, d)).isDirectory())
  assert.ok(cases.length >= 30, `expected the SigV4 suite in ${SIGV4_DIR}, found ${cases.length} cases`)
  for (const name of cases) {
    const c = loadCase(name)
    const auth = authorizationOf(c.request)
    const signed = /SignedHeaders=([^,]+)/.exec(auth)[1].split(';')
    const canonical = canonicalRequest(c.request, signed, { normalize: c.context.normalize })
    assert.equal(canonical, c.canonical, `${name}: canonical request`)
    const scope = /Credential=[^/]+\/([^,]+)/.exec(auth)[1]
    const date = c.request.rawHeaders[c.request.rawHeaders.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === 'x-amz-date') + 1]
    assert.equal(stringToSign(date, scope, canonical), c.stringToSign, `${name}: string to sign`)
    const v = issuerFor(c.context).verify(c.request, { now: Date.parse(c.context.timestamp), normalize: c.context.normalize })
    assert.deepEqual([v.ok, v.error, v.message], [true, undefined, undefined], `${name}: verify`)
    assert.equal(v.accessKeyId, 'AKIDEXAMPLE')
  }
})

test('SigV4 verify refuses a changed signature or body, an unknown key, a missing token and an expired key', () => {
  const vanilla = loadCase('get-vanilla')
  const now = Date.parse(vanilla.context.timestamp)
  const issuer = issuerFor(vanilla.context)
  const withAuth = (req, auth) => ({
    ...req,
    rawHeaders: req.rawHeaders.map((v, i) => (i % 2 === 1 && req.rawHeaders[i - 1].toLowerCase() === 'authorization' ? auth : v)),
  })
  const auth = authorizationOf(vanilla.request)
  const flipped = auth.replace(/Signature=(.)/, (_, c) => `Signature=${c === '0' ? '1' : '0'}`)
  assert.equal(issuer.verify(withAuth(vanilla.request, flipped), { now }).error, 'InvalidSignatureException')
  assert.equal(issuer.verify(withAuth(vanilla.request, auth.replace('AKIDEXAMPLE', 'AKIDUNKNOWN')), { now }).error, 'UnrecognizedClientException')
  assert.equal(issuer.verify(withAuth(vanilla.request, 'Bearer xyz'), { now }).error, 'IncompleteSignatureException')
  assert.match(issuer.verify(vanilla.request, { now: now + 6 * 60 * 1000 }).message, /Signature expired/)
  assert.equal(issuer.verify(vanilla.request, { now, service: 'kinesis' }).error, 'InvalidSignatureException')

  const form = loadCase('post-x-www-form-urlencoded')
  const fi = issuerFor(form.context)
  assert.equal(fi.verify(form.request, { now }).ok, true)
  assert.equal(fi.verify({ ...form.request, body: Buffer.from('Param1=value2') }, { now }).error, 'InvalidSignatureException')

  const tok = loadCase('get-vanilla-with-session-token')
  const ti = issuerFor(tok.context)
  assert.equal(ti.verify(tok.request, { now }).ok, true)
  const noToken = { ...tok.request, rawHeaders: tok.request.rawHeaders.filter((_, i, a) => a[i - (i % 2)].toLowerCase() !== 'x-amz-security-token') }
  assert.equal(ti.verify(noToken, { now }).error, 'UnrecognizedClientException')
  ti.expire('AKIDEXAMPLE', now - 1000)
  const expired = ti.verify(tok.request, { now })
  assert.deepEqual([expired.error, expired.message], ['ExpiredTokenException', 'The security token included in the request is expired'])

  // signRequest round-trips through verify with issued (temporary) credentials.
  const live = createIssuer()
  const creds = live.issue({ lifetimeSeconds: 60 })
  assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/)
  assert.equal(creds.secretAccessKey.length, 40)
  const req = signRequest({ method: 'POST', url: '/', headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Buffer.from('{}') }, creds, { service: 'kinesis', host: 'localhost:1' })
  const asReq = { ...req, rawHeaders: Object.entries(req.headers).flat() }
  assert.equal(live.verify(asReq, { service: 'kinesis' }).ok, true)
  assert.equal(live.verify({ ...asReq, body: Buffer.from('{ }') }).error, 'InvalidSignatureException')
  live.expire(creds.accessKeyId)
  assert.equal(live.verify(asReq).error, 'ExpiredTokenException')
})

async function putToken(url, headers = {}) {
  const r = await fetch(`${url}/latest/api/token`, { method: 'PUT', headers })
  return { status: r.status, text: await r.text(), ttl: r.headers.get('x-aws-ec2-metadata-token-ttl-seconds') }
}

test('IMDS fake: IMDSv2 token rules, credential documents, region', async () => {
  const issuer = createIssuer()
  const imds = track(await startImds({ issuer, region: 'eu-central-1', roleName: 'web-role', lifetimeSeconds: 20 }))
  assert.equal((await putToken(imds.url)).status, 400, 'PUT without a TTL')
  assert.equal((await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '0' })).status, 400)
  assert.equal((await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).status, 400)
  assert.equal((await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).status, 403)
  const t = await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' })
  assert.equal(t.status, 200)
  assert.equal(t.ttl, '21600')
  const base = `${imds.url}/latest/meta-data/iam/security-credentials/`
  assert.equal((await fetch(base)).status, 401, 'GET without a token (v1) is refused')
  assert.equal((await fetch(base, { headers: { 'x-aws-ec2-metadata-token': 'nope' } })).status, 401)
  const h = { headers: { 'x-aws-ec2-metadata-token': t.text } }
  const role = await fetch(base, h)
  assert.equal(role.status, 200)
  assert.equal(await role.text(), 'web-role')
  assert.equal((await fetch(base + 'other-role', h)).status, 404)
  const docs = []
  for (let i = 0; i < 2; i++) {
    const r = await fetch(base + 'web-role', h)
    assert.equal(r.status, 200)
    docs.push(JSON.parse(await r.text()))
  }
  for (const d of docs) {
    assert.deepEqual(Object.keys(d).sort(), ['AccessKeyId', 'Code', 'Expiration', 'LastUpdated', 'SecretAccessKey', 'Token', 'Type'])
    assert.equal(d.Code, 'Success')
    assert.equal(d.Type, 'AWS-HMAC')
    assert.match(d.Expiration, ISO_SECONDS)
    const life = Date.parse(d.Expiration) - Date.now()
    assert.ok(life > 18000 && life <= 20000, `lifetime ${life} ms`)
    assert.equal(issuer.lookup(d.AccessKeyId).secretAccessKey, d.SecretAccessKey)
  }
  assert.notEqual(docs[0].AccessKeyId, docs[1].AccessKeyId, 'each fetch issues a new key')
  assert.equal(await (await fetch(`${imds.url}/latest/meta-data/placement/region`, h)).text(), 'eu-central-1')
  assert.ok(imds.requests.every((r) => r.method === 'PUT' || r.headers['x-aws-ec2-metadata-token'] !== undefined || r.path === '/latest/meta-data/iam/security-credentials/'))

  // Tokens expire.
  const short = await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '1' })
  assert.equal((await fetch(base, { headers: { 'x-aws-ec2-metadata-token': short.text } })).status, 200)
  await new Promise((r) => setTimeout(r, 1100))
  assert.equal((await fetch(base, { headers: { 'x-aws-ec2-metadata-token': short.text } })).status, 401, 'an expired token')

  // Knobs, changed while it runs.
  imds.options.malformed = true
  const bad = await (await fetch(base + 'web-role', h)).text()
  assert.throws(() => JSON.parse(bad))
  assert.match(bad, /SecretAccessKey/)
  imds.options.malformed = false
  imds.options.failCredentials = true
  assert.equal((await fetch(base + 'web-role', h)).status, 500)
  imds.options.failCredentials = false
  imds.options.allowV1 = true
  assert.equal((await fetch(base)).status, 200, 'allowV1')
  imds.options.delayMs = 300
  const t0 = Date.now()
  await fetch(base, h)
  assert.ok(Date.now() - t0 >= 290, 'delayMs')
})

test('IMDS fake: tokenDisabled refuses PUT (403 or 405) and answers v1', async () => {
  const issuer = createIssuer()
  for (const status of [403, 405]) {
    const imds = track(await startImds({ issuer, tokenDisabled: true, tokenDisabledStatus: status }))
    assert.equal((await putToken(imds.url, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' })).status, status)
    const role = await fetch(`${imds.url}/latest/meta-data/iam/security-credentials/`)
    assert.equal(role.status, 200)
    const doc = await (await fetch(`${imds.url}/latest/meta-data/iam/security-credentials/${await role.text()}`)).json()
    assert.equal(doc.Code, 'Success')
  }
})

test('ECS fake: Authorization required, document shape', async () => {
  const issuer = createIssuer()
  const ecs = track(await startContainerCredentials({ issuer, token: 'Bearer ecs-token-123', lifetimeSeconds: 30 }))
  assert.equal((await fetch(`${ecs.url}/v2/credentials/abc`)).status, 401)
  assert.equal((await fetch(`${ecs.url}/v2/credentials/abc`, { headers: { authorization: 'wrong' } })).status, 401)
  const r = await fetch(`${ecs.url}/v2/credentials/abc`, { headers: { authorization: 'Bearer ecs-token-123' } })
  assert.equal(r.status, 200)
  const d = await r.json()
  assert.deepEqual(Object.keys(d).sort(), ['AccessKeyId', 'Expiration', 'RoleArn', 'SecretAccessKey', 'Token'])
  assert.match(d.Expiration, ISO_SECONDS)
  assert.equal(issuer.lookup(d.AccessKeyId).sessionToken, d.Token)
})

function xmlText(xml, tag) {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)
  return m ? m[1] : undefined
}

test('STS fake: AssumeRoleWithWebIdentity and AssumeRole in the XML AWS answers with', async () => {
  const issuer = createIssuer()
  let current = 'eyJhbGciOiJSUzI1NiJ9.first.sig'
  const sts = track(await startSts({ issuer, lifetimeSeconds: 20, expectedWebIdentityToken: () => current, expectedExternalId: 'ext-42' }))
  const post = (params, headers = {}) =>
    fetch(sts.url + '/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params).toString() })

  const web = {
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: 'arn:aws:iam::123456789012:role/web',
    RoleSessionName: 'ferry-test',
    WebIdentityToken: current,
  }
  const ok = await post(web)
  const xml = await ok.text()
  assert.equal(ok.status, 200, xml)
  assert.match(xml, /^<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<AssumeRoleWithWebIdentityResult>\s*<Credentials>/)
  assert.match(xml, /<\/AssumedRoleUser>\s*<PackedPolicySize>6<\/PackedPolicySize>\s*<\/AssumeRoleWithWebIdentityResult>\s*<ResponseMetadata>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>/)
  const creds = {
    accessKeyId: xmlText(xml, 'AccessKeyId'),
    secretAccessKey: xmlText(xml, 'SecretAccessKey'),
    sessionToken: xmlText(xml, 'SessionToken'),
  }
  assert.match(xmlText(xml, 'Expiration'), ISO_SECONDS)
  assert.equal(issuer.lookup(creds.accessKeyId).secretAccessKey, creds.secretAccessKey)

  current = 'eyJhbGciOiJSUzI1NiJ9.second.sig'
  const stale = await post(web)
  const err = await stale.text()
  assert.equal(stale.status, 400)
  assert.match(err, /^<ErrorResponse xmlns="[^"]+">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>InvalidIdentityToken<\/Code>\s*<Message>[^<]+<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>/)
  assert.equal((await post({ ...web, WebIdentityToken: current, RoleSessionName: '' })).status, 400)

  // AssumeRole must be signed for sts by a known, unexpired key.
  const assume = { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 'ferry', ExternalId: 'ext-42' }
  const signedPost = async (params, c, service = 'sts') => {
    const body = Buffer.from(new URLSearchParams(params).toString())
    const req = signRequest({ method: 'POST', url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, c, {
      service,
      host: new URL(sts.url).host,
    })
    const { host, ...headers } = req.headers
    const r = await fetch(sts.url + '/', { method: 'POST', headers, body })
    return { status: r.status, text: await r.text() }
  }
  const unsigned = await post(assume)
  assert.equal(unsigned.status, 400)
  assert.match(await unsigned.text(), /<Code>IncompleteSignature<\/Code>/)
  const good = await signedPost(assume, creds)
  assert.equal(good.status, 200, good.text)
  assert.match(good.text, /^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<AssumeRoleResult>\s*<Credentials>\s*<AccessKeyId>ASIA/)
  assert.match(good.text, /<AssumedRoleUser>\s*<AssumedRoleId>AROA[^<]*:ferry<\/AssumedRoleId>\s*<Arn>arn:aws:sts::123456789012:assumed-role\/app\/ferry<\/Arn>/)
  assert.equal(sts.calls.at(-1).signedBy, creds.accessKeyId)
  const wrongExt = await signedPost({ ...assume, ExternalId: 'ext-43' }, creds)
  assert.equal(wrongExt.status, 403)
  assert.match(wrongExt.text, /<Code>AccessDenied<\/Code>/)
  assert.match((await signedPost(assume, creds, 'kinesis')).text, /<Code>SignatureDoesNotMatch<\/Code>/)
  assert.match((await signedPost(assume, { ...creds, secretAccessKey: 'x'.repeat(40) })).text, /<Code>SignatureDoesNotMatch<\/Code>/)
  assert.match((await signedPost(assume, { ...creds, accessKeyId: 'ASIAUNKNOWNUNKNOWN00' })).text, /<Code>InvalidClientTokenId<\/Code>/)
  issuer.expire(creds.accessKeyId)
  const old = await signedPost(assume, creds)
  assert.equal(old.status, 400)
  assert.match(old.text, /<Code>ExpiredToken<\/Code>/)
  const { Version, ...noVersion } = web
  const missing = await post({ ...noVersion, WebIdentityToken: current })
  assert.equal(missing.status, 400)
  assert.match(await missing.text(), /<Code>MissingParameter<\/Code>/)
})

test('PutRecords endpoint with verifySignature: counts accepted keys, refuses expired, unknown and bad signatures', async () => {
  const issuer = createIssuer()
  const ep = await startPutRecordsEndpoint({ verifySignature: issuer })
  try {
    const host = new URL(ep.endpoint).host
    const put = async (c, { tamper = false } = {}) => {
      const body = Buffer.from(JSON.stringify({ StreamName: 's', Records: [{ Data: Buffer.from('hello').toString('base64'), PartitionKey: 'k' }] }))
      const req = signRequest(
        { method: 'POST', url: '/', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' }, body },
        c,
        { service: 'kinesis', host },
      )
      const { host: _h, ...headers } = req.headers
      const r = await fetch(ep.endpoint + '/', { method: 'POST', headers, body: tamper ? Buffer.from(body.toString().replace('"s"', '"t"')) : body })
      return { status: r.status, body: await r.json() }
    }
    const a = issuer.issue({ lifetimeSeconds: 60 })
    const b = issuer.issue({ lifetimeSeconds: 60 })
    assert.equal((await put(a)).status, 200)
    assert.equal((await put(a)).status, 200)
    assert.equal((await put(b)).status, 200)
    assert.deepEqual(ep.signatures.acceptedByKey, { [a.accessKeyId]: 2, [b.accessKeyId]: 1 })
    assert.equal(ep.accepted.length, 3)
    issuer.expire(b.accessKeyId)
    assert.deepEqual(await put(b), { status: 400, body: { __type: 'ExpiredTokenException', message: 'The security token included in the request is expired' } })
    assert.equal((await put({ ...a, accessKeyId: 'ASIAUNKNOWNUNKNOWN00' })).body.__type, 'UnrecognizedClientException')
    assert.equal((await put(a, { tamper: true })).body.__type, 'InvalidSignatureException')
    assert.deepEqual(
      ep.signatures.rejected.map((r) => r.error),
      ['ExpiredTokenException', 'UnrecognizedClientException', 'InvalidSignatureException'],
    )
    assert.equal(ep.accepted.length, 3, 'refused requests store nothing')
  } finally {
    await ep.stop()
  }
})
