// credentials.test.mjs — ferry's AWS credential provider chain, end to end, against fake AWS services.
//
// Role: the services that hand out credentials cannot run here, so lib/aws_credential_servers.mjs plays
// them (IMDSv2, the ECS container endpoint, STS) and one `issuer` hands out every key. The PutRecords
// endpoint checks each request's SigV4 signature with that issuer (verifySignature), so a request signed
// with a wrong, unknown or expired key is refused the way Kinesis refuses it, and the test sees which keys
// were used. Every ferry here runs with a clean environment: HOME, AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE point into the test's temp folder, and the EC2 metadata service is either
// disabled (AWS_EC2_METADATA_DISABLED=true) or a fake (AWS_EC2_METADATA_SERVICE_ENDPOINT).
//
// What is shown:
//   a) IMDSv2 with 10 s credentials under a steady send until a third key is in use: nothing lost, every
//      metadata GET carried a token, no key used after it expired;
//   b) IMDS refusing tokens: IMDSv2 only by default (exit naming EC2 instance metadata); with
//      aws.imds_v1_fallback, v1 works;
//   c) IMDS too slow or answering malformed JSON: exit naming it, no secret echoed;
//   d) ECS full URI with an authorization token file; a wrong token; a non-loopback http URI;
//   e) web identity with 10 s credentials: the token file is read again at every refresh;
//   f) profile role_arn + source_profile + external_id (and the profile's region);
//   g) profile credential_process, and one that fails (exit 3);
//   h) aws.role_arn + aws.external_id on top of environment keys (10 s role credentials, assumed again);
//   i) no credentials at all: the error lists every provider and why;
//   j) secrets never appear in ferry's output, `ferry check` or `ferry status`;
//   k) Kinesis answering ExpiredTokenException for the key ferry holds (3 s, and k2: 1 s after fetching it):
//      refreshed at once, nothing lost;
//   l) the region from IMDS placement/region when nothing else names one;
//   m) profile role_arn with credential_source Ec2InstanceMetadata / EcsContainer; AWS_REGION and
//      AWS_DEFAULT_REGION in the region chain.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { ferryBinary, yamlQuote, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'
import { createIssuer, isoSeconds, startImds, startContainerCredentials, startSts } from './lib/aws_credential_servers.mjs'

const execFileP = promisify(execFile)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const temps = []
const cleanups = []
after(async () => {
  for (const f of cleanups.splice(0).reverse()) await Promise.resolve(f()).catch(() => {})
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})
// Registers a server (or anything with close/stop) to be closed at the end, and returns it.
function closeLater(s) {
  cleanups.push(() => (s.close ? s.close() : s.stop()))
  return s
}

const PROVIDERS = ['config', 'environment', 'web identity', 'profile', 'ECS container', 'EC2 instance metadata']

// A temp folder with an empty HOME (and ~/.aws), a log file and the paths of the AWS shared files.
function scratch(name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-cred-${name}-`))
  temps.push(tmp)
  const home = path.join(tmp, 'home')
  fs.mkdirSync(path.join(home, '.aws'), { recursive: true })
  return {
    tmp,
    home,
    stateDir: path.join(tmp, 'state'),
    logPath: path.join(tmp, 'app.log'),
    configPath: path.join(tmp, 'ferry.yaml'),
    awsConfig: path.join(home, '.aws', 'config'),
    awsCredentials: path.join(home, '.aws', 'credentials'),
  }
}

// The ferry config: one flow tailing ctx.logPath to stream `s` at `endpoint`. aws: extra keys of the
// aws section (region us-east-1 unless given; null leaves a key out). top: extra top-level keys.
function writeFerryConfig(ctx, endpoint, { aws = {}, top = {} } = {}) {
  const scalar = (v) => (typeof v === 'boolean' || typeof v === 'number' ? String(v) : yamlQuote(v))
  const awsKeys = { region: 'us-east-1', ...aws, kinesis_endpoint: endpoint }
  const lines = [`state_dir: ${yamlQuote(ctx.stateDir)}`]
  for (const [k, v] of Object.entries(top)) lines.push(`${k}: ${scalar(v)}`)
  lines.push('aws:')
  for (const [k, v] of Object.entries(awsKeys)) if (v != null) lines.push(`  ${k}: ${scalar(v)}`)
  lines.push(
    'flows:',
    '  - name: creds',
    `    files: [${yamlQuote(ctx.logPath)}]`,
    '    start_at: beginning',
    '    kinesis:',
    '      stream: s',
    '      max_age: 300ms',
  )
  fs.writeFileSync(ctx.configPath, lines.join('\n') + '\n')
}

// Ferry's environment: nothing of the host's AWS setup (startFerry drops AWS_* already), HOME and the
// shared files in the temp folder, IMDS off unless `imds` is given, no proxy for the loopback fakes.
function ferryEnv(ctx, { imds = null, ...extra } = {}) {
  const env = {
    HOME: ctx.home,
    AWS_CONFIG_FILE: ctx.awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: ctx.awsCredentials,
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTP_PROXY: undefined,
    HTTPS_PROXY: undefined,
    http_proxy: undefined,
    https_proxy: undefined,
    ALL_PROXY: undefined,
    all_proxy: undefined,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  }
  if (imds) {
    env.AWS_EC2_METADATA_DISABLED = undefined
    env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.url
  }
  return { ...env, ...extra }
}

let lineSerial = 0
function makeLines(prefix, n) {
  const out = []
  for (let i = 0; i < n; i++) out.push(`${prefix} ${lineSerial++} ${'.'.repeat(i % 37)} end`)
  return out
}
function appendLines(ctx, lines) {
  fs.appendFileSync(ctx.logPath, lines.map((l) => l + '\n').join(''))
}

// Appends perSecond lines a second (in 10 batches) until stop().
function startWriter(ctx, prefix, perSecond) {
  const lines = []
  const timer = setInterval(() => {
    const batch = makeLines(prefix, Math.max(1, Math.round(perSecond / 10)))
    appendLines(ctx, batch)
    lines.push(...batch)
  }, 100)
  return {
    lines,
    stop() {
      clearInterval(timer)
    },
  }
}

async function waitUntil(predicate, timeoutMs, what, child) {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (child && child.exitStatus) assert.fail(`ferry exited (${JSON.stringify(child.exitStatus)}) while waiting for ${what}\n${ferryOutputForHumans(child)}`)
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}` + (child ? '\n' + ferryOutputForHumans(child) : ''))
    await sleep(100)
  }
}

// Every line arrived at least once and nothing else did (sets of strings).
function deliveryProblems(lines, ep) {
  const got = new Set(ep.accepted.map((b) => b.toString('utf8')))
  const want = new Set(lines)
  const missing = lines.filter((l) => !got.has(l))
  const unexpected = [...got].filter((l) => !want.has(l))
  if (!missing.length && !unexpected.length) return null
  return `${missing.length} of ${lines.length} lines missing (e.g. ${JSON.stringify(missing.slice(0, 3))}), ${unexpected.length} unexpected (e.g. ${JSON.stringify(unexpected.slice(0, 3))})`
}
async function waitDelivered(lines, ep, child, timeoutMs = 30000) {
  await waitUntil(() => deliveryProblems(lines, ep) === null, timeoutMs, `delivery of ${lines.length} lines (${deliveryProblems(lines, ep)}; signature refusals: ${JSON.stringify(ep.signatures.rejected.slice(0, 3))})`, child)
}

// Waits for ferry to exit on its own; fails (and kills it) if it is still running after timeoutMs.
async function expectExit(child, timeoutMs, what) {
  let timer
  const status = await Promise.race([child.exited, new Promise((r) => (timer = setTimeout(() => r(null), timeoutMs)))])
  clearTimeout(timer)
  if (!status) {
    child.kill('SIGKILL')
    await child.exited
    assert.fail(`${what}: expected ferry to exit non-zero, but it was still running after ${timeoutMs} ms\n${ferryOutputForHumans(child)}`)
  }
  return status
}

function assertExitedWithError(status, child, what) {
  assert.ok(status.code !== 0 && status.code !== null, `${what}: expected a non-zero exit code, got ${JSON.stringify(status)}\n${ferryOutputForHumans(child)}`)
}

function assertNothingSent(ep, child, what) {
  assert.equal(ep.requests, 0, `${what}: ferry sent ${ep.requests} PutRecords requests before exiting\n${ferryOutputForHumans(child)}`)
  assert.deepEqual(ep.signatures.acceptedByKey, {}, `${what}: requests reached the endpoint`)
}

// The "no AWS credentials found; tried: ..." message, or a failure naming what is missing.
function noCredentialsMessage(child, what) {
  const m = /no AWS credentials found; tried: [^\n]*/.exec(child.output.stderr)
  assert.ok(m, `${what}: expected an error starting 'no AWS credentials found; tried:'\n${ferryOutputForHumans(child)}`)
  return m[0]
}

const last4 = (id) => id.slice(-4)
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// Ferry's start line for these credentials: "AWS region <r>, credentials from <provider> (access key ****<last 4>)".
function assertStartLine(child, { region, provider, accessKeyId }) {
  const line = /AWS region [^\n]*credentials from [^\n]*/.exec(child.output.stderr)?.[0]
  assert.ok(line, `no 'AWS region ..., credentials from ...' line at start\n${ferryOutputForHumans(child)}`)
  if (region) assert.match(line, new RegExp(`AWS region ${esc(region)}( \\([^)]*\\))?,`), `start line names the wrong region: ${line}`)
  if (provider) assert.match(line, provider, `start line names the wrong provider (want ${provider}): ${line}`)
  if (accessKeyId) assert.match(line, new RegExp(`\\(access key \\*{4,}${esc(last4(accessKeyId))}\\)`), `start line should show the key as ****${last4(accessKeyId)}: ${line}`)
  return line
}

function keysUsed(ep) {
  return Object.keys(ep.signatures.acceptedByKey)
}

function assertNoRefusals(ep, child, what) {
  assert.deepEqual(
    ep.signatures.rejected.map((r) => `${r.error} (${r.accessKeyId}: ${r.message})`),
    [],
    `${what}: the endpoint refused requests for their signature\n${ferryOutputForHumans(child)}`,
  )
}

// ---------------------------------------------------------------------------------------------------

test('a) IMDSv2, 10 s credentials, steady sending until the third key: nothing lost, keys rotated before they expire', { timeout: 120000 }, async (t) => {
  const issuer = createIssuer()
  // Credentials are refreshed halfway through their life, so a third key is in use after about 10 s.
  const imds = closeLater(await startImds({ issuer, lifetimeSeconds: 10 }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('imds')
  writeFerryConfig(ctx, ep.endpoint)
  fs.writeFileSync(ctx.logPath, '')
  const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
  const writer = startWriter(ctx, 'imds-steady', 200)
  try {
    await waitUntil(() => keysUsed(ep).length >= 3, 40000, `a third access key in use (accepted: ${JSON.stringify(ep.signatures.acceptedByKey)})`, ferry)
    writer.stop()
    await waitDelivered(writer.lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)

    assert.ok(imds.issued.length >= 1, 'ferry never fetched credentials from IMDS')
    assertStartLine(ferry, { region: 'us-east-1', provider: /EC2 instance metadata/i, accessKeyId: imds.issued[0].accessKeyId })
    const gets = imds.requests.filter((r) => r.method === 'GET')
    const untokened = gets.filter((r) => !r.tokenValid)
    assert.deepEqual(untokened.map((r) => `${r.path} token=${r.headers['x-aws-ec2-metadata-token'] ?? '(none)'}`), [], 'every metadata GET must carry a valid IMDSv2 token')
    const used = keysUsed(ep)
    const fromImds = new Set(imds.issued.map((c) => c.accessKeyId))
    assert.ok(used.every((k) => fromImds.has(k)), `keys not issued by IMDS were accepted: ${used}`)
    assert.ok(used.length >= 3, `expected >= 3 distinct access keys from 10 s credentials, the endpoint accepted ${used.length}: ${JSON.stringify(ep.signatures.acceptedByKey)}; IMDS issued ${imds.issued.length}\n${ferryOutputForHumans(ferry)}`)
    // Refreshing at expiry - min(5 min, half the lifetime) means no request is ever signed with an expired key.
    const expired = ep.signatures.rejected.filter((r) => r.error === 'ExpiredTokenException')
    assert.equal(expired.length, 0, `${expired.length} requests were signed with expired keys (ferry should refresh 5 s before a 10 s key expires)\n${ferryOutputForHumans(ferry)}`)
    assertNoRefusals(ep, ferry, 'IMDS steady send')
    const refreshed = (stderr.match(/credentials refreshed/g) || []).length
    assert.ok(refreshed >= 2, `expected >= 2 'credentials refreshed' log lines, found ${refreshed}\n${ferryOutputForHumans(ferry)}`)
    t.diagnostic(`${writer.lines.length} lines, ${used.length} access keys accepted, ${imds.issued.length} issued by IMDS, ${refreshed} refreshes, ${ep.signatures.rejected.length} requests refused`)
  } finally {
    writer.stop()
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

test('b) IMDS refusing session tokens: IMDSv2 only by default; aws.imds_v1_fallback: true uses v1', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))

  const imds = closeLater(await startImds({ issuer, tokenDisabled: true, tokenDisabledStatus: 403 }))
  const ctx = scratch('imds-v1')
  writeFerryConfig(ctx, ep.endpoint)
  const lines = makeLines('imds-v1', 30)
  appendLines(ctx, lines)
  const strict = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
  const status = await expectExit(strict, 30000, 'IMDS without tokens, no v1 fallback')
  assertExitedWithError(status, strict, 'IMDS without tokens, no v1 fallback')
  const msg = noCredentialsMessage(strict, 'IMDS without tokens')
  assert.match(msg, /EC2 instance metadata \(/, `the error must name EC2 instance metadata and why: ${msg}`)
  assert.ok(imds.requests.some((r) => r.method === 'PUT'), 'ferry never asked IMDS for a session token')
  const v1gets = imds.requests.filter((r) => r.method === 'GET')
  assert.deepEqual(v1gets.map((r) => r.path), [], 'without imds_v1_fallback ferry must not make token-less (IMDSv1) requests')
  assertNothingSent(ep, strict, 'IMDS without tokens')

  // 405 (what some proxies in front of IMDS answer) with the fallback on: v1 requests, lines delivered.
  imds.options.tokenDisabledStatus = 405
  writeFerryConfig(ctx, ep.endpoint, { aws: { imds_v1_fallback: true } })
  const lenient = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
  try {
    await waitDelivered(lines, ep, lenient)
    const { code, stderr } = await stopFerry(lenient)
    assert.equal(code, 0, stderr)
    assert.ok(imds.issued.length >= 1)
    assert.ok(keysUsed(ep).every((k) => imds.issued.some((c) => c.accessKeyId === k)))
    assertNoRefusals(ep, lenient, 'IMDSv1 fallback')
  } finally {
    if (lenient.exitStatus === null) lenient.kill('SIGKILL')
  }
})

test('c) IMDS slower than the metadata timeout, or answering malformed JSON: exit naming it, no secret shown', { timeout: 90000 }, async () => {
  const issuer = createIssuer()
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  for (const [what, knobs] of [
    ['slow IMDS (8 s per answer)', { delayMs: 8000 }],
    ['malformed credentials JSON', { malformed: true }],
  ]) {
    const imds = closeLater(await startImds({ issuer, ...knobs }))
    const ctx = scratch('imds-bad')
    writeFerryConfig(ctx, ep.endpoint, { top: { log_level: 'debug' } })
    appendLines(ctx, makeLines('imds-bad', 5))
    const t0 = Date.now()
    const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
    const status = await expectExit(ferry, 45000, what)
    const elapsed = Date.now() - t0
    assertExitedWithError(status, ferry, what)
    const msg = noCredentialsMessage(ferry, what)
    assert.match(msg, /EC2 instance metadata \([^)]/, `${what}: the error must name EC2 instance metadata and why: ${msg}`)
    assertNothingSent(ep, ferry, what)
    if (knobs.delayMs) {
      // The metadata timeout is about 2 s; a few attempts may be made, but ferry must not wait out every answer.
      assert.ok(elapsed < 30000, `${what}: ferry took ${elapsed} ms to give up`)
    } else {
      assert.ok(imds.issued.length >= 1, `${what}: ferry never fetched the credential document`)
    }
    const out = ferry.output.stdout + ferry.output.stderr
    for (const c of imds.issued) {
      for (const s of [c.secretAccessKey, c.sessionToken, c.sessionToken.slice(16, 56), c.accessKeyId]) {
        assert.ok(!out.includes(s), `${what}: ferry's output shows a secret or full key id from the IMDS answer (${s.slice(0, 6)}...)\n${ferryOutputForHumans(ferry)}`)
      }
    }
  }
})

test('d) ECS container credentials with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; a wrong token; non-loopback http', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const token = 'Bearer ecs-auth-7Hq2Zr9Kx3Lm5Np8Rt1Vw4Yb6'
  const ecs = closeLater(await startContainerCredentials({ issuer, token }))
  const ctx = scratch('ecs')
  const tokenFile = path.join(ctx.tmp, 'ecs-token')
  fs.writeFileSync(tokenFile, token)
  writeFerryConfig(ctx, ep.endpoint)
  const lines = makeLines('ecs', 40)
  appendLines(ctx, lines)
  const uri = `${ecs.url}/v2/credentials/4d2f1c9e`
  const ferry = startFerry(ctx.configPath, {
    env: ferryEnv(ctx, { AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile }),
  })
  try {
    await waitDelivered(lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assert.ok(ecs.issued.length >= 1)
    assertStartLine(ferry, { provider: /ECS container/i, accessKeyId: ecs.issued[0].accessKeyId })
    assert.ok(ecs.requests.every((r) => r.headers.authorization === token && r.path === '/v2/credentials/4d2f1c9e'), `ECS requests: ${JSON.stringify(ecs.requests.map((r) => [r.path, r.headers.authorization]))}`)
    assert.ok(keysUsed(ep).every((k) => ecs.issued.some((c) => c.accessKeyId === k)))
    assertNoRefusals(ep, ferry, 'ECS')
    assert.ok(!(ferry.output.stderr + ferry.output.stdout).includes('7Hq2Zr9Kx3Lm5Np8Rt1Vw4Yb6'), 'the ECS authorization token appears in the output')
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }

  // A wrong token: the endpoint answers 401, ferry exits naming the ECS provider.
  const ep2 = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  writeFerryConfig(ctx, ep2.endpoint)
  fs.writeFileSync(tokenFile, 'Bearer wrong-token-Qz8Wx4Kp2Jn6Hm0')
  const before = ecs.requests.length
  const wrong = startFerry(ctx.configPath, {
    env: ferryEnv(ctx, { AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile }),
  })
  const status = await expectExit(wrong, 30000, 'ECS with a wrong token')
  assertExitedWithError(status, wrong, 'ECS with a wrong token')
  assert.match(wrong.output.stderr, /ECS container/, `the error must name the ECS container provider\n${ferryOutputForHumans(wrong)}`)
  assert.ok(ecs.requests.length > before, 'ferry did not ask the ECS endpoint')
  assert.ok(!(wrong.output.stderr + wrong.output.stdout).includes('Qz8Wx4Kp2Jn6Hm0'), 'the (wrong) ECS authorization token appears in the output')
  assertNothingSent(ep2, wrong, 'ECS with a wrong token')

  // http is allowed only to loopback: a plain-http URI elsewhere is refused without a connection attempt
  // (192.0.2.1 is TEST-NET-1: a connection would hang until the connect timeout).
  const t0 = Date.now()
  const remote = startFerry(ctx.configPath, {
    env: ferryEnv(ctx, { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://192.0.2.1:8080/creds', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer x' }),
  })
  const rs = await expectExit(remote, 30000, 'ECS with a non-loopback http URI')
  assertExitedWithError(rs, remote, 'ECS with a non-loopback http URI')
  assert.match(remote.output.stderr, /ECS container/, `the error must name the ECS container provider\n${ferryOutputForHumans(remote)}`)
  assert.ok(Date.now() - t0 < 8000, `refusing a non-loopback http URI took ${Date.now() - t0} ms: ferry seems to have tried to connect\n${ferryOutputForHumans(remote)}`)
})

test('e) web identity with 10 s credentials: the token file is read again at every refresh', { timeout: 90000 }, async () => {
  const issuer = createIssuer()
  const ctx = scratch('webid')
  const tokenFile = path.join(ctx.tmp, 'token.jwt')
  const tokens = ['eyJhbGciOiJSUzI1NiJ9.Zmlyc3Q.c2lnLW9uZQ', 'eyJhbGciOiJSUzI1NiJ9.c2Vjb25k.c2lnLXR3bw', 'eyJhbGciOiJSUzI1NiJ9.dGhpcmQ.c2lnLXRocmVl']
  // Replaced atomically, as kubelet does with projected service account tokens.
  const writeToken = (t) => {
    fs.writeFileSync(tokenFile + '.new', t)
    fs.renameSync(tokenFile + '.new', tokenFile)
  }
  writeToken(tokens[0])
  const sts = closeLater(await startSts({ issuer, lifetimeSeconds: 10, expectedWebIdentityToken: () => fs.readFileSync(tokenFile, 'utf8') }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  writeFerryConfig(ctx, ep.endpoint)
  fs.writeFileSync(ctx.logPath, '')
  const roleArn = 'arn:aws:iam::123456789012:role/ferry-web-identity'
  const ferry = startFerry(ctx.configPath, {
    env: ferryEnv(ctx, {
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: roleArn,
      AWS_ROLE_SESSION_NAME: 'ferry-webid-e',
      AWS_ENDPOINT_URL_STS: sts.url,
    }),
  })
  const writer = startWriter(ctx, 'webid', 50)
  const okCallWith = (t) => sts.calls.some((c) => c.action === 'AssumeRoleWithWebIdentity' && c.params.WebIdentityToken === t && !c.error)
  try {
    await waitUntil(() => okCallWith(tokens[0]), 15000, 'the first AssumeRoleWithWebIdentity', ferry)
    writeToken(tokens[1])
    await waitUntil(() => okCallWith(tokens[1]), 25000, `a refresh with the rewritten token (STS calls: ${JSON.stringify(sts.calls.map((c) => [c.params.WebIdentityToken?.slice(-8), c.error?.code]))})`, ferry)
    writeToken(tokens[2])
    await waitUntil(() => okCallWith(tokens[2]), 25000, 'a refresh with the token rewritten a second time', ferry)
    writer.stop()
    await waitDelivered(writer.lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)

    assertStartLine(ferry, { provider: /web identity/i, accessKeyId: sts.calls.find((c) => c.issued).issued.accessKeyId })
    const webCalls = sts.calls.filter((c) => c.action === 'AssumeRoleWithWebIdentity')
    assert.equal(webCalls.length, sts.calls.length, `unexpected STS actions: ${sts.calls.map((c) => c.action)}`)
    for (const c of webCalls) {
      assert.equal(c.params.RoleArn, roleArn)
      assert.equal(c.params.RoleSessionName, 'ferry-webid-e')
    }
    const stale = webCalls.filter((c) => c.error)
    assert.deepEqual(stale.map((c) => `${c.error.code}: token ...${c.params.WebIdentityToken?.slice(-8)}`), [], 'STS calls with a token that was no longer the file\'s')
    const used = keysUsed(ep)
    assert.ok(used.length >= 3, `expected >= 3 keys (one per token), accepted: ${JSON.stringify(ep.signatures.acceptedByKey)}`)
    assert.ok(used.every((k) => sts.issued.some((c) => c.accessKeyId === k)))
    assertNoRefusals(ep, ferry, 'web identity')
  } finally {
    writer.stop()
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

test('f) profile role_arn + source_profile + external_id: AssumeRole signed with the source keys; profile region', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const base = issuer.register({ accessKeyId: 'AKIAFERRYBASEPROFILE', secretAccessKey: 'baseProfileSecret0123456789abcdefghijKLMN' })
  const externalId = 'ext-id-f-5Jk8Lq2Wm9Xz4Rv7'
  const sts = closeLater(await startSts({ issuer, expectedExternalId: externalId }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('profile-role')
  const roleArn = 'arn:aws:iam::123456789012:role/ferry-app'
  fs.writeFileSync(
    ctx.awsConfig,
    `[profile app]\nrole_arn = ${roleArn}\nsource_profile = base\nexternal_id = ${externalId}\nrole_session_name = ferry-profile-f\nregion = eu-west-2\n\n[profile base]\nregion = us-west-1\n`,
  )
  fs.writeFileSync(ctx.awsCredentials, `[base]\naws_access_key_id = ${base.accessKeyId}\naws_secret_access_key = ${base.secretAccessKey}\n`)
  writeFerryConfig(ctx, ep.endpoint, { aws: { region: null, sts_endpoint: sts.url } })
  const lines = makeLines('profile-role', 40)
  appendLines(ctx, lines)
  const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { AWS_PROFILE: 'app' }) })
  try {
    await waitDelivered(lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const calls = sts.calls.filter((c) => c.action === 'AssumeRole')
    assert.ok(calls.length >= 1, `no AssumeRole call reached STS: ${JSON.stringify(sts.calls.map((c) => c.action))}\n${ferryOutputForHumans(ferry)}`)
    for (const c of calls) {
      assert.equal(c.verify, 'ok', `AssumeRole signature: ${c.verify} ${c.error?.message}`)
      assert.equal(c.signedBy, base.accessKeyId, 'AssumeRole must be signed with the source profile\'s keys')
      assert.equal(c.params.RoleArn, roleArn)
      assert.equal(c.params.ExternalId, externalId)
      assert.equal(c.params.RoleSessionName, 'ferry-profile-f')
      assert.equal(c.error, null, `STS refused: ${JSON.stringify(c.error)}`)
    }
    const used = keysUsed(ep)
    assert.ok(!used.includes(base.accessKeyId), 'the source profile\'s own keys were used for Kinesis instead of the role\'s')
    assert.ok(used.length >= 1 && used.every((k) => sts.issued.some((c) => c.accessKeyId === k)), `keys used: ${used}`)
    assertStartLine(ferry, { region: 'eu-west-2', provider: /profile/i, accessKeyId: used[0] })
    assertNoRefusals(ep, ferry, 'profile role')
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

test('g) profile credential_process; a process exiting 3 is an error naming the profile and the status', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const creds = issuer.issue({ lifetimeSeconds: 3600, source: 'credential_process' })
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('process')
  const script = path.join(ctx.tmp, 'creds.sh')
  const argsLog = path.join(ctx.tmp, 'args.log')
  const doc = JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: isoSeconds(creds.expiration.getTime()),
  })
  fs.writeFileSync(script, `#!/bin/sh\necho "$@" >> '${argsLog}'\ncat <<'EOF'\n${doc}\nEOF\n`, { mode: 0o755 })
  const failing = path.join(ctx.tmp, 'fail.sh')
  fs.writeFileSync(failing, `#!/bin/sh\necho "vault unreachable" >&2\nexit 3\n`, { mode: 0o755 })
  fs.writeFileSync(ctx.awsConfig, `[profile proc]\ncredential_process = ${script} --role reader\n\n[profile broken]\ncredential_process = ${failing}\n`)
  writeFerryConfig(ctx, ep.endpoint, { aws: { profile: 'proc' } })
  const lines = makeLines('process', 40)
  appendLines(ctx, lines)
  const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx) })
  try {
    await waitDelivered(lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assert.deepEqual(keysUsed(ep), [creds.accessKeyId])
    assert.match(fs.readFileSync(argsLog, 'utf8'), /^--role reader$/m, 'the process must get the arguments of credential_process')
    assertStartLine(ferry, { provider: /profile|process/i, accessKeyId: creds.accessKeyId })
    assertNoRefusals(ep, ferry, 'credential_process')
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }

  writeFerryConfig(ctx, ep.endpoint, { aws: { profile: 'broken' } })
  const before = ep.requests
  const bad = startFerry(ctx.configPath, { env: ferryEnv(ctx) })
  const status = await expectExit(bad, 30000, 'a failing credential_process')
  assertExitedWithError(status, bad, 'a failing credential_process')
  assert.match(bad.output.stderr, /broken/, `the error must name the profile 'broken'\n${ferryOutputForHumans(bad)}`)
  assert.match(bad.output.stderr, /exit(ed)?( with)?( status| code)? 3\b|status 3\b/i, `the error must give the exit status 3\n${ferryOutputForHumans(bad)}`)
  assert.equal(ep.requests, before, 'nothing may be sent without credentials')
})

test('h) aws.role_arn + aws.external_id assumed on top of environment keys, and assumed again before it expires', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const envKeys = issuer.register({ accessKeyId: 'AKIAFERRYENVIRONMENT', secretAccessKey: 'envSecretKey0123456789abcdefghijklmnOPQR' })
  const externalId = 'ext-id-h-3Tg6Yh9Uj2Ik5Ol8'
  const roleArn = 'arn:aws:iam::123456789012:role/ferry-writer'
  const sts = closeLater(await startSts({ issuer, expectedExternalId: externalId, expectedRoleArn: roleArn, lifetimeSeconds: 10 }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('config-role')
  writeFerryConfig(ctx, ep.endpoint, { aws: { role_arn: roleArn, external_id: externalId, role_session_name: 'ferry-role-h', sts_endpoint: sts.url } })
  fs.writeFileSync(ctx.logPath, '')
  const ferry = startFerry(ctx.configPath, {
    env: ferryEnv(ctx, { AWS_ACCESS_KEY_ID: envKeys.accessKeyId, AWS_SECRET_ACCESS_KEY: envKeys.secretAccessKey }),
  })
  const writer = startWriter(ctx, 'config-role', 50)
  try {
    // 10 s role credentials are assumed again after about 5 s; then a request signs with the new ones.
    const assumed = () => sts.calls.filter((c) => c.action === 'AssumeRole').length
    await waitUntil(() => assumed() >= 2 && keysUsed(ep).length >= 2, 20000, `the role assumed again and its new key used (AssumeRole calls: ${assumed()})`, ferry)
    writer.stop()
    await waitDelivered(writer.lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const calls = sts.calls.filter((c) => c.action === 'AssumeRole')
    assert.ok(calls.length >= 2, `expected an AssumeRole at start and another before the 10 s role credentials expired, got ${calls.length}: ${JSON.stringify(sts.calls.map((c) => c.action))}\n${ferryOutputForHumans(ferry)}`)
    for (const c of calls) {
      assert.equal(c.error, null, `STS refused: ${JSON.stringify(c.error)}`)
      assert.equal(c.signedBy, envKeys.accessKeyId, 'AssumeRole must be signed with the environment keys')
      assert.equal(c.params.ExternalId, externalId)
      assert.equal(c.params.RoleSessionName, 'ferry-role-h')
    }
    const used = keysUsed(ep)
    assert.ok(!used.includes(envKeys.accessKeyId), 'the environment keys were used for Kinesis instead of the role\'s')
    assert.ok(used.length >= 2 && used.every((k) => sts.issued.some((c) => c.accessKeyId === k)), `expected >= 2 role keys used, used: ${used}`)
    assertStartLine(ferry, { region: 'us-east-1', accessKeyId: used[0] })
    assertNoRefusals(ep, ferry, 'config role')
  } finally {
    writer.stop()
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

test('i) no credentials anywhere: exit before sending, naming every provider and why it failed', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('none')
  writeFerryConfig(ctx, ep.endpoint)
  appendLines(ctx, makeLines('none', 5))

  // A metadata service that is not there: a port that was just free.
  const gone = await startImds({ issuer })
  const goneUrl = gone.url
  await gone.close()

  for (const [what, env] of [
    ['IMDS disabled', ferryEnv(ctx)],
    ['IMDS unreachable', { ...ferryEnv(ctx), AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: goneUrl }],
  ]) {
    const ferry = startFerry(ctx.configPath, { env })
    const status = await expectExit(ferry, 30000, what)
    assertExitedWithError(status, ferry, what)
    const msg = noCredentialsMessage(ferry, what)
    let at = -1
    for (const p of PROVIDERS) {
      // "<provider> (<why>)"; the profile may be named after the word ("profile default (...)").
      const i = msg.search(new RegExp(`(^|: |, )${esc(p)}( [^,(]+)? \\(`))
      assert.ok(i >= 0, `${what}: the error must name '${p} (<why>)': ${msg}`)
      assert.ok(i > at, `${what}: providers must be listed in chain order (${PROVIDERS.join(', ')}): ${msg}`)
      at = i
    }
    assert.match(msg, /environment \([^)]*AWS_ACCESS_KEY_ID[^)]*\)/, `${what}: environment's reason should name AWS_ACCESS_KEY_ID: ${msg}`)
    assert.match(msg, /web identity \([^)]*AWS_WEB_IDENTITY_TOKEN_FILE[^)]*\)/, `${what}: web identity's reason should name AWS_WEB_IDENTITY_TOKEN_FILE: ${msg}`)
    if (what === 'IMDS disabled') assert.match(msg, /EC2 instance metadata \([^)]*AWS_EC2_METADATA_DISABLED/, `${what}: ${msg}`)
    assertNothingSent(ep, ferry, what)
  }
})

test('j) secrets never appear in ferry\'s output, `ferry check` or `ferry status`; key ids only masked', { timeout: 120000 }, async () => {
  const issuer = createIssuer()
  const secrets = new Map() // secret -> where it came from
  const secret = (label, value) => (secrets.set(value, label), value)
  const imds = closeLater(await startImds({ issuer }))
  const ecsToken = secret('ECS authorization token', 'Bearer ecsTok-Wq7Er4Ty1Ui8Op5As2Df')
  const ecs = closeLater(await startContainerCredentials({ issuer, token: ecsToken }))
  const cfgExternal = secret('config external_id', 'extCfg-Zx3Cv6Bn9Mq2Wl5Ek8Rj')
  const profExternal = secret('profile external_id', 'extProf-Hy4Gt7Fr0Ed3Ws6Qa9Pl')
  const webToken = secret('web identity token', 'eyJhbGciOiJSUzI1NiJ9.d2ViVG9rZW5TZWNyZXQ.Kp4Jm7Nb0Vc3Xz6')
  const sts = closeLater(await startSts({ issuer }))
  const proxyPassword = secret('proxy password', 'prxPw-Lk9Jh6Gf3Ds0Az7Qm')

  const reg = (label, id, secretKey, token) => {
    secret(`${label} secret key`, secretKey)
    if (token) secret(`${label} session token`, token)
    return issuer.register({ accessKeyId: id, secretAccessKey: secretKey, sessionToken: token })
  }
  const cfgKeys = reg('config', 'ASIAFERRYCONFIGKEY01', 'cfgSecret/Aq1Sw2De3Fr4Gt5Hy6Ju7Ki8Lo9P+', 'cfgSessionToken-Mn3Bv6Cx9Za2Lk5Jh8Gf1Ds4Qw7Er0Ty')
  const envKeys = reg('environment', 'ASIAFERRYENVKEY00002', 'envSecret/Pl0Ok9Ij8Uh7Yg6Tf5Rd4Es3Wa2Q+', 'envSessionToken-Rt5Yu8Io1Pa4Sd7Fg0Hj3Kl6Zx9Cv2')
  const profKeys = reg('profile', 'AKIAFERRYPROFILEKEY3', 'profSecret/Zq1Xw2Ce3Vr4Bt5Ny6Mu7Li8Ko9J+')

  const collected = []
  const collect = (label, text) => collected.push({ label, text: String(text ?? '') })
  const ferryCli = async (args, env) => {
    try {
      const r = await execFileP(ferryBinary(), args, { env, timeout: 20000 })
      return r.stdout + r.stderr
    } catch (e) {
      return `${e.stdout ?? ''}${e.stderr ?? ''} [exit ${e.code}]`
    }
  }

  const runs = [
    {
      name: 'config keys + aws.role_arn/external_id + proxy',
      aws: {
        access_key_id: cfgKeys.accessKeyId,
        secret_access_key: cfgKeys.secretAccessKey,
        session_token: cfgKeys.sessionToken,
        role_arn: 'arn:aws:iam::123456789012:role/ferry-secrets',
        external_id: cfgExternal,
        sts_endpoint: sts.url,
        proxy: `http://ferryproxy:${proxyPassword}@127.0.0.1:9`,
        no_proxy: '127.0.0.1,localhost',
      },
      env: {},
    },
    { name: 'environment keys', env: { AWS_ACCESS_KEY_ID: envKeys.accessKeyId, AWS_SECRET_ACCESS_KEY: envKeys.secretAccessKey, AWS_SESSION_TOKEN: envKeys.sessionToken } },
    {
      name: 'web identity',
      setup: (ctx) => fs.writeFileSync(path.join(ctx.tmp, 'token'), webToken),
      env: (ctx) => ({ AWS_WEB_IDENTITY_TOKEN_FILE: path.join(ctx.tmp, 'token'), AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/web', AWS_ENDPOINT_URL_STS: sts.url }),
    },
    {
      name: 'profile static keys + role with external_id',
      aws: { sts_endpoint: sts.url },
      setup: (ctx) => {
        fs.writeFileSync(ctx.awsConfig, `[profile sec]\nrole_arn = arn:aws:iam::123456789012:role/prof\nsource_profile = keys\nexternal_id = ${profExternal}\n\n[profile keys]\n`)
        fs.writeFileSync(ctx.awsCredentials, `[keys]\naws_access_key_id = ${profKeys.accessKeyId}\naws_secret_access_key = ${profKeys.secretAccessKey}\n`)
      },
      env: { AWS_PROFILE: 'sec' },
    },
    { name: 'ECS', env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${ecs.url}/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN: ecsToken } },
    {
      name: 'credential_process',
      setup: (ctx) => {
        const c = issuer.issue({ source: 'credential_process' })
        const doc = JSON.stringify({ Version: 1, AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: isoSeconds(c.expiration.getTime()) })
        const script = path.join(ctx.tmp, 'creds.sh')
        fs.writeFileSync(script, `#!/bin/sh\ncat <<'EOF'\n${doc}\nEOF\n`, { mode: 0o755 })
        fs.writeFileSync(ctx.awsConfig, `[profile proc]\ncredential_process = ${script}\n`)
      },
      env: { AWS_PROFILE: 'proc' },
    },
    { name: 'IMDS', imds: true, env: {} },
  ]
  for (const run of runs) {
    const ctx = scratch('secrets')
    run.setup?.(ctx)
    const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
    writeFerryConfig(ctx, ep.endpoint, { aws: run.aws || {}, top: { log_level: 'debug' } })
    const lines = makeLines(`secrets-${run.name}`, 20)
    appendLines(ctx, lines)
    const env = ferryEnv(ctx, { ...(run.imds ? { imds } : {}), ...(typeof run.env === 'function' ? run.env(ctx) : run.env) })
    const cleanEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))), ...env }
    for (const k of Object.keys(cleanEnv)) if (cleanEnv[k] === undefined) delete cleanEnv[k]
    collect(`${run.name}: ferry check -c`, await ferryCli(['check', '-c', ctx.configPath], cleanEnv))
    const ferry = startFerry(ctx.configPath, { env })
    try {
      await waitDelivered(lines, ep, ferry)
      collect(`${run.name}: ferry status`, await ferryCli(['status', '--state-dir', ctx.stateDir], cleanEnv))
      collect(`${run.name}: ferry status --json`, await ferryCli(['status', '--state-dir', ctx.stateDir, '--json'], cleanEnv))
      const { code } = await stopFerry(ferry)
      assert.equal(code, 0, `${run.name}: ${ferryOutputForHumans(ferry)}`)
      assert.match(ferry.output.stderr, /credentials from [^\n]*\(access key \*{4,}[A-Z0-9]{4}\)/, `${run.name}: no masked start line\n${ferryOutputForHumans(ferry)}`)
    } finally {
      if (ferry.exitStatus === null) ferry.kill('SIGKILL')
      collect(`${run.name}: ferry stderr`, ferry.output.stderr)
      collect(`${run.name}: ferry stdout`, ferry.output.stdout)
    }
  }
  // The collection is not vacuous: debug logging was on, and check and status answered.
  assert.ok(collected.some((c) => c.label.endsWith('ferry stderr') && / debug /.test(c.text)), 'no debug lines in any run: was log_level debug honoured?')
  for (const c of collected.filter((c) => /ferry (check|status)/.test(c.label))) {
    assert.doesNotMatch(c.text, /\[exit \d+\]$/, `${c.label} failed: ${c.text}`)
  }
  assert.ok(sts.calls.filter((c) => !c.error).length >= 3, `STS was not used by every run that needs it: ${JSON.stringify(sts.calls.map((c) => [c.action, c.error?.code]))}`)
  assert.ok(imds.issued.length >= 1 && ecs.issued.length >= 1, 'IMDS and ECS were not asked')
  for (const s of issuer.secrets()) if (!secrets.has(s)) secrets.set(s, 'issued secret key or session token')

  // Whole secrets, and 12-character pieces of their random middle and end (a truncated or partly masked leak).
  const leaks = []
  for (const { label, text } of collected) {
    for (const [s, what] of secrets) {
      const pieces = [s]
      if (s.length >= 32) pieces.push(s.slice(16, 28), s.slice(-12))
      const hit = pieces.find((p) => text.includes(p))
      if (hit) leaks.push(`${what} (${s.slice(0, 5)}...) in ${label}: ...${text.slice(Math.max(0, text.indexOf(hit) - 60), text.indexOf(hit) + hit.length + 20)}...`)
    }
    for (const id of issuer.accessKeyIds()) {
      if (text.includes(id)) leaks.push(`full access key id ${id.slice(0, 4)}...${last4(id)} in ${label}`)
    }
    const unmasked = text.match(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g)
    if (unmasked) leaks.push(`access-key-shaped strings in ${label}: ${unmasked.map((x) => x.slice(0, 4) + '...' + last4(x)).join(', ')}`)
  }
  assert.deepEqual(leaks, [], 'secrets or unmasked access key ids in ferry\'s output')
})

// Runs ferry on IMDS credentials valid for 1 h, waits revokeAfterMs after the first accepted request, then
// has the issuer call the key in use expired (as AWS does for revoked sessions). Returns what happened.
async function revocationRun(name, revokeAfterMs) {
  const issuer = createIssuer()
  const imds = closeLater(await startImds({ issuer, lifetimeSeconds: 3600 }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch(name)
  writeFerryConfig(ctx, ep.endpoint)
  fs.writeFileSync(ctx.logPath, '')
  const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
  const writer = startWriter(ctx, name, 100)
  try {
    await waitUntil(() => keysUsed(ep).length >= 1, 20000, 'the first accepted request', ferry)
    const startedAt = Date.now()
    await sleep(revokeAfterMs)
    const first = keysUsed(ep)[0]
    issuer.expire(first) // AWS now calls this key expired, though its document said 1 h
    const revokedAt = Date.now()
    await waitUntil(() => ep.signatures.rejected.length >= 1, 10000, 'a request signed with the revoked key', ferry)
    const firstRefusalAt = ep.signatures.rejected[0].time
    await waitUntil(() => keysUsed(ep).length >= 2, 20000, `a new key after Kinesis answered ExpiredTokenException (refusals: ${ep.signatures.rejected.length})`, ferry)
    const newKeyAt = Date.now()
    await sleep(1500)
    writer.stop()
    await waitDelivered(writer.lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const expired = ep.signatures.rejected.filter((r) => r.error === 'ExpiredTokenException')
    assert.equal(expired.length, ep.signatures.rejected.length, `other refusals: ${JSON.stringify(ep.signatures.rejected.filter((r) => r.error !== 'ExpiredTokenException'))}`)
    assert.ok(expired.every((r) => r.accessKeyId === first), 'a key other than the revoked one was refused')
    assert.ok(imds.issued.length >= 2, `ferry did not fetch new credentials (IMDS issued ${imds.issued.length})`)
    return {
      ferry,
      sinceStartMs: revokedAt - startedAt,
      switchMs: newKeyAt - firstRefusalAt,
      refusals: expired.length,
      lateRefusals: expired.filter((r) => r.time > newKeyAt + 500).length,
    }
  } finally {
    writer.stop()
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
}

function assertRefreshedAtOnce(r, what) {
  assert.ok(
    r.switchMs <= 2000,
    `${what}: ferry went on signing with the refused key for ${r.switchMs} ms (${r.refusals} requests refused as ExpiredTokenException) ` +
      `before new credentials were used; expected a refresh at once (<= 2 s)\n${ferryOutputForHumans(r.ferry)}`,
  )
  assert.equal(r.lateRefusals, 0, `${what}: ${r.lateRefusals} requests were still signed with the refused key after the new one was in use`)
}

test('k) Kinesis refusing the key in use as expired before its stated expiry: ferry refreshes at once, nothing lost', { timeout: 60000 }, async (t) => {
  // 3 s after the start, so not right after a fetch.
  const r = await revocationRun('revoked', 3000)
  t.diagnostic(`new key in use ${r.switchMs} ms after the first refusal (${r.refusals} refused)`)
  assertRefreshedAtOnce(r, 'key revoked 3 s after it was fetched')
})

test('k2) the same within a second of fetching the key: still refreshed at once', { timeout: 60000 }, async (t) => {
  const r = await revocationRun('revoked-early', 1000)
  t.diagnostic(`new key in use ${r.switchMs} ms after the first refusal (${r.refusals} refused)`)
  assertRefreshedAtOnce(r, 'key revoked 1 s after it was fetched')
})

test('l) the region comes from IMDS placement/region when neither config, environment nor profile names one', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const imds = closeLater(await startImds({ issuer, region: 'ap-southeast-2' }))
  const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
  const ctx = scratch('region')
  writeFerryConfig(ctx, ep.endpoint, { aws: { region: null } })
  const lines = makeLines('region', 10)
  appendLines(ctx, lines)
  const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { imds }) })
  try {
    await waitDelivered(lines, ep, ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertStartLine(ferry, { region: 'ap-southeast-2', provider: /EC2 instance metadata/i })
    assert.ok(imds.requests.some((r) => r.path === '/latest/meta-data/placement/region' && r.tokenValid), 'placement/region was not asked with a token')
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

test('m) profile role_arn + credential_source (Ec2InstanceMetadata, EcsContainer); region from AWS_REGION / AWS_DEFAULT_REGION', { timeout: 60000 }, async () => {
  const issuer = createIssuer()
  const imds = closeLater(await startImds({ issuer, region: 'ap-southeast-2' }))
  const ecsToken = 'ecs-m-token-Vb5Nm8Qw1Er4'
  const ecs = closeLater(await startContainerCredentials({ issuer, token: ecsToken }))
  const sts = closeLater(await startSts({ issuer }))
  const runs = [
    {
      source: 'Ec2InstanceMetadata',
      env: { AWS_DEFAULT_REGION: 'ca-central-1' },
      imds: true,
      region: 'ca-central-1', // AWS_DEFAULT_REGION before IMDS placement/region
      signer: () => imds.issued.map((c) => c.accessKeyId),
    },
    {
      source: 'EcsContainer',
      env: { AWS_REGION: 'sa-east-1', AWS_DEFAULT_REGION: 'ca-central-1', AWS_CONTAINER_CREDENTIALS_FULL_URI: `${ecs.url}/v2/credentials/m`, AWS_CONTAINER_AUTHORIZATION_TOKEN: ecsToken },
      region: 'sa-east-1', // AWS_REGION before AWS_DEFAULT_REGION and the profile's region
      signer: () => ecs.issued.map((c) => c.accessKeyId),
    },
  ]
  for (const run of runs) {
    const ep = closeLater(await startPutRecordsEndpoint({ verifySignature: issuer }))
    const ctx = scratch('credsource')
    const roleArn = `arn:aws:iam::123456789012:role/ferry-${run.source.toLowerCase()}`
    fs.writeFileSync(ctx.awsConfig, `[profile cs]\nrole_arn = ${roleArn}\ncredential_source = ${run.source}\nregion = eu-north-1\n`)
    writeFerryConfig(ctx, ep.endpoint, { aws: { region: null, profile: 'cs', sts_endpoint: sts.url } })
    const lines = makeLines(`credsource-${run.source}`, 20)
    appendLines(ctx, lines)
    const callsBefore = sts.calls.length
    const ferry = startFerry(ctx.configPath, { env: ferryEnv(ctx, { ...(run.imds ? { imds } : {}), ...run.env }) })
    try {
      await waitDelivered(lines, ep, ferry)
      const { code, stderr } = await stopFerry(ferry)
      assert.equal(code, 0, stderr)
      const calls = sts.calls.slice(callsBefore).filter((c) => c.action === 'AssumeRole' && c.params.RoleArn === roleArn)
      assert.ok(calls.length >= 1, `${run.source}: no AssumeRole for ${roleArn}: ${JSON.stringify(sts.calls.slice(callsBefore).map((c) => [c.action, c.params.RoleArn, c.error?.code]))}\n${ferryOutputForHumans(ferry)}`)
      for (const c of calls) {
        assert.equal(c.error, null, `${run.source}: STS refused: ${JSON.stringify(c.error)}`)
        assert.ok(run.signer().includes(c.signedBy), `${run.source}: AssumeRole must be signed with the ${run.source} credentials, was signed by ${c.signedBy}`)
      }
      const used = keysUsed(ep)
      assert.ok(used.length >= 1 && used.every((k) => sts.issued.some((c) => c.accessKeyId === k)), `${run.source}: Kinesis must be called with the role's keys, used: ${used}`)
      assertStartLine(ferry, { region: run.region, accessKeyId: used[0] })
      assertNoRefusals(ep, ferry, run.source)
    } finally {
      if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    }
  }
})
