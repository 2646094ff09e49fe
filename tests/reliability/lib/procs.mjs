// lib/procs.mjs — child processes of the reliability tests: the writer, /proc accounting, clean stops.
//
//   const w = startWriter({ path, rate, seconds, first })   // spawns lib/writer.mjs with node, at nice -10
//                                   if allowed (w.priority says which), so other load does not slow it
//   await w.started                 // { event: 'started', ino, total } once the log file is open
//   const result = await w.done     // the writer's final JSON (rejects if it fails or prints none)
//   await w.stop()                  // SIGTERM (then SIGKILL), wait; harmless once it has exited
//   procTimes(pid) -> { cpuMs } of a live process from /proc/<pid>/stat (null if gone)
//   isRunning(pid), killAndWait(child, signal, timeoutMs)
//
// Every child is also SIGKILLed if the test process exits without stopping it.
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const WRITER_SCRIPT = fileURLToPath(new URL('./writer.mjs', import.meta.url))
const STDERR_KEEP = 64 * 1024
const WRITER_PRIORITY = -10 // nice value

let clockTicks = 0
function ticksPerSecond() {
  if (!clockTicks) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

// CPU time (user + system) of a live process so far, from /proc/<pid>/stat (null if it is gone).
export function procTimes(pid) {
  let stat
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // Fields after the command name (which may contain spaces and parentheses) start with field 3, state.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(f[14 - 3])
  const stime = Number(f[15 - 3])
  return { cpuMs: Math.round(((utime + stime) * 1000) / ticksPerSecond()) }
}

// A live, non-zombie process?
export function isRunning(pid) {
  let stat
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return false
  }
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

// Signal a ChildProcess and wait for its 'exit'; SIGKILL after timeoutMs. Resolves { code, signal }.
export function killAndWait(child, signal = 'SIGTERM', timeoutMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code, sig) => {
      clearTimeout(timer)
      resolve({ code, signal: sig })
    })
    child.kill(signal)
  })
}

export function startWriter({ path, rate = 20000, seconds = 30, first = 1, batchMs, checkMs }) {
  const args = [WRITER_SCRIPT, '--path', path, '--rate', String(rate), '--seconds', String(seconds), '--first', String(first)]
  if (batchMs) args.push('--batch-ms', String(batchMs))
  if (checkMs) args.push('--check-ms', String(checkMs))
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  // The writer's rate is the test's premise: give it precedence over other work on a shared machine
  // (needs root or CAP_SYS_NICE; otherwise it keeps the default priority).
  let priority = 0
  try {
    os.setPriority(child.pid, WRITER_PRIORITY)
    priority = WRITER_PRIORITY
  } catch {}
  const killOnExit = () => {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  process.on('exit', killOnExit)
  let stderr = ''
  let stdout = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s) => (stderr = (stderr + s).slice(-STDERR_KEEP)))
  child.stdout.setEncoding('utf8')
  let onStarted
  const started = new Promise((resolve) => (onStarted = resolve))
  child.stdout.on('data', (s) => {
    stdout += s
    for (const line of stdout.split('\n')) {
      if (line.startsWith('{"event":"started"')) onStarted(JSON.parse(line))
    }
  })
  const done = new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`writer did not start: ${err.message}`)))
    child.once('close', (code, signal) => {
      process.removeListener('exit', killOnExit)
      const last = stdout.trim().split('\n').pop() || ''
      let result = null
      try {
        result = JSON.parse(last)
      } catch {}
      if (code === 0 && result?.event === 'done') return resolve(result)
      reject(new Error(`writer failed (code ${code}, signal ${signal})\n--- writer stdout ---\n${stdout}\n--- writer stderr ---\n${stderr}`))
    })
  })
  done.catch(() => {}) // the caller awaits it; never an unhandled rejection meanwhile
  // started rejects too if the writer dies before opening its file
  const startedOrFailed = Promise.race([started, done.then(() => started)])
  return {
    pid: child.pid,
    child,
    priority,
    started: startedOrFailed,
    done,
    stderr: () => stderr,
    stop: () => killAndWait(child, 'SIGTERM', 5000),
  }
}
