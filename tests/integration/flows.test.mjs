// flows.test.mjs — flows are independent of each other.
//
// One flow's destination stops answering (a Firehose endpoint that accepts requests and never answers, with a
// long request timeout, so the requests stay in flight and hold memory); the other flow, to a healthy Kinesis
// endpoint, must keep reading and sending. Each flow has its own share of memory_limit, so the stuck flow can
// only fill its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (ferry.exitStatus) throw new Error(`ferry exited before ${what}\n${ferryOutputForHumans(ferry)}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    await sleep(50)
  }
}

test('a flow whose endpoint stops answering does not stop the other flows from reading and sending', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-flows-'))
  const stuck = await startFirehoseEndpoint({ policy: () => ({ hang: true }) })
  const healthy = await startPutRecordsEndpoint()
  const stuckLog = path.join(tmp, 'stuck.log')
  const healthyLog = path.join(tmp, 'healthy.log')
  fs.writeFileSync(stuckLog, '')
  fs.writeFileSync(healthyLog, '')
  const config = path.join(tmp, 'ferry.yaml')
  fs.writeFileSync(
    config,
    [
      `state_dir: ${tmp}/state`,
      'memory_limit: 4MiB',
      'aws:',
      '  region: us-east-1',
      '  access_key_id: AKIDFERRYTEST',
      '  secret_access_key: ferry-test-secret',
      `  kinesis_endpoint: ${healthy.endpoint}`,
      `  firehose_endpoint: ${stuck.endpoint}`,
      '  request_timeout: 10m', // the stuck requests stay in flight for the whole test
      'flows:',
      '  - name: stuck',
      `    files: ["${stuckLog}"]`,
      '    start_at: beginning',
      '    firehose: { delivery_stream: d, max_age: 100ms }',
      '  - name: healthy',
      `    files: ["${healthyLog}"]`,
      '    start_at: beginning',
      '    kinesis: { stream: s, max_age: 100ms }',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  const ferry = startFerry(config)
  try {
    // 16 MiB for the stuck flow: far more than memory_limit, so its requests and reads fill its share.
    const line = 'x'.repeat(199) + '\n'
    fs.writeFileSync(stuckLog, line.repeat(16 * 5243))
    await waitUntil(() => stuck.requests >= 1, 20000, 'the stuck flow sending', ferry)
    await sleep(1000) // its share is full by now
    const lines = Array.from({ length: 2000 }, (_, i) => `healthy line ${i}`)
    fs.appendFileSync(healthyLog, lines.join('\n') + '\n')
    await waitUntil(() => healthy.accepted.length >= lines.length, 15000, 'the healthy flow delivering', ferry)
    const got = new Set(healthy.accepted.map((b) => b.toString()))
    for (const l of lines) assert.ok(got.has(l), `missing ${l}`)
    const status = JSON.parse(
      (await import('node:child_process')).execFileSync(process.env.FERRY_BIN, ['status', '--state-dir', `${tmp}/state`, '--json']),
    )
    const stuckFlow = status.flows.find((f) => f.name === 'stuck')
    assert.ok(stuckFlow.counters.bytes_behind > 0, 'the stuck flow should be waiting with bytes behind')
  } finally {
    ferry.kill('SIGKILL')
    await ferry.exited
    await stuck.stop()
    await healthy.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})
