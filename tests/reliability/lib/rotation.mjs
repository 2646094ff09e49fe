// lib/rotation.mjs — rotate a log with Debian's logrotate while it is being written.
//
// Role: the real rotation tool in the real modes, driven on a schedule:
//
//   MODES                                   the four modes and their logrotate directives
//   writeLogrotateConf(confPath, logPath, mode)   a conf for one log in one mode
//   logrotateBinary()                       the logrotate executable (throws with an install hint)
//   const d = startRotationDriver({ conf, state, intervalMs: 2000, archiveDir, logPath })
//   ...                                     runs `logrotate -f -s <state> <conf>` every intervalMs (one at
//                                           a time; the next starts intervalMs after the previous started,
//                                           or at once if that one took longer)
//   const summary = await d.stop()          stops the schedule, waits for a run in progress; returns
//                                           { runs, ok, failed, messages: [stderr/stdout of runs], durationsMs }
//
// archiveDir (optional): after every run, each rotated file in the log's folder that has not been seen
// before (by inode) gets a hard link in archiveDir; nothing is copied. With `compress`, only the .gz files
// are linked: logrotate refuses to compress a file that has a second link ("unable to open ... for
// compression: Operation not supported"), and a rotated file waits uncompressed (delaycompress) until the
// next run anyway. logrotate never sees a second link of the live file either, so rotation is unchanged;
// but the archive keeps every rotated file's bytes after logrotate deletes them. archivedFiles(logPath,
// archiveDir) then lists the archive plus what is left in the log's folder: together they hold every line
// that was ever in a file at rest, which tells ferry's losses from the losses of the rotation itself
// (copytruncate destroys what is appended between its copy and its truncate). Not possible for
// `rotate 0`: logrotate deletes the rotated file before it returns.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

export const MODES = {
  // rename the live file to app.log.1 (shifting .1 -> .2 ...), create a new empty app.log
  rename: ['create', 'rotate 5'],
  // copy the live file to app.log.1, then truncate the live file in place
  copytruncate: ['copytruncate', 'rotate 5'],
  // rename to app.log-<date-time>, create a new app.log; gzip the previous rotated file (one run later)
  dateext: ['create', 'dateext', 'dateformat -%Y%m%d-%H%M%S', 'compress', 'delaycompress', 'rotate 50'],
  // rename to app.log.1, create a new app.log, delete app.log.1 (before logrotate returns)
  delete: ['create', 'rotate 0'],
}

const RUN_TIMEOUT_MS = 60000
const OUTPUT_KEEP = 16 * 1024

export function logrotateBinary() {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin', '/sbin', '/usr/bin']
  for (const dir of dirs) {
    if (!dir) continue
    const p = path.join(dir, 'logrotate')
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {}
  }
  throw new Error('logrotate is not installed: apt-get install -y logrotate')
}

export const compresses = (mode) => MODES[mode].includes('compress')

export function writeLogrotateConf(confPath, logPath, mode) {
  const directives = MODES[mode]
  if (!directives) throw new Error(`unknown rotation mode ${mode}; one of ${Object.keys(MODES).join(', ')}`)
  if (/["\n]/.test(logPath)) throw new Error(`log path ${JSON.stringify(logPath)} cannot be quoted for logrotate`)
  const text = [`"${logPath}" {`, ...[...directives, 'missingok', 'nomail'].map((d) => `    ${d}`), '}', ''].join('\n')
  fs.writeFileSync(confPath, text, { mode: 0o644 }) // logrotate ignores a conf writable by group or others
  return text
}

export function startRotationDriver({ conf, state, intervalMs = 2000, archiveDir = null, logPath = null, linkOnlyCompressed = false }) {
  const bin = logrotateBinary()
  const runs = []
  const archived = new Set()
  let child = null
  let stopping = false
  let timer = null
  let wake = null
  const killOnExit = () => {
    try {
      child?.kill('SIGKILL')
    } catch {}
  }
  process.on('exit', killOnExit)

  function runOnce() {
    return new Promise((resolve) => {
      const started = Date.now()
      let output = ''
      child = spawn(bin, ['-f', '-s', state, conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      for (const s of [child.stdout, child.stderr]) {
        s.setEncoding('utf8')
        s.on('data', (d) => (output = (output + d).slice(-OUTPUT_KEEP)))
      }
      const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
      child.once('error', (err) => {
        clearTimeout(killer)
        child = null
        resolve({ at: started, ms: Date.now() - started, code: null, output: `spawn failed: ${err.message}` })
      })
      child.once('close', (code, signal) => {
        clearTimeout(killer)
        child = null
        resolve({ at: started, ms: Date.now() - started, code: signal ? `signal ${signal}` : code, output })
      })
    })
  }

  function archive() {
    if (!archiveDir || !logPath) return
    const dir = path.dirname(logPath)
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name)
      if (p === logPath || (linkOnlyCompressed && !name.endsWith('.gz'))) continue
      const st = fs.statSync(p, { throwIfNoEntry: false })
      if (!st || !st.isFile()) continue
      const key = `${st.dev}:${st.ino}`
      if (archived.has(key)) continue
      archived.add(key)
      fs.linkSync(p, path.join(archiveDir, `${archived.size}-${name}`))
    }
  }

  const loop = (async () => {
    let next = Date.now() + intervalMs
    while (!stopping) {
      await new Promise((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, Math.max(0, next - Date.now()))
      })
      if (stopping) break
      next += intervalMs
      const r = await runOnce()
      runs.push(r)
      try {
        archive()
      } catch (err) {
        r.output += `\n[driver] archiving failed: ${err.message}`
      }
      if (Date.now() > next) next = Date.now() // a slow run: start the next one at once, don't pile up
    }
  })()

  return {
    get runs() {
      return runs.length
    },
    async stop() {
      stopping = true
      clearTimeout(timer)
      wake?.()
      await loop
      process.removeListener('exit', killOnExit)
      const failed = runs.filter((r) => r.code !== 0)
      return {
        runs: runs.length,
        ok: runs.length - failed.length,
        failed: failed.length,
        messages: runs.filter((r) => r.output.trim()).map((r) => `[exit ${r.code} after ${r.ms} ms] ${r.output.trim()}`),
        durationsMs: runs.map((r) => r.ms),
        archived: archived.size,
      }
    },
  }
}

// Every file that holds rotated or live lines at the end: the archive's links and the files left in the
// log's folder, once per inode; .gz files are decompressed. Returns [{ path, data: Buffer }].
export function archivedFiles(logPath, archiveDir) {
  const seen = new Set()
  const out = []
  const dir = path.dirname(logPath)
  const base = path.basename(logPath)
  const candidates = [
    ...fs.readdirSync(archiveDir).map((n) => path.join(archiveDir, n)),
    ...fs.readdirSync(dir).filter((n) => n.startsWith(base)).map((n) => path.join(dir, n)),
  ]
  for (const p of candidates) {
    const st = fs.statSync(p, { throwIfNoEntry: false })
    if (!st || !st.isFile()) continue
    const key = `${st.dev}:${st.ino}`
    if (seen.has(key)) continue
    seen.add(key)
    const raw = fs.readFileSync(p)
    out.push({ path: p, data: p.endsWith('.gz') ? zlib.gunzipSync(raw) : raw })
  }
  return out
}
