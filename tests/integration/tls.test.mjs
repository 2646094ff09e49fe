// tls.test.mjs — ferry verifies every TLS peer, against the system store or aws.ca_file only.
//
// Role: integration tests of certificate checking against the tests' own PutRecords endpoint served over
// HTTPS (lib/put_records_endpoint.mjs) with certificates of a CA made at test time (lib/test_ca.mjs), which
// no system store trusts. With aws.ca_file naming that CA every line arrives; without it, or with a
// certificate for another host name, ferry refuses to send, says why, and loses nothing: the lines arrive
// once it is restarted with a config it can trust.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans, yamlQuote } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'
import { makeTestCa } from './lib/test_ca.mjs'

const temps = []
let ca
let goodCert
let wrongNameCert

before(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-tls-ca-'))
  temps.push(dir)
  ca = makeTestCa(dir)
  goodCert = ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] })
  wrongNameCert = ca.issue('wrong', { dns: ['wrong.example'] })
})

after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

// No proxy from the test's own environment: these requests must go straight to 127.0.0.1.
const NO_PROXY_ENV = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', ALL_PROXY: '', all_proxy: '' }

// Writes `count` lines and a config for them; caFile, when given, goes into the aws section.
function setup(endpoint, count, { caFile } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-tls-'))
  temps.push(tmp)
  const lines = generateLines(count, { longLines: [] })
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, fileContents(lines))
  const configPath = path.join(tmp, 'ferry.yaml')
  // Sets the endpoint and the ca_file of the config (no ca_file when it is null).
  const rewrite = ({ endpoint, caFile }) => {
    writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint, stream: 's', files: [logPath] })
    if (caFile) {
      const text = fs.readFileSync(configPath, 'utf8')
      fs.writeFileSync(configPath, text.replace('aws:\n', `aws:\n  ca_file: ${yamlQuote(caFile)}\n`))
    }
  }
  rewrite({ endpoint, caFile })
  return { lines, configPath, rewrite }
}

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n` + (ferry ? ferryOutputForHumans(ferry) : ''))
    await new Promise((r) => setTimeout(r, 50))
  }
}

function assertExactlyOnce(lines, accepted, ferry) {
  const result = compareRecords(lines, accepted.map((data) => ({ data })))
  assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
}

// Runs ferry on a config it cannot trust the endpoint with: the handshake fails with `expected` logged and
// nothing arrives; then, restarted with ca_file against an endpoint with a good certificate, every line
// arrives once: the refused requests were kept (spool, checkpoints), not dropped.
async function refusedThenDelivered({ cert, caFile, expected }) {
  let ep = await startPutRecordsEndpoint({ https: { key: cert.key, cert: cert.cert } })
  const { lines, configPath, rewrite } = setup(ep.endpoint, 500, { caFile })
  let ferry = startFerry(configPath, { env: NO_PROXY_ENV })
  try {
    await waitUntil(() => expected.test(ferry.output.stderr), 20000, `a TLS error matching ${expected}`, ferry)
    // Retries keep failing the same way; give them a moment to prove nothing slips through.
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(ep.requests, 0, 'a request got through an untrusted TLS connection')
    assert.equal(ep.accepted.length, 0)
    let { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)

    // Now an endpoint with a certificate ferry can check, and the CA in the config.
    await ep.stop()
    ep = await startPutRecordsEndpoint({ https: { key: goodCert.key, cert: goodCert.cert } })
    rewrite({ endpoint: ep.endpoint, caFile: ca.caFile })
    ferry = startFerry(configPath, { env: NO_PROXY_ENV })
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all lines after the restart', ferry)
    ;({ code, stderr } = await stopFerry(ferry))
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
    return stderr
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
}

test('with aws.ca_file naming the test CA, every line arrives over HTTPS', async () => {
  const ep = await startPutRecordsEndpoint({ https: { key: goodCert.key, cert: goodCert.cert } })
  assert.match(ep.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/)
  const { lines, configPath } = setup(ep.endpoint, 2000, { caFile: ca.caFile })
  const ferry = startFerry(configPath, { env: NO_PROXY_ENV })
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all lines', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('without aws.ca_file the test CA is not trusted: a certificate error, nothing sent, nothing lost', async () => {
  await refusedThenDelivered({ cert: goodCert, caFile: null, expected: /certificate/i })
})

test('a certificate for another host name is refused even with aws.ca_file, and nothing is lost', async () => {
  await refusedThenDelivered({ cert: wrongNameCert, caFile: ca.caFile, expected: /127\.0\.0\.1.*(subject name|host name|does not match)/i })
})

test('an aws.ca_file that does not exist stops ferry at start, naming the key and the path', async () => {
  const { configPath } = setup('https://127.0.0.1:9', 1, { caFile: '/nonexistent/ferry-test-ca.pem' })
  const ferry = startFerry(configPath, { env: NO_PROXY_ENV })
  let timer
  try {
    const { code, stderr } = await Promise.race([
      ferry.exited.then(() => stopFerry(ferry)),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ferry kept running\n' + ferryOutputForHumans(ferry))), 15000))),
    ])
    assert.notEqual(code, 0, stderr)
    assert.match(stderr, /aws\.ca_file \/nonexistent\/ferry-test-ca\.pem: .*No such file or directory/)
  } finally {
    clearTimeout(timer) // a pending timer would hold the test process open for its 15 s
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
})

// An untrusted certificate is the operator's to fix, like denied access: one error line that says what to
// check, and a retry at the slow pace (retry.slow_retry, 1 minute by default), not every few hundred ms.
test('an untrusted certificate is retried slowly, with one error line', async (t) => {
  const ep = await startPutRecordsEndpoint({ https: { key: goodCert.key, cert: goodCert.cert } })
  const { configPath } = setup(ep.endpoint, 500)
  const ferry = startFerry(configPath, { env: NO_PROXY_ENV })
  try {
    await waitUntil(() => /certificate/i.test(ferry.output.stderr), 20000, 'the certificate error', ferry)
    const refusedAt = Date.now()
    // At the normal backoff (100 ms doubling, with the shard listing's own four retries) this is a dozen
    // handshakes; at the slow pace, the listing's one and the request's: its first attempt, and its
    // replay from the spool it was written to.
    await new Promise((r) => setTimeout(r, 4000))
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assert.equal(ep.requests, 0)
    t.diagnostic(`${ep.connections} TLS handshakes in ${(Date.now() - refusedAt) / 1000} s after the first error`)
    assert.ok(ep.connections <= 4, `${ep.connections} TLS handshakes in ${(Date.now() - refusedAt) / 1000} s:\n${stderr}`)
    const lines = stderr.split('\n')
    const errors = lines.filter((l) => / error /.test(l) && /certificate/i.test(l))
    assert.equal(errors.length, 1, stderr)
    assert.match(errors[0], /UntrustedCertificate: 127\.0\.0\.1:\d+: .*certificate.*; check aws\.ca_file and the endpoint's certificate and host name\); retrying in \d+ ms/)
    // Besides: the shard listing that failed, and the request written to the spool.
    assert.ok(lines.filter((l) => /certificate/i.test(l)).length <= 3, stderr)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})
