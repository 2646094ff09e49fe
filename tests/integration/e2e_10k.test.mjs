// e2e_10k.test.mjs — end to end: ferry ships 10,000 tricky log lines to Kinesis, exactly once.
//
// Role: the main integration test of ferry against a real Kinesis peer (kinesalite). It writes a
// log file of exactly 10,000 unique, newline-terminated lines (JSON with escapes, odd whitespace,
// quotes and backslashes, non-ASCII UTF-8, ~100 KiB lines, lines differing only in trailing
// characters; see lib/lines.mjs), runs `ferry run -c <config>` with start_at: beginning against a
// 2-shard stream, waits for the records, stops ferry with SIGTERM (it must exit 0), and checks
// that the stream holds exactly the lines of the file, byte for byte: none missing, none
// duplicated, nothing else, and records on both shards.
//
// Run: FERRY_BIN=/path/to/ferry node --test tests/integration/e2e_10k.test.mjs
// On failure the temporary directory (log file, config, ferry state) is kept and its path printed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const LINE_COUNT = 10000
const STREAM = 'ferry-e2e-10k'
const WAIT_MS = 120000

test('ferry ships 10,000 varied lines to a 2-shard stream, each exactly once and byte for byte', { timeout: 300000 }, async (t) => {
  ferryBinary() // fail first, with a clear message, if FERRY_BIN is not usable

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-10k-'))
  let passed = false
  let kinesalite, client, ferry
  try {
    kinesalite = await startKinesalite()
    client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 2)

    const lines = generateLines(LINE_COUNT)
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, fileContents(lines))
    const stateDir = path.join(tmp, 'state')
    fs.mkdirSync(stateDir)
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [logPath], startAt: 'beginning' })

    ferry = startFerry(configPath)
    // Stop waiting at once if ferry dies on its own.
    const ferryDied = new AbortController()
    ferry.exited.then(({ code, signal }) => ferryDied.abort(new Error(`ferry exited on its own (code ${code}, signal ${signal})`)))

    const started = Date.now()
    let seen
    try {
      seen = await waitForRecords(client, STREAM, LINE_COUNT, WAIT_MS, { intervalMs: 500, signal: ferryDied.signal })
    } catch (err) {
      assert.fail(`${err.message} while records were awaited\n${ferryOutputForHumans(ferry)}`)
    }
    t.diagnostic(`${seen.length} records seen after ${((Date.now() - started) / 1000).toFixed(1)} s`)

    const stopped = await stopFerry(ferry) // throws (with stderr) if SIGTERM does not end it in 30 s
    assert.equal(stopped.signal, null, `ferry was killed by ${stopped.signal}\n${ferryOutputForHumans(ferry)}`)
    assert.equal(stopped.code, 0, `ferry exited with status ${stopped.code} after SIGTERM\n${ferryOutputForHumans(ferry)}`)

    // Everything in the stream now that ferry has stopped (late duplicates included).
    const records = await readAll(client, STREAM)
    const cmp = compareRecords(lines, records)
    const report =
      `${LINE_COUNT} lines written, ${records.length} records in the stream` +
      (seen.length < LINE_COUNT ? ` (only ${seen.length} within ${WAIT_MS / 1000} s)` : '') +
      `\n${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`
    assert.equal(records.length, LINE_COUNT, report)
    assert.ok(cmp.ok, report)

    // Random partition keys: both shards got records.
    const perShard = {}
    for (const r of records) perShard[r.shardId] = (perShard[r.shardId] || 0) + 1
    t.diagnostic(`records per shard: ${JSON.stringify(perShard)}`)
    assert.deepEqual(Object.keys(perShard).sort(), ['shardId-000000000000', 'shardId-000000000001'], 'records should land on both shards')

    passed = true
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry, 5000).catch(() => {})
    client?.destroy()
    const emulator = await kinesalite?.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else {
      t.diagnostic(`kept ${tmp} (log file, config, ferry state) for inspection`)
      if (emulator && (emulator.code !== 0 || emulator.signal)) t.diagnostic(`kinesalite had died: ${JSON.stringify(emulator)}`)
      if (kinesalite?.stderr()) t.diagnostic(`kinesalite stderr:\n${kinesalite.stderr()}`)
    }
  }
})
