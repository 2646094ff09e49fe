#!/usr/bin/env node
// demo.mjs — the README's demo: ship a sample log with ferry and show what reached Kinesis.
//
// Role: a human-facing walkthrough using the same harness as the tests. It starts kinesalite (a
// local Kinesis emulator, on 127.0.0.1), creates stream "ferry-demo" with 2 shards, writes a ferry
// config (start_at: beginning) for the given log into a temporary directory, runs ferry until
// every line of the log has arrived (at most 60 s), stops ferry with SIGTERM, then prints every
// record in the stream (shard, sequence number, partition key, data) and a summary. Exits 0 if
// the stream holds exactly the log's lines, 1 if not, 2 on bad usage.
//
// Usage (from the repository root, after `npm ci --prefix tests/integration`):
//   node tests/integration/demo.mjs --ferry build/ferry --log path/to/sample.log
// --ferry defaults to $FERRY_BIN. Only newline-terminated lines count: a final line without '\n'
// is reported and left out.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { compareRecords, describeMismatch } from './lib/lines.mjs'

const STREAM = 'ferry-demo'
const WAIT_MS = 60000
const DATA_COLUMN_CHARS = 60

function usage(msg) {
  if (msg) console.error(`demo: ${msg}`)
  console.error('usage: node tests/integration/demo.mjs --ferry <ferry binary> --log <sample.log>')
  process.exit(2)
}

// The log's newline-terminated lines (without '\n'), and any unterminated tail.
function readLines(file) {
  const buf = fs.readFileSync(file)
  const lines = []
  let start = 0
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    lines.push(buf.subarray(start, i))
    start = i + 1
  }
  return { lines, tail: buf.subarray(start) }
}

// One line of data for the table: as is if plainly printable, JSON-quoted otherwise; shortened.
function showData(buf) {
  let s = buf.toString('utf8')
  if (!Buffer.from(s, 'utf8').equals(buf)) s = `(not UTF-8) hex ${buf.toString('hex')}`
  else if (/[\u0000-\u001f\u007f\ufffd]|^\s|\s$/.test(s) || s === '') s = JSON.stringify(s)
  return [...s].length > DATA_COLUMN_CHARS ? [...s].slice(0, DATA_COLUMN_CHARS - 1).join('') + '…' : s
}

function printTable(records) {
  const header = ['shard', 'sequence number', 'partition key', 'data']
  const rows = records.map((r) => [r.shardId, r.sequenceNumber, r.partitionKey, showData(r.data)])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => [...row[i]].length)))
  const fmt = (row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length))).join('  ')
  console.log(fmt(header))
  console.log(fmt(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(fmt(row))
}

async function main() {
  let opts
  try {
    opts = parseArgs({ options: { ferry: { type: 'string' }, log: { type: 'string' }, help: { type: 'boolean' } } }).values
  } catch (err) {
    usage(err.message)
  }
  if (opts.help) usage()
  if (opts.ferry) process.env.FERRY_BIN = path.resolve(opts.ferry)
  else if (!process.env.FERRY_BIN) usage('--ferry is required (or set FERRY_BIN)')
  if (!opts.log) usage('--log is required')
  const logPath = path.resolve(opts.log)
  try {
    ferryBinary()
  } catch (err) {
    usage(err.message)
  }
  let log
  try {
    log = readLines(logPath)
  } catch (err) {
    usage(`cannot read ${logPath}: ${err.message}`)
  }
  if (log.tail.length) console.log(`note: the last ${log.tail.length} bytes of ${logPath} are not newline-terminated; not counted`)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-demo-'))
  let kinesalite, client, ferry
  let ok = false
  // Ctrl-C: exit through process.exit so the harness's exit handlers kill ferry and kinesalite.
  process.once('SIGINT', () => process.exit(130))
  try {
    kinesalite = await startKinesalite()
    console.log(`kinesalite listening at ${kinesalite.endpoint} (pid ${kinesalite.pid})`)
    client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 2)
    console.log(`created stream ${STREAM} with 2 shards`)

    const stateDir = path.join(tmp, 'state')
    fs.mkdirSync(stateDir)
    const configPath = path.join(tmp, 'ferry.yaml')
    const yaml = writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [logPath], startAt: 'beginning', flowName: 'demo' })
    console.log(`\nferry config ${configPath}:\n${yaml.trimEnd().replace(/^/gm, '  ')}\n`)

    console.log(`running: ${ferryBinary()} run -c ${configPath}`)
    ferry = startFerry(configPath)
    const ferryDied = new AbortController()
    ferry.exited.then(({ code, signal }) => ferryDied.abort(new Error(`ferry exited on its own (code ${code}, signal ${signal})`)))
    console.log(`waiting up to ${WAIT_MS / 1000} s for ${log.lines.length} records...`)
    const started = Date.now()
    let seen = []
    try {
      seen = await waitForRecords(client, STREAM, log.lines.length, WAIT_MS, { signal: ferryDied.signal })
      console.log(`${seen.length} records after ${((Date.now() - started) / 1000).toFixed(1)} s`)
    } catch (err) {
      console.log(err.message)
    }

    let stopped
    try {
      console.log('stopping ferry (SIGTERM)')
      stopped = await stopFerry(ferry)
      console.log(`ferry exited with ${stopped.signal ? `signal ${stopped.signal}` : `status ${stopped.code}`}`)
    } catch (err) {
      console.log(err.message) // includes ferry's stderr
    }

    const records = await readAll(client, STREAM)
    console.log(`\nrecords in stream ${STREAM}:\n`)
    printTable(records)
    console.log('')

    const cmp = compareRecords(log.lines, records)
    const counts = `${log.lines.length} lines in the log, ${records.length} records in the stream`
    if (cmp.ok) {
      console.log(`${counts}, all match`)
    } else {
      console.log(
        `${counts}: ${cmp.missing.length} missing, ${cmp.duplicated.length} duplicated, ${cmp.unexpected.length} unexpected\n` +
          describeMismatch(cmp),
      )
    }
    const cleanExit = stopped && stopped.code === 0 && stopped.signal === null
    if (!cleanExit || !cmp.ok) console.log(`\n${ferryOutputForHumans(ferry)}`)
    ok = cmp.ok && cleanExit
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry, 5000).catch(() => {})
    client?.destroy()
    await kinesalite?.stop()
    if (ok) fs.rmSync(tmp, { recursive: true, force: true })
    else console.log(`kept ${tmp} (config, ferry state) for inspection`)
  }
  return ok
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(err.stack || err)
    process.exit(1)
  },
)
