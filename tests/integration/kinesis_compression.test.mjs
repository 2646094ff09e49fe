// kinesis_compression.test.mjs — compressed Kinesis records end to end: ferry -> kinesalite -> decompress
// -> aws-kinesis-agg.
//
// Role: proves `kinesis.compression` against real peers. With compression on, each Kinesis record's data
// (a KPL aggregate as a whole, or a raw record) is one gzip member or zstd frame; a consumer decompresses
// it and then deaggregates. The tests read every record back from kinesalite, decompress it (node's zlib
// for gzip, Debian's zstd tool for zstd), take the aggregates apart with AWS's deaggregator (MD5s
// verified), and assert every line exactly once and that the stream holds fewer bytes than the lines.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import zlib from 'node:zlib'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const run = promisify(execFile)

const DECODERS = {
  gzip: (data) => zlib.gunzipSync(data),
  zstd: (data) => execFileSync('zstd', ['-d', '-c', '-q'], { input: data, maxBuffer: 8 << 20 }),
}

async function shipCompressed(t, compression) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-kinesis-compression-'))
  const stream = 'ferry-compressed'
  const decode = DECODERS[compression]
  let kinesalite, ferry
  try {
    kinesalite = await startKinesalite()
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, stream, 2)
    const lines = generateLines(20000)
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, fileContents(lines))
    const stateDir = path.join(tmp, 'state')
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream, files: [logPath] })
    fs.appendFileSync(configPath, `      compression: ${compression}\n`)
    ferry = startFerry(configPath)
    const died = new AbortController()
    ferry.exited.then(({ code, signal }) => died.abort(new Error(`ferry exited on its own (code ${code}, signal ${signal})`)))
    try {
      await waitForRecords(client, stream, lines.length, 120000, { intervalMs: 500, signal: died.signal, decode })
    } catch (err) {
      assert.fail(`${err.message}\n${ferryOutputForHumans(ferry)}`)
    }
    const { stdout } = await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])
    const counters = JSON.parse(stdout).flows[0].counters
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    const records = await readAll(client, stream, { decode })
    const result = compareRecords(lines, records)
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    assert.ok(records.filter((r) => r.aggregated).length > lines.length * 0.9, 'most lines arrive in aggregates')
    const lineBytes = fileContents(lines).length
    t.diagnostic(
      `${compression}: ${counters.kinesis_records} Kinesis records; ${counters.compressed_bytes_in} bytes ` +
        `compressed to ${counters.compressed_bytes_out} (${((100 * counters.compressed_bytes_out) / counters.compressed_bytes_in).toFixed(1)} %) ` +
        `for ${lineBytes} bytes of lines`,
    )
    assert.ok(counters.compressed_bytes_out < counters.compressed_bytes_in / 2)
  } finally {
    if (ferry && ferry.exitStatus === null) ferry.kill('SIGKILL')
    if (kinesalite) await kinesalite.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

test('gzip: every aggregate decompresses, deaggregates with valid MD5s, and holds each line once', async (t) => {
  await shipCompressed(t, 'gzip')
})

test('zstd: every aggregate decompresses, deaggregates with valid MD5s, and holds each line once', async (t) => {
  await shipCompressed(t, 'zstd')
})
