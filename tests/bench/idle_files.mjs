// idle_files.mjs — benchmark: what ferry costs while it watches many files that do not change.
//
// Creates N files (default 10,000) of a few lines each in one folder, starts the tests' PutRecords endpoint
// on 127.0.0.1 and `ferry run` with a glob over them (start_at: beginning), waits until every line has
// arrived, lets ferry settle, then measures over a window (default 60 s) ferry's CPU time (user+sys from
// /proc/<pid>/stat) and memory (VmRSS and the peak VmHWM from /proc/<pid>/status). Prints a table and one
// JSON line. It is a measurement, not a test: nothing is asserted.
//
// Run: FERRY_BIN=build/ferry node tests/bench/idle_files.mjs [--files N] [--seconds S]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry } from '../integration/lib/ferry.mjs'
import { startPutRecordsEndpoint } from '../integration/lib/put_records_endpoint.mjs'

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const FILES = arg('files', 10000)
const SECONDS = arg('seconds', 60)
const LINES_PER_FILE = 3
const TICKS = 100 // USER_HZ on Linux

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS // utime, stime
}
function memoryKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const get = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))[1])
  return { rss: get('VmRSS'), peak: get('VmHWM') }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-idle-'))
// Removed however this process ends; a signal goes through process.exit so that ferry is killed too.
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))
const logs = path.join(tmp, 'logs')
fs.mkdirSync(logs)
for (let f = 0; f < FILES; f++) {
  let text = ''
  for (let l = 0; l < LINES_PER_FILE; l++) text += `file ${f} line ${l} ${'x'.repeat(60)}\n`
  fs.writeFileSync(path.join(logs, `app-${String(f).padStart(5, '0')}.log`), text)
}
const endpoint = await startPutRecordsEndpoint()
const configPath = path.join(tmp, 'ferry.yaml')
writeConfig(configPath, {
  stateDir: path.join(tmp, 'state'),
  endpoint: endpoint.endpoint,
  stream: 'bench',
  files: [path.join(logs, '*.log')],
  startAt: 'beginning',
})
const started = Date.now()
let ferry = null
try {
  ferry = startFerry(configPath)
  const expected = FILES * LINES_PER_FILE
  while (endpoint.accepted.length < expected) {
    if (ferry.exitStatus) throw new Error(`ferry exited: ${ferry.output.stderr.slice(-2000)}`)
    if (Date.now() - started > 300000) throw new Error(`only ${endpoint.accepted.length} of ${expected} lines after 300 s`)
    await sleep(200)
  }
  const initial = (Date.now() - started) / 1000
  await sleep(5000) // let descriptors close and checkpoints settle
  const cpu0 = cpuSeconds(ferry.pid)
  const t0 = Date.now()
  await sleep(SECONDS * 1000)
  const cpu1 = cpuSeconds(ferry.pid)
  const wall = (Date.now() - t0) / 1000
  const mem = memoryKiB(ferry.pid)
  const openFds = fs.readdirSync(`/proc/${ferry.pid}/fd`).length
  const result = {
    files: FILES,
    initial_read_seconds: Number(initial.toFixed(2)),
    idle_window_seconds: Number(wall.toFixed(1)),
    idle_cpu_seconds: Number((cpu1 - cpu0).toFixed(3)),
    idle_cpu_percent_of_core: Number((((cpu1 - cpu0) / wall) * 100).toFixed(3)),
    rss_mib: Number((mem.rss / 1024).toFixed(1)),
    peak_rss_mib: Number((mem.peak / 1024).toFixed(1)),
    open_fds: openFds,
  }
  console.log(`ferry idle benchmark: ${FILES} files`)
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(26)} ${v}`)
  console.log(JSON.stringify({ benchmark: 'idle_files', ...result }))
  const { code } = await stopFerry(ferry)
  if (code !== 0) throw new Error(`ferry exited ${code} on SIGTERM`)
} finally {
  if (ferry?.exitStatus === null) ferry.kill('SIGKILL')
  await endpoint.stop()
}
