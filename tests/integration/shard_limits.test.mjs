// shard_limits.test.mjs — per-shard rate limits and one request in flight per shard, end to end.
//
// Role: ferry against the tests' own PutRecords endpoint (lib/put_records_endpoint.mjs), which lists one
// shard, so every record ferry sends is predicted for it. The policy hook sees each request as it
// arrives, which is where these tests measure: bytes over time against `rate_limit`, and requests in
// flight against `one_request_per_shard`. Time is only ever asserted from below (a limiter that lets
// more through shows as too little time); each test also checks that every line arrived exactly once.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const run = promisify(execFile)
const SHARD_BYTES_PER_SECOND = 1 << 20

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function setup(endpoint, lines, kinesisYaml) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-shard-limits-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, fileContents(lines))
  const stateDir = path.join(tmp, 'state')
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir, endpoint, stream: 's', files: [logPath] })
  fs.appendFileSync(configPath, kinesisYaml.map((l) => `      ${l}\n`).join(''))
  return { stateDir, configPath, logPath }
}

async function shipAll(ep, configPath, stateDir, count) {
  const ferry = startFerry(configPath)
  try {
    const deadline = Date.now() + 120000
    while (ep.accepted.length < count) {
      if (ferry.exitStatus) assert.fail(`ferry exited on its own\n${ferryOutputForHumans(ferry)}`)
      if (Date.now() > deadline) assert.fail(`timed out\n${ferryOutputForHumans(ferry)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const { stdout } = await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])
    const counters = JSON.parse(stdout).flows[0].counters
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    return { ferry, counters }
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
}

test('rate_limit: 10 keeps a shard at a tenth of 1 MiB/s, with no request over a second of it', async (t) => {
  const arrivals = [] // { at, bytes } per request: data and partition keys, what Kinesis meters
  const ep = await startPutRecordsEndpoint({
    policy: ({ records }) => {
      const bytes = records.reduce((a, r) => a + r.data.length + Buffer.byteLength(r.partitionKey), 0)
      arrivals.push({ at: Date.now(), bytes })
      return {}
    },
  })
  try {
    const lines = generateLines(3000, { longLines: [] }) // about 1.1 MB
    const { configPath, stateDir } = setup(ep.endpoint, lines, ['rate_limit: 10'])
    const { ferry, counters } = await shipAll(ep, configPath, stateDir, lines.length)
    const result = compareRecords(lines, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))

    const rate = SHARD_BYTES_PER_SECOND / 10 // bytes per second, and one second's allowance
    const total = arrivals.reduce((a, r) => a + r.bytes, 0)
    const largest = Math.max(...arrivals.map((r) => r.bytes))
    const span = (arrivals[arrivals.length - 1].at - arrivals[0].at) / 1000
    t.diagnostic(
      `${total} bytes in ${arrivals.length} requests over ${span.toFixed(1)} s ` +
        `(${(total / span / 1024).toFixed(0)} KiB/s against ${rate / 1024} KiB/s); largest request ${largest} bytes; ` +
        `${counters.throttle_waits} waits, ${counters.throttle_wait_ms} ms waited`,
    )
    assert.ok(largest <= rate, `a request of ${largest} bytes is more than a second of the shard's allowance`)
    // A full bucket (one second) goes at once, every later byte at the rate: the whole run cannot be shorter.
    const floor = (total - 2 * rate) / rate
    assert.ok(span >= floor, `${total} bytes took ${span.toFixed(2)} s; the limit allows no less than ${floor.toFixed(2)} s`)
    // No second holds more than its refill plus the bucket it may start with.
    for (let i = 0; i < arrivals.length; i++) {
      let inWindow = 0
      for (let j = i; j < arrivals.length && arrivals[j].at < arrivals[i].at + 1000; j++) inWindow += arrivals[j].bytes
      assert.ok(inWindow <= 2 * rate, `${inWindow} bytes arrived within one second of request ${i}`)
    }
    assert.ok(counters.throttle_waits > 0)
  } finally {
    await ep.stop()
  }
})

test('one_request_per_shard: never two requests in flight for a shard, and lines stored in file order', async (t) => {
  const DELAY_MS = 150
  const arrivals = []
  let inFlight = 0
  let maxInFlight = 0
  const ep = await startPutRecordsEndpoint({
    policy: () => {
      arrivals.push(Date.now())
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      setTimeout(() => inFlight--, DELAY_MS) // registered before the endpoint's answer, so it runs first
      return { delayMs: DELAY_MS }
    },
  })
  try {
    // The lines are appended while ferry runs: with max_age 100 ms a request leaves every 100 ms or so,
    // and each takes 150 ms to answer, so without the option two would often be in flight.
    const lines = generateLines(4000, { longLines: [] })
    const { configPath, stateDir, logPath } = setup(ep.endpoint, [], [
      'one_request_per_shard: true',
      'rate_limit: 0',
      'max_age: 100ms',
    ])
    const writing = (async () => {
      await new Promise((r) => setTimeout(r, 500))
      for (let i = 0; i < lines.length; i += 40) {
        fs.appendFileSync(logPath, fileContents(lines.slice(i, i + 40)))
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const shipped = shipAll(ep, configPath, stateDir, lines.length)
    await writing
    const { counters } = await shipped
    t.diagnostic(`${arrivals.length} requests, at most ${maxInFlight} in flight; ${counters.shard_waits} waits for a busy shard`)
    assert.ok(arrivals.length >= 10, `only ${arrivals.length} requests`)
    assert.ok(counters.shard_waits > 0, 'no request ever waited for its shard: the test did not test the option')
    assert.equal(maxInFlight, 1)
    assert.equal(ep.accepted.length, lines.length)
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].equals(ep.accepted[i])) assert.fail(`line ${i} was stored out of order`)
    }
  } finally {
    await ep.stop()
  }
})
