// lib/writer.mjs — an application that logs fast and reopens its log after rotation (a child process).
//
// Role: the log producer of the reliability tests, run as its own node process so that the test
// process (which also hosts the PutRecords endpoint) cannot disturb its timing:
//
//   node writer.mjs --path <log> [--rate 20000] [--seconds 30] [--first 1] [--batch-ms 4] [--check-ms 10]
//
// It appends lineFor(first), lineFor(first + 1), ... (lib/lines.mjs), each terminated by '\n', at `rate`
// lines per second for `seconds`: every batch-ms it writes, in one write(2) on a descriptor opened with
// O_APPEND, all the lines that are due by then (so it catches up after a stall and its average rate is
// exact; a backlog is written 20 ms of lines at a time). Like a real application it follows rotation:
// every check-ms it stats the path, and when the path names another file (different device/inode) it
// opens the path again and closes the old file; when the path is missing on two checks in a row it
// creates it (not on the first: logrotate `create` renames and then creates the new file with O_EXCL,
// and a writer that wins that race makes logrotate rename the writer's file to
// "<log>-YYYYMMDDHH.backup"). copytruncate needs nothing: O_APPEND writes follow the truncation.
//
// stdout: one JSON line {"event":"started",...} once the file is open, then at the end one JSON line
//   { event: 'done', count, first, last, targetRate, seconds, elapsedMs, achievedRate, reopens, created,
//     inodes, batches, bytes, maxLagMs, maxCheckGapMs, cpuMs }
// achievedRate = count / (time of the last write - start of the schedule); maxLagMs is the longest the
// writer fell behind its schedule; maxCheckGapMs the longest gap between two path checks.
// SIGTERM/SIGINT end it early (it still prints the 'done' line, for what it wrote). Exit status 0; 1 on a
// write error (with the message on stderr).
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { lineFor } from './lines.mjs'

const { values: opt } = parseArgs({
  options: {
    path: { type: 'string' },
    rate: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '30' },
    first: { type: 'string', default: '1' },
    'batch-ms': { type: 'string', default: '4' },
    'check-ms': { type: 'string', default: '10' },
  },
})
if (!opt.path) {
  process.stderr.write('writer: --path is required\n')
  process.exit(2)
}
const logPath = opt.path
const rate = Number(opt.rate)
const seconds = Number(opt.seconds)
const first = Number(opt.first)
const batchMs = Number(opt['batch-ms'])
const checkMs = Number(opt['check-ms'])
for (const [k, v] of Object.entries({ rate, seconds, first, batchMs, checkMs })) {
  if (!Number.isFinite(v) || v < 0 || (k !== 'first' && v === 0)) {
    process.stderr.write(`writer: bad --${k}\n`)
    process.exit(2)
  }
}
const total = Math.round(rate * seconds)
const maxBatchLines = Math.max(100, Math.ceil(rate / 50)) // 20 ms of lines
const { O_WRONLY, O_APPEND, O_CREAT } = fs.constants

let fd = -1
let ino = -1
let dev = -1
let reopens = 0
let created = 0
let missingChecks = 0
const inodes = new Set()

// Opens the path for appending; returns false if it does not exist and create is false.
function openLog(create) {
  let nfd
  try {
    nfd = fs.openSync(logPath, O_WRONLY | O_APPEND | (create ? O_CREAT : 0), 0o644)
  } catch (err) {
    if (err.code === 'ENOENT' && !create) return false
    throw err
  }
  const st = fs.fstatSync(nfd)
  if (fd >= 0) fs.closeSync(fd)
  fd = nfd
  ino = st.ino
  dev = st.dev
  inodes.add(`${st.dev}:${st.ino}`)
  return true
}

let lastCheck = performance.now()
let maxCheckGapMs = 0
function checkPath() {
  const now = performance.now()
  maxCheckGapMs = Math.max(maxCheckGapMs, now - lastCheck)
  lastCheck = now
  const st = fs.statSync(logPath, { throwIfNoEntry: false })
  if (st && st.ino === ino && st.dev === dev) {
    missingChecks = 0
    return
  }
  if (!st) {
    if (++missingChecks < 2) return
    openLog(true)
    created++
    reopens++
    missingChecks = 0
    return
  }
  missingChecks = 0
  if (openLog(false)) reopens++ // false: renamed away again since the stat; the next check sees it
}

function writeAll(buf) {
  let off = 0
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off)
}

let written = 0
let batches = 0
let bytes = 0
let maxLagMs = 0
let lastWriteAt = 0
let t0 = 0
let timer = null
let checkTimer = null
let finished = false

function tick() {
  timer = null
  const now = performance.now()
  const scheduled = Math.min(total, Math.floor(((now - t0) * rate) / 1000))
  // After a stall, catch up in bounded batches so path checks still run in between.
  const due = Math.min(scheduled, written + maxBatchLines)
  if (due > written) {
    // How far behind schedule the oldest due line is.
    maxLagMs = Math.max(maxLagMs, now - t0 - (written * 1000) / rate)
    let s = ''
    for (let i = written; i < due; i++) s += lineFor(first + i) + '\n'
    const buf = Buffer.from(s, 'utf8')
    writeAll(buf)
    lastWriteAt = performance.now()
    batches++
    bytes += buf.length
    written = due
  }
  if (written >= total) return finish()
  if (due < scheduled) timer = setTimeout(tick, 0)
  else timer = setTimeout(tick, batchMs)
}

function finish() {
  if (finished) return
  finished = true
  if (timer) clearTimeout(timer)
  clearInterval(checkTimer)
  if (fd >= 0) fs.closeSync(fd)
  const elapsedMs = written > 0 ? lastWriteAt - t0 : 0
  const cpu = process.cpuUsage()
  const result = {
    event: 'done',
    path: logPath,
    count: written,
    first,
    last: first + written - 1,
    targetRate: rate,
    seconds,
    elapsedMs: Math.round(elapsedMs),
    achievedRate: elapsedMs > 0 ? Math.round(written / (elapsedMs / 1000)) : 0,
    reopens,
    created,
    inodes: inodes.size,
    batches,
    bytes,
    maxLagMs: Math.round(maxLagMs),
    maxCheckGapMs: Math.round(maxCheckGapMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, finish)

process.on('uncaughtException', (err) => {
  process.stderr.write(`writer: ${err.stack}\n`)
  process.exit(1)
})

openLog(true)
process.stdout.write(JSON.stringify({ event: 'started', path: logPath, ino, total }) + '\n')
t0 = performance.now()
lastCheck = t0
checkTimer = setInterval(checkPath, checkMs)
timer = setTimeout(tick, batchMs)
