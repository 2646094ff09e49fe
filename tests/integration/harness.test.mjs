// harness.test.mjs — tests of the integration-test harness itself (no ferry needed).
//
// Role: proves that the pieces the ferry tests stand on work against the real peers:
// kinesalite starts on 127.0.0.1 only and is stopped without leftovers (also when the test
// process dies), the SDK client round-trips tricky bytes through a 2-shard stream, readAll /
// waitForRecords see every record exactly once, kinesalite's limits are what the report says,
// and lib/ferry.mjs writes the expected config and starts/stops a process correctly (using a
// stand-in shell script for ferry).
//
// Run: node --test tests/integration/harness.test.mjs
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { KinesisClient, ListStreamsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords, TEST_CREDENTIALS } from './lib/kinesis.mjs'
import { generateLines, compareRecords, describeMismatch } from './lib/lines.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry } from './lib/ferry.mjs'

const KINESALITE_LIB = new URL('./lib/kinesalite.mjs', import.meta.url).href
const MiB = 1024 * 1024
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Is `pid` a live (non-zombie) process? An orphaned child that exited may linger as a zombie
// until init reaps it; that counts as gone.
function isRunning(pid) {
  let stat
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return false
  }
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

async function waitUntilGone(pid, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  while (isRunning(pid) && Date.now() < deadline) await sleep(50)
  return !isRunning(pid)
}

// PIDs of processes whose command line mentions kinesalite-server (pgrep exits 1 when none).
function pgrepKinesaliteServer() {
  try {
    return execFileSync('pgrep', ['-f', 'kinesalite-server'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
  } catch (err) {
    if (err.status === 1) return []
    throw err
  }
}

// PutRecords in batches of at most 500 with random partition keys; returns the put results in
// order: [{ data, partitionKey, shardId, sequenceNumber }].
async function putLines(client, stream, lines) {
  const results = []
  for (let i = 0; i < lines.length; i += 500) {
    const batch = lines.slice(i, i + 500).map((data) => ({ Data: data, PartitionKey: crypto.randomUUID() }))
    const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }))
    assert.equal(out.FailedRecordCount ?? 0, 0, 'PutRecords reported failed records')
    out.Records.forEach((r, j) =>
      results.push({ data: batch[j].Data, partitionKey: batch[j].PartitionKey, shardId: r.ShardId, sequenceNumber: r.SequenceNumber }),
    )
  }
  return results
}

describe('kinesalite process management', () => {
  test('listens on 127.0.0.1 only, and stop() leaves no process behind', async () => {
    const k = await startKinesalite()
    try {
      assert.match(k.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(k.endpoint, `http://127.0.0.1:${k.port}`)
      assert.ok(isRunning(k.pid))
      assert.ok(pgrepKinesaliteServer().includes(k.pid), 'pgrep -f kinesalite-server should list the emulator')

      // Not reachable through any non-loopback IPv4 address of this host.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
      for (const { address } of external) {
        const err = await new Promise((resolve) => {
          const s = net.connect(k.port, address)
          s.once('connect', () => (s.destroy(), resolve(null)))
          s.once('error', resolve)
        })
        assert.ok(err, `kinesalite must not accept connections on ${address}:${k.port}`)
        assert.equal(err.code, 'ECONNREFUSED')
      }
    } finally {
      const status = await k.stop()
      assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM should make it exit with status 0')
    }
    assert.ok(!isRunning(k.pid), 'emulator process still running after stop()')
    assert.ok(!pgrepKinesaliteServer().includes(k.pid), 'pgrep -f kinesalite-server still lists the emulator')
    await k.stop() // a second stop() is harmless
  })

  test('a failed start reports kinesalite stderr (port already in use)', async () => {
    const first = await startKinesalite()
    try {
      await assert.rejects(startKinesalite({ port: first.port }), /kinesalite did not start[\s\S]*EADDRINUSE/)
    } finally {
      await first.stop()
    }
  })

  // The test process going away without calling stop(): via process.exit() ('exit' handler)
  // and via SIGKILL (no handler runs; the emulator notices its stdin pipe closing).
  for (const how of ['process.exit', 'SIGKILL']) {
    test(`emulator dies with the test process (${how})`, async () => {
      const script = `
        import { startKinesalite } from ${JSON.stringify(KINESALITE_LIB)}
        const k = await startKinesalite()
        process.stdout.write(k.pid + '\\n')
        if (${JSON.stringify(how)} === 'process.exit') setTimeout(() => process.exit(3), 200)
        else setInterval(() => {}, 1000)
      `
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      const parentExited = new Promise((resolve) => parent.once('exit', resolve))
      const pid = await new Promise((resolve, reject) => {
        let out = ''
        parent.stdout.setEncoding('utf8')
        parent.stdout.on('data', (s) => {
          out += s
          if (out.includes('\n')) resolve(Number(out.trim()))
        })
        parent.once('exit', (code) => reject(new Error(`helper exited (${code}) before starting kinesalite`)))
      })
      assert.ok(isRunning(pid))
      if (how === 'SIGKILL') parent.kill('SIGKILL')
      await parentExited
      assert.ok(await waitUntilGone(pid), `kinesalite pid ${pid} survived its parent (${how})`)
    })
  }
})

describe('Kinesis client against kinesalite', () => {
  let k, client
  before(async () => {
    k = await startKinesalite()
    client = makeClient(k.endpoint)
  })
  after(async () => {
    client?.destroy()
    await k?.stop()
  })

  test("the SDK's default HTTP/2 handler fails against kinesalite; makeClient's HTTP/1.1 works", async () => {
    const h2 = new KinesisClient({ region: 'us-east-1', endpoint: k.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 })
    try {
      await assert.rejects(h2.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(10000) }), (err) => {
        assert.match(`${err.code} ${err.message}`, /ERR_HTTP2|Protocol error/)
        return true
      })
    } finally {
      h2.destroy()
    }
    const out = await client.send(new ListStreamsCommand({}))
    assert.ok(Array.isArray(out.StreamNames))
  })

  test('PutRecords round trip through a 2-shard stream: bytes, keys, shards, sequence numbers', async () => {
    const stream = 'harness-roundtrip'
    const summary = await createStream(client, stream, 2)
    assert.equal(summary.StreamStatus, 'ACTIVE')
    assert.deepEqual(await readAll(client, stream), [], 'a new stream is empty')

    const lines = generateLines(400, { longLines: [100 * 1024, 100 * 1024 + 1] })
    const put = await putLines(client, stream, lines)
    const records = await readAll(client, stream)

    const cmp = compareRecords(lines, records)
    assert.ok(cmp.ok, describeMismatch(cmp))
    assert.equal(records.length, 400)

    // Each record is where PutRecords said, with its partition key.
    const bySeq = new Map(records.map((r) => [`${r.shardId}/${r.sequenceNumber}`, r]))
    for (const p of put) {
      const r = bySeq.get(`${p.shardId}/${p.sequenceNumber}`)
      assert.ok(r, `record ${p.shardId}/${p.sequenceNumber} not read back`)
      assert.ok(r.data.equals(p.data))
      assert.equal(r.partitionKey, p.partitionKey)
      assert.ok(Buffer.isBuffer(r.data))
    }
    // Random partition keys spread the records over both shards.
    const shards = new Set(records.map((r) => r.shardId))
    assert.deepEqual([...shards].sort(), ['shardId-000000000000', 'shardId-000000000001'])
    // Within a shard, readAll returns records in the order they were put.
    for (const shardId of shards) {
      const putOrder = put.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber)
      const readOrder = records.filter((r) => r.shardId === shardId).map((r) => r.sequenceNumber)
      assert.deepEqual(readOrder, putOrder)
    }
  })

  test('waitForRecords sees records arriving over time exactly once, and returns what it has on timeout', async () => {
    const stream = 'harness-wait'
    await createStream(client, stream, 2)
    const lines = generateLines(250, { seed: 7, longLines: [] })
    const producer = (async () => {
      for (let i = 0; i < lines.length; i += 50) {
        await sleep(150)
        await putLines(client, stream, lines.slice(i, i + 50))
      }
    })()
    const t0 = Date.now()
    const got = await waitForRecords(client, stream, 250, 20000, { intervalMs: 100 })
    await producer
    assert.ok(Date.now() - t0 < 20000, 'should not have waited for the timeout')
    const cmp = compareRecords(lines, got)
    assert.ok(cmp.ok, describeMismatch(cmp))

    const t1 = Date.now()
    const partial = await waitForRecords(client, stream, 251, 600)
    assert.ok(Date.now() - t1 >= 600, 'returned before the timeout')
    assert.equal(partial.length, 250)

    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('stop waiting')), 300)
    await assert.rejects(waitForRecords(client, stream, 1000, 20000, { signal: ac.signal }), /stop waiting/)
  })

  // What kinesalite accepts, so tests know what it will not catch. Real Kinesis: 1 MiB per
  // record and 5 MiB per PutRecords, both counting partition keys; throughput limits per shard.
  test('kinesalite limits (documented behaviour, not real Kinesis)', async () => {
    const stream = 'harness-limits'
    await createStream(client, stream, 1)
    const put = (records) => client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))
    const rec = (bytes, key = 'k') => ({ PartitionKey: key, Data: Buffer.alloc(bytes, 0x61) })

    await put([rec(MiB, 'k'.repeat(256))]) // 1 MiB of data plus a 256-byte key: accepted (key not counted)
    await assert.rejects(put([rec(MiB + 1)]), { name: 'ValidationException' })
    await assert.rejects(put([rec(1, 'k'.repeat(257))]), { name: 'ValidationException' })
    await put(Array.from({ length: 500 }, () => rec(10)))
    await assert.rejects(put(Array.from({ length: 501 }, () => rec(10))), { name: 'ValidationException' })
    await put(Array.from({ length: 5 }, () => rec(MiB))) // 5 MiB: accepted
    // Its cap is 7 MiB of HTTP body (base64 inside JSON), i.e. about 5.25 MiB of data; beyond
    // that it answers a bare HTTP 413, which the SDK surfaces as an unnamed error.
    await assert.rejects(put(Array.from({ length: 11 }, () => rec(MiB / 2))), (err) => {
      assert.equal(err.$metadata?.httpStatusCode, 413)
      return true
    })
  })

  test('kinesalite survives a client dropping a request midway', async () => {
    const url = new URL(k.endpoint)
    await new Promise((resolve, reject) => {
      const s = net.connect(Number(url.port), url.hostname, () => {
        s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{"Str')
        setTimeout(() => (s.destroy(), resolve()), 100)
      })
      s.once('error', reject)
    })
    await sleep(200)
    assert.ok(isRunning(k.pid), 'kinesalite died after an aborted request')
    await client.send(new ListStreamsCommand({}))
  })
})

describe('lib/ferry.mjs', () => {
  let dir
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-harness-'))
  })
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('writeConfig writes the expected YAML', () => {
    const cfg = path.join(dir, 'ferry.yaml')
    const text = writeConfig(cfg, {
      stateDir: '/tmp/x/state',
      endpoint: 'http://127.0.0.1:4567',
      stream: 'my-stream',
      files: ['/var/log/app.log', '/var/log/we"ird \\ name\t.log'],
    })
    assert.equal(fs.readFileSync(cfg, 'utf8'), text)
    assert.equal(
      text,
      [
        'state_dir: /tmp/x/state',
        'aws:',
        '  region: us-east-1',
        '  access_key_id: AKIDFERRYTEST',
        '  secret_access_key: ferry-test-secret',
        '  kinesis_endpoint: http://127.0.0.1:4567',
        'flows:',
        '  - name: e2e',
        '    files: ["/var/log/app.log", "/var/log/we\\"ird \\\\ name\\u0009.log"]',
        '    start_at: beginning',
        '    kinesis:',
        '      stream: my-stream',
        '',
      ].join('\n'),
    )
    // Values that would not be safe as plain YAML scalars are quoted.
    const t2 = writeConfig(cfg, { stateDir: '/tmp/with space', endpoint: 'http://h:1', stream: 's', files: ['/f'], startAt: 'end', flowName: 'yes' })
    assert.match(t2, /^state_dir: "\/tmp\/with space"$/m)
    assert.match(t2, /^ {2}- name: "yes"$/m)
    assert.match(t2, /^ {4}start_at: end$/m)
  })

  test('ferryBinary() explains a missing or bad FERRY_BIN', () => {
    const saved = process.env.FERRY_BIN
    try {
      delete process.env.FERRY_BIN
      assert.throws(() => ferryBinary(), /FERRY_BIN is not set/)
      process.env.FERRY_BIN = path.join(dir, 'no-such-ferry')
      assert.throws(() => ferryBinary(), /not an executable file/)
    } finally {
      if (saved === undefined) delete process.env.FERRY_BIN
      else process.env.FERRY_BIN = saved
    }
  })

  // startFerry/stopFerry with a shell script standing in for ferry.
  async function withFakeFerry(body, fn) {
    const bin = path.join(dir, `fake-ferry-${crypto.randomUUID()}`)
    fs.writeFileSync(bin, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    const saved = process.env.FERRY_BIN
    process.env.FERRY_BIN = bin
    try {
      return await fn()
    } finally {
      if (saved === undefined) delete process.env.FERRY_BIN
      else process.env.FERRY_BIN = saved
    }
  }

  test('startFerry passes "run -c <config>", collects output, and stopFerry stops it with SIGTERM', async () => {
    await withFakeFerry(
      `echo "args: $*"; echo "AWS vars: $(env | grep -c '^AWS_')" >&2; trap 'echo got TERM >&2; exit 0' TERM; while :; do sleep 0.05; done`,
      async () => {
        process.env.AWS_PROFILE_FOR_HARNESS_TEST = 'should-not-leak'
        let child
        try {
          child = startFerry('/some/config.yaml')
        } finally {
          delete process.env.AWS_PROFILE_FOR_HARNESS_TEST
        }
        await sleep(300)
        assert.equal(child.exitStatus, null)
        const res = await stopFerry(child, 5000)
        assert.equal(res.code, 0)
        assert.equal(res.signal, null)
        assert.equal(res.stdout, 'args: run -c /some/config.yaml\n')
        assert.match(res.stderr, /AWS vars: 0\ngot TERM\n/)
        assert.deepEqual(await stopFerry(child), res, 'stopping an exited ferry just reports how it exited')
      },
    )
  })

  test('stopFerry SIGKILLs a ferry that ignores SIGTERM, and fails', async () => {
    await withFakeFerry(`trap '' TERM; echo stubborn >&2; while :; do sleep 0.05; done`, async () => {
      const child = startFerry('/c.yaml')
      await sleep(300)
      await assert.rejects(stopFerry(child, 500), /did not exit within 500 ms[\s\S]*stubborn/)
      assert.equal(child.exitStatus.signal, 'SIGKILL')
    })
  })
})
