// delivery.test.mjs — what ferry does when the endpoint does not simply say yes.
//
// Role: integration tests of retries and shutdown against the tests' own PutRecords endpoint
// (lib/put_records_endpoint.mjs), which can fail single records, fail whole requests, and answer
// slowly or never; kinesalite cannot do any of that. Each test ends by comparing what the endpoint
// stored with the lines written.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

// Writes `count` lines and a config for them; extraYaml is appended at the top level.
function setup(endpoint, count, extraYaml = '') {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-delivery-'))
  temps.push(tmp)
  const lines = generateLines(count, { longLines: [] })
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, fileContents(lines))
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint, stream: 's', files: [logPath] })
  fs.appendFileSync(configPath, extraYaml)
  return { tmp, lines, configPath }
}

async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function assertExactlyOnce(lines, accepted, ferry) {
  const result = compareRecords(
    lines,
    accepted.map((data) => ({ data })),
  )
  assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
}

test('records that fail inside a PutRecords response are retried alone until stored', async () => {
  // Request 0: every third record throttled; request 1: its first record fails internally; then all good.
  const ep = await startPutRecordsEndpoint({
    policy: ({ index }) => {
      if (index === 0) return { failRecord: (i) => (i % 3 === 0 ? 'ProvisionedThroughputExceededException' : null) }
      if (index === 1) return { failRecord: (i) => (i === 0 ? 'InternalFailure' : null) }
      return {}
    },
  })
  const { lines, configPath } = setup(ep.endpoint, 1200)
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all records')
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
    assert.match(stderr, /records failed \(ProvisionedThroughputExceededException x\d+; e\.g\. "injected/)
    // Failing again on its retry, the record went to the spool and was sent from there.
    assert.match(stderr, /records failed again \(InternalFailure x1.*written to the spool/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('protocol: cbor sends raw bytes in CBOR 1.1 and reads CBOR verdicts, per-record failures and errors', async () => {
  // Request 0 fails as a whole (400 in CBOR), request 1 has every fourth record throttled.
  const ep = await startPutRecordsEndpoint({
    policy: ({ index }) => {
      if (index === 0) return { status: 400, body: { __type: 'ResourceNotFoundException', message: 'injected' } }
      if (index === 1) return { failRecord: (i) => (i % 4 === 0 ? 'ProvisionedThroughputExceededException' : null) }
      return {}
    },
  })
  // Binary and invalid UTF-8 lines as well as text: CBOR carries them as byte strings, unencoded.
  // Unaggregated, so requests carry 500 records and their CBOR answers run past 16 KiB.
  const { tmp, lines, configPath } = setup(ep.endpoint, 2000, '      protocol: cbor\n      aggregate: false\n')
  const binary = [Buffer.from([0xff, 0xfe, 0x00, 0x01]), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from([0xf4, 0x90, 0x80, 0x80, 0x7f])]
  fs.appendFileSync(path.join(tmp, 'app.log'), fileContents(binary))
  lines.push(...binary)
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all records')
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
    assert.equal(ep.protocols.json, 0)
    assert.ok(ep.protocols.cbor >= 3)
    assert.match(stderr, /ResourceNotFoundException/)
    assert.match(stderr, /records failed \(ProvisionedThroughputExceededException x\d+/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('a stream with a raised MaxRecordSize takes a 3 MiB line as one record', async () => {
  const ep = await startPutRecordsEndpoint()
  const { tmp, lines, configPath } = setup(ep.endpoint, 100, '      max_record_size: 4MiB\n')
  fs.writeFileSync(configPath, fs.readFileSync(configPath, 'utf8').replace('    kinesis:\n', '    max_record_bytes: 4MiB\n    kinesis:\n'))
  const big = Buffer.alloc(3 << 20, 'large record ')
  fs.appendFileSync(path.join(tmp, 'app.log'), fileContents([big]))
  lines.push(big)
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all records')
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('a request that fails as a whole (HTTP 500, 400 ResourceNotFound) goes to the spool and is sent again', async () => {
  const ep = await startPutRecordsEndpoint({
    policy: ({ index }) => {
      if (index === 0) return { status: 500, body: { __type: 'InternalFailure', message: 'injected 500' } }
      if (index === 1)
        return {
          status: 400,
          body: { __type: 'com.amazonaws.kinesis.v20131202#ResourceNotFoundException', message: 'Stream s not found' },
        }
      return {}
    },
  })
  const { lines, configPath } = setup(ep.endpoint, 300, 'retry: { slow_retry: 1s }\n')
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all records')
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
    assert.match(stderr, /failed \(InternalFailure: HTTP 500: injected 500\); written to the spool/)
    // Not found is for an operator to fix: said loudly and retried at the slow_retry pace.
    assert.match(stderr, /error .*failed \(ResourceNotFoundException: HTTP 400: Stream s not found; check the stream/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('SIGTERM lets the request in flight finish before ferry exits', async () => {
  const ep = await startPutRecordsEndpoint({ policy: ({ index }) => (index === 0 ? { delayMs: 1500 } : {}) })
  const { lines, configPath } = setup(ep.endpoint, 200)
  const ferry = startFerry(configPath)
  try {
    await ep.waitForRequests(1)
    const signalled = Date.now()
    const { code, stderr } = await stopFerry(ferry)
    const waited = Date.now() - signalled
    assert.equal(code, 0, stderr)
    assert.ok(waited >= 1000, `ferry exited ${waited} ms after SIGTERM, before its request was answered`)
    assertExactlyOnce(lines, ep.accepted, ferry)
    assert.doesNotMatch(stderr, /not delivered/)
    assert.match(stderr, /records sent 200 /)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('an endpoint that never answers holds shutdown only for shutdown_timeout, and the loss is reported', async () => {
  const ep = await startPutRecordsEndpoint({ policy: () => ({ hang: true }) })
  const { configPath } = setup(ep.endpoint, 100, 'shutdown_timeout: 1s\n')
  const ferry = startFerry(configPath)
  try {
    await ep.waitForRequests(1)
    const signalled = Date.now()
    const { code, stderr } = await stopFerry(ferry, 10000)
    const waited = Date.now() - signalled
    assert.equal(code, 0, stderr)
    assert.ok(waited >= 900 && waited < 5000, `ferry took ${waited} ms to exit with shutdown_timeout 1s`)
    assert.match(stderr, /100 records were not delivered within shutdown_timeout \(1s\)/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('a host clock an hour behind AWS: the refused signature corrects it from the Date header, every line arrives', async () => {
  const ep = await startPutRecordsEndpoint({ clockOffsetSeconds: 3600 })
  const { lines, configPath } = setup(ep.endpoint, 500)
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all records')
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertExactlyOnce(lines, ep.accepted, ferry)
    assert.match(stderr, /the host's clock is 3[56]\d\d s behind the endpoint's/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})
