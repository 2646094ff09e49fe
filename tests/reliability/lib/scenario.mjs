// lib/scenario.mjs — one reliability run: ferry tails a log that a writer fills while logrotate rotates it.
//
// Role: the shared body of rotation.test.mjs and restart.test.mjs.
//
//   await runScenario(t, options, check)
//
// In a fresh temp folder: an empty logs/app.log, a logrotate conf for `mode` (lib/rotation.mjs), the
// tests' PutRecords endpoint on 127.0.0.1 (../../integration/lib/put_records_endpoint.mjs), and ferry
// (FERRY_BIN, config from ../../integration/lib/ferry.mjs writeConfig) tailing `logs/app.log` (glob
// 'live') or `logs/app.log*` (glob 'all'). Once ferry reads the live file, the writer (lib/writer.mjs, its
// own process) appends `rate` lines/s for `seconds` while `logrotate -f` runs every 2 s. `restarts`
// ([{ atSeconds, signal }]) stop ferry at those times after the writer started (SIGTERM: and wait for it
// to exit; SIGKILL: kill -9) and start it again with the same config and state_dir. After the writer
// ends, rotation stops; `outages` ([{ atSeconds, forSeconds }]) take the endpoint down (refusing
// connections) at those times after the writer started, for that long; `rotateEveryMs` spaces the
// rotations (2 s by default); `extraYaml` is appended to ferry's config; `during` (async ({ configPath,
// stateDir, ferry, writerStart, seconds }) => summary) runs alongside the writer (reload.test.mjs reloads
// with it) and its summary is result.during. Ferry gets until the endpoint's record count has not grown for quietMs (at most
// drainMaxMs), then SIGTERM. The records are compared with the lines written (lib/verdict.mjs).
//
// check(result) makes the test's assertions; result = {
//   name, mode, glob, tmp, writer (its final JSON), rotation (driver summary), verdict,
//   onDisk: { lostOnDisk, lostNeverOnDisk } | null   (lost lines that were / were never in a log file at
//           rest, from the rotation archive; null for `rotate 0`, whose rotated files cannot be kept),
//   ferry: { instances, wallMs, cpuMs, exit: { code, signal } (of the final SIGTERM), stops: [...],
//            diedOnItsOwn, stats: counts of ferry's rotation log lines, summary: its last stats line },
//   drain: { ms, quiet }, report (multi-line text), line (one-line summary) }
// The one-line summary is always printed with t.diagnostic. If runScenario throws or check throws, the
// temp folder (logs, rotation archive, config, state, ferry's stderr, report.txt) is kept and its path
// printed; otherwise it is removed. Every process started is stopped by pid, also on failure.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryBinary, writeConfig, startFerry, stopFerry } from '../../integration/lib/ferry.mjs'
import { startPutRecordsEndpoint } from '../../integration/lib/put_records_endpoint.mjs'
import { acquireRunLock } from './lock.mjs'
import { startWriter, procTimes, killAndWait } from './procs.mjs'
import { writeLogrotateConf, startRotationDriver, logrotateBinary, archivedFiles, compresses } from './rotation.mjs'
import { verdict, describeVerdict, countSeqs } from './verdict.mjs'

export const ROTATE_EVERY_MS = 2000
export const ROTATION_END_MARGIN_MS = 500

function envNumber(name, dflt) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive number`)
  return n
}
export const SECONDS = envNumber('FERRY_ROTATION_SECONDS', 30)
export const RATE = envNumber('FERRY_ROTATION_RATE', 20000)
// Where the temp folders go (logs, rotation archive, ferry's state).
export const TMPDIR = process.env.FERRY_ROTATION_TMPDIR || os.tmpdir()

// Per-test timeout for node:test: the run, the drain, restarts and slack.
export const testTimeoutMs = (seconds = SECONDS) => Math.round(seconds * 1000 + 300000)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitForOutput(child, pattern, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(child.output.stderr)) {
    if (child.exitStatus) throw new Error(`ferry exited (${JSON.stringify(child.exitStatus)}) before ${what}\n${child.output.stderr.slice(-5000)}`)
    if (Date.now() > deadline) throw new Error(`ferry did not log ${what} within ${timeoutMs} ms\n${child.output.stderr.slice(-5000)}`)
    await sleep(20)
  }
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const count = (text, re) => (text.match(re) || []).length

// What ferry said about the files it followed (its info/warn lines; see agent/source/file_tailer.cpp).
// Only for the report: a wording change in ferry's log makes a count 0, never a test fail.
function ferryStats(stderr) {
  const summaries = stderr.match(/flow \S+: files open .*$/gm) || []
  return {
    opened: count(stderr, /: reading \S+ from offset \d+/g),
    renamesFollowed: count(stderr, / was renamed to /g),
    draining: count(stderr, / is gone or renamed (away|out)/g),
    closed: count(stderr, /: (closing \S+|\S+ drained; closing it) at offset \d+/g),
    truncations: count(stderr, / (was truncated|shrank) from \d+ to \d+ bytes/g),
    warnings: count(stderr, /\[warn(ing)?\]/g),
    errors: count(stderr, /\[(error|critical)\]/g),
    summary: summaries[summaries.length - 1] || '',
  }
}

const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`

export async function runScenario(t, opts, check) {
  const {
    name,
    mode,
    glob = 'live',
    startAt = 'beginning',
    restarts = [],
    seconds = SECONDS,
    rate = RATE,
    quietMs = 3000,
    drainMaxMs = 120000,
    outages = [],
    rotateEveryMs = ROTATE_EVERY_MS,
    extraYaml = '',
    during = null,
  } = opts
  ferryBinary() // clear failures first: FERRY_BIN unusable, logrotate missing
  logrotateBinary()

  const release = await acquireRunLock({ onWait: (pid) => t.diagnostic(`waiting for pid ${pid} (another reliability run) to finish`) })
  const slug = [mode, glob, ...new Set(restarts.map((r) => r.signal))].join('-').toLowerCase()
  const tmp = fs.mkdtempSync(path.join(TMPDIR, `ferry-rel-${slug}-`))
  const logsDir = path.join(tmp, 'logs')
  const rotateDir = path.join(tmp, 'rotate')
  const archiveDir = path.join(rotateDir, 'archive')
  const stateDir = path.join(tmp, 'state')
  for (const d of [logsDir, rotateDir, archiveDir, stateDir]) fs.mkdirSync(d, { recursive: true, mode: 0o755 })
  const logPath = path.join(logsDir, 'app.log')
  const keepArchive = mode !== 'delete'

  let passed = false
  let ep = null
  let writer = null
  let driver = null
  const ferries = []
  let report = ''
  try {
    fs.writeFileSync(logPath, '')
    const conf = path.join(rotateDir, 'logrotate.conf')
    writeLogrotateConf(conf, logPath, mode)

    ep = await startPutRecordsEndpoint()
    const configPath = path.join(tmp, 'ferry.yaml')
    const files = [glob === 'all' ? `${logPath}*` : logPath]
    writeConfig(configPath, { stateDir, endpoint: ep.endpoint, stream: 'rotation', files, startAt, flowName: 'rotation' })
    // The endpoint lists one shard but stores far more than a real shard's 1 MiB/s, and these runs are
    // about rotation: ferry's per-shard rate limit would only slow them down.
    fs.appendFileSync(configPath, '      rate_limit: 0\n')
    fs.appendFileSync(configPath, extraYaml)

    let cpuMs = 0
    let wallMs = 0
    // CPU time from /proc/<pid>/stat while ferry still runs; wall time from its spawn.
    const account = (child) => {
      const pt = procTimes(child.pid)
      if (pt) cpuMs += pt.cpuMs
      wallMs += Date.now() - child.spawnedAt
    }
    const launch = async (first) => {
      const child = startFerry(configPath)
      child.spawnedAt = Date.now()
      ferries.push(child)
      await waitForOutput(child, /ferry started/, 15000, '"ferry started"')
      // The first start also waits until ferry has opened the (empty) live file, so that no line precedes
      // it whatever start_at says. Its first scan runs right after "ferry started"; if the log line it
      // writes for the file is worded differently (it is ferry's business), a second is plenty.
      if (first) {
        await waitForOutput(child, new RegExp(`reading ${escapeRe(logPath)} from offset 0`), 1000, 'reading the live log').catch((err) => {
          if (child.exitStatus) throw err
        })
      }
      return child
    }
    let ferry = await launch(true)

    writer = startWriter({ path: logPath, rate, seconds })
    await writer.started
    const writerStart = Date.now()
    driver = startRotationDriver({ conf, state: path.join(rotateDir, 'logrotate.state'), intervalMs: rotateEveryMs, archiveDir: keepArchive ? archiveDir : null, logPath, linkOnlyCompressed: compresses(mode) })

    const outagesDone = []
    const outageTask = (async () => {
      for (const { atSeconds, forSeconds } of outages) {
        await sleep(Math.max(0, writerStart + atSeconds * 1000 - Date.now()))
        const from = Date.now() - writerStart
        await ep.down()
        await sleep(forSeconds * 1000)
        await ep.up()
        outagesDone.push({ fromMs: from, toMs: Date.now() - writerStart, acceptedAfter: ep.accepted.length })
      }
    })()

    const duringTask = during ? during({ configPath, stateDir, ferry, writerStart, seconds }) : Promise.resolve(null)
    // Awaited below; a failure meanwhile must not go unhandled.
    duringTask.catch(() => {})

    const stops = []
    for (const { atSeconds, signal } of restarts) {
      await sleep(Math.max(0, writerStart + atSeconds * 1000 - Date.now()))
      const at = Date.now() - writerStart
      account(ferry)
      const stopStart = Date.now()
      let exit
      if (signal === 'SIGKILL') {
        ferry.kill('SIGKILL')
        exit = await ferry.exited
      } else {
        const s = await stopFerry(ferry)
        exit = { code: s.code, signal: s.signal }
      }
      const down = Date.now()
      ferry = await launch(false)
      stops.push({ atMs: at, signal, exit, stopMs: down - stopStart, downMs: Date.now() - stopStart })
    }

    // Rotation stops ROTATION_END_MARGIN_MS before the writer does, so the writer sees every rotation.
    const rotationStopped = (async () => {
      await sleep(Math.max(0, writerStart + seconds * 1000 - ROTATION_END_MARGIN_MS - Date.now()))
      return driver.stop()
    })()
    const w = await writer.done
    const rotation = await rotationStopped
    driver = null
    await outageTask
    const duringSummary = await duringTask

    // Drain: until the endpoint's count has not grown for quietMs (or drainMaxMs have passed).
    const drainStart = Date.now()
    let last = ep.accepted.length
    let lastChange = Date.now()
    while (Date.now() - lastChange < quietMs && Date.now() - drainStart < drainMaxMs && !ferry.exitStatus) {
      await sleep(100)
      if (ep.accepted.length !== last) {
        last = ep.accepted.length
        lastChange = Date.now()
      }
    }
    const drain = { ms: lastChange - drainStart, quiet: Date.now() - lastChange >= quietMs }
    const diedOnItsOwn = ferry.exitStatus ? { ...ferry.exitStatus } : null
    account(ferry)
    const final = await stopFerry(ferry)

    const v = verdict(w, ep.accepted)
    let onDisk = null
    if (keepArchive) {
      const files = archivedFiles(logPath, archiveDir)
      const disk = countSeqs(w, files.map((f) => f.data))
      let lostOnDisk = 0
      let neverOnDisk = 0
      for (let i = 0; i < v.counts.length; i++) {
        if (v.counts[i] !== 0) continue
        if (disk[i] > 0) lostOnDisk++
        else neverOnDisk++
      }
      let missingFromDisk = 0
      for (let i = 0; i < disk.length; i++) if (disk[i] === 0) missingFromDisk++
      onDisk = { lostOnDisk, lostNeverOnDisk: neverOnDisk, missingFromDisk, files: files.length }
    }

    const stderrAll = ferries.map((c) => c.output.stderr).join('\n')
    const stats = ferryStats(stderrAll)
    const rotations = rotation.ok
    const line =
      `${name}: wrote ${w.count} lines at ${w.achievedRate}/s (target ${rate}/s, writer reopened ${w.reopens}x), ` +
      `rotations ${rotations}${rotation.failed ? ` (+${rotation.failed} failed)` : ''}, received ${v.received}, ` +
      `lost ${v.lost}, duplicated ${v.duplicated} (${v.extraCopies} extra), unexpected ${v.unexpected}; ` +
      `ferry wall ${fmtS(wallMs)}, cpu ${fmtS(cpuMs)}` +
      (stops.length ? `, ${ferries.length} starts` : '')
    report = [
      line,
      describeVerdict(v),
      onDisk &&
        `on disk (rotated files kept by hard link + live file, ${onDisk.files} files): of the lost lines ${onDisk.lostOnDisk} were in a file ` +
          `(ferry could have read them), ${onDisk.lostNeverOnDisk} never were; lines missing from every file: ${onDisk.missingFromDisk}`,
      `writer: ${JSON.stringify(w)} (nice ${writer.priority})`,
      `machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`,
      `rotation: ${rotation.runs} logrotate runs, ${rotation.failed} failed, durations ms ${JSON.stringify(rotation.durationsMs)}` +
        (rotation.messages.length ? `\n  logrotate said:\n    ${rotation.messages.slice(0, 10).join('\n    ')}` : ''),
      outages.length && `endpoint outages (ms after the writer started): ${JSON.stringify(outagesDone)}`,
      `ferry: ${ferries.length} start(s); stops ${JSON.stringify(stops)}; final SIGTERM exit ${JSON.stringify({ code: final.code, signal: final.signal })}` +
        (diedOnItsOwn ? `; it had exited on its own: ${JSON.stringify(diedOnItsOwn)}` : ''),
      `ferry log: ${JSON.stringify({ ...stats, summary: undefined })}`,
      `ferry stats (last start): ${stats.summary}`,
      `drain: last record ${fmtS(drain.ms)} after the writer and rotation stopped${drain.quiet ? '' : ' (still growing at the limit)'}`,
      `temp folder: ${tmp}`,
    ]
      .filter(Boolean)
      .join('\n')
    t.diagnostic(line)
    fs.writeFileSync(path.join(tmp, 'report.txt'), report + '\n')

    const result = {
      name,
      mode,
      glob,
      tmp,
      writer: w,
      rotation,
      verdict: v,
      onDisk,
      ferry: { instances: ferries.length, wallMs, cpuMs, exit: { code: final.code, signal: final.signal }, stops, diedOnItsOwn, stats },
      outages: outagesDone,
      during: duringSummary,
      stderr: stderrAll,
      drain,
      report,
      line,
    }
    await check(result)
    passed = true
    return result
  } finally {
    // Stop everything we started, by pid, whatever happened.
    if (writer) await writer.stop()
    if (driver) await driver.stop().catch(() => {})
    for (const c of ferries) {
      if (c.exitStatus === null) await killAndWait(c, 'SIGKILL', 5000)
    }
    ferries.forEach((c, i) => {
      try {
        fs.writeFileSync(path.join(tmp, `ferry-${i + 1}.stderr.log`), c.output.stderr)
      } catch {}
    })
    if (ep) {
      await ep.up()
      await ep.stop()
    }
    release()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else {
      for (const l of report.split('\n').slice(1)) t.diagnostic(l)
      t.diagnostic(`kept ${tmp} (logs, rotate/archive, ferry.yaml, state, ferry-*.stderr.log, report.txt) for inspection`)
    }
  }
}
