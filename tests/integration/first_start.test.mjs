// first_start.test.mjs — ferry's first start against a Kinesis endpoint that does not answer yet.
//
// Role: issue 14 §1.2. With no state and start_at: end, the start position is fixed when ferry starts and
// reading never waits for the shard map: lines written after "ferry started" while the endpoint accepts
// connections but answers nothing (ListShards and PutRecords hang; put_records_endpoint.mjs, silent) are read
// at once (ferry status counts them while the endpoint is still silent), and every one of them arrives once
// it answers; the lines that were in the file before are not sent. Two silences:
//   - shorter than the first listing (it is still retrying): the records read meanwhile wait in the packer and
//     leave inside aggregates once the listing answers;
//   - longer than the first listing: the records go raw once it has failed, the listing is retried with a
//     backoff, and aggregation resumes within seconds of the endpoint answering, not at shard_map_refresh (1m).
// aws.request_timeout is 1 or 2 s, so each test takes seconds.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryStatus, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    await sleep(50)
  }
}

function lines(tag, count) {
  return Array.from({ length: count }, (_, i) => Buffer.from(`${tag} line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}`))
}

// ferry with a first start (empty state_dir), start_at: end, and the request timeout given; app.log holds
// lines written before ferry started, which start_at: end must skip.
function setup(endpoint, requestTimeout) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-first-start-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  const before = lines('before', 50)
  fs.writeFileSync(logPath, fileContents(before))
  const configPath = path.join(tmp, 'ferry.yaml')
  const stateDir = path.join(tmp, 'state')
  writeConfig(configPath, { stateDir, endpoint, stream: 's', files: [logPath], startAt: 'end' })
  const yaml = fs
    .readFileSync(configPath, 'utf8')
    .replace('aws:\n', `aws:\n  connect_timeout: 1s\n  request_timeout: ${requestTimeout}\n`)
  fs.writeFileSync(configPath, yaml + 'retry:\n  backoff_base: 100ms\n  backoff_cap: 1s\n')
  return { logPath, configPath, stateDir, before }
}

async function recordsRead(stateDir) {
  return (await ferryStatus(stateDir)).flows[0].counters.records_read
}

async function startAndWrite(t, ep, setupResult, written) {
  const ferry = startFerry(setupResult.configPath)
  await waitUntil(() => ferry.output.stderr.includes('ferry started'), 10000, '"ferry started"', ferry)
  const started = Date.now()
  // Written in five appends, 100 ms apart, all after "ferry started".
  for (let i = 0; i < 5; ++i) {
    const part = written.slice((i * written.length) / 5, ((i + 1) * written.length) / 5)
    fs.appendFileSync(setupResult.logPath, fileContents(part))
    await sleep(100)
  }
  // Read while the endpoint has not answered anything.
  await waitUntil(async () => (await recordsRead(setupResult.stateDir)) >= written.length, 8000, `${written.length} records read`, ferry)
  t.diagnostic(`${written.length} lines read ${Date.now() - started} ms after "ferry started", the endpoint still silent`)
  assert.ok(ep.isSilent)
  assert.equal(ep.listShardsCalls, 0, 'no listing can have been answered yet')
  return { ferry, started }
}

function assertArrivedOnce(ep, expected, ferry) {
  const cmp = compareRecords(expected, ep.accepted.map((data) => ({ data })))
  assert.ok(cmp.ok, `${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`)
}

test('a first start against a silent endpoint: lines read meanwhile wait for the shard map and leave aggregated', { timeout: 60000 }, async (t) => {
  const ep = await startPutRecordsEndpoint({ silent: true })
  const s = setup(ep.endpoint, '2s')
  const written = lines('silent', 500)
  const { ferry, started } = await startAndWrite(t, ep, s, written)
  try {
    // The first listing's attempts time out after 2 s each and it retries 4 times: it is still under way.
    await sleep(Math.max(0, 4000 - (Date.now() - started)))
    assert.ok(!ferry.output.stderr.includes("cannot list the stream's shards"), ferryOutputForHumans(ferry))
    assert.ok(ep.silentRequests['Kinesis_20131202.ListShards'] >= 1, 'ferry must have asked for the shards')
    ep.speak()
    await waitUntil(() => ep.accepted.length >= written.length, 20000, 'every line at the endpoint', ferry)
    await sleep(300) // anything more (a duplicate) would arrive now
    assertArrivedOnce(ep, written, ferry)
    const raw = ep.acceptedAggregated.filter((a) => !a).length
    assert.equal(raw, 0, `records read before the shard map must wait for it and go aggregated\n${ferryOutputForHumans(ferry)}`)
    t.diagnostic(`${ep.kinesisRecords} Kinesis records for ${written.length} lines`)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
  } finally {
    if (ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})

test('a first start whose first listing fails: nothing is skipped, and aggregation resumes once a listing works', { timeout: 60000 }, async (t) => {
  const ep = await startPutRecordsEndpoint({ silent: true })
  const s = setup(ep.endpoint, '1s')
  const during = lines('during', 300)
  const { ferry } = await startAndWrite(t, ep, s, during)
  try {
    // Five attempts of 1 s and the backoffs between them: the first listing gives up after 6.5 to 8 s.
    await waitUntil(() => ferry.output.stderr.includes("cannot list the stream's shards"), 25000, 'the first listing to fail', ferry)
    assert.match(ferry.output.stderr, /ListShards for Kinesis stream 's'.*(Timeout|timed out)/i)
    ep.speak()
    const spoke = Date.now()
    await waitUntil(() => /open shards; aggregating records per shard/.test(ferry.output.stderr), 8000, 'a listing to succeed after the endpoint answers', ferry)
    t.diagnostic(`aggregating again ${Date.now() - spoke} ms after the endpoint answered (shard_map_refresh is 1m)`)
    await waitUntil(() => ep.accepted.length >= during.length, 20000, 'the lines read during the silence', ferry)
    const afterwards = lines('after', 300)
    const base = ep.accepted.length
    fs.appendFileSync(s.logPath, fileContents(afterwards))
    await waitUntil(() => ep.accepted.length >= base + afterwards.length, 20000, 'the lines written afterwards', ferry)
    await sleep(300)
    assertArrivedOnce(ep, [...during, ...afterwards], ferry)
    const lateRaw = ep.accepted.filter((d, i) => d.toString().startsWith('after ') && !ep.acceptedAggregated[i]).length
    assert.equal(lateRaw, 0, `lines read after a listing worked must go aggregated\n${ferryOutputForHumans(ferry)}`)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
  } finally {
    if (ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})
