// lib/crash_run.mjs — a short reliability run around ferry's checkpoints: a log written up front, the
// tests' PutRecords endpoint with a throttling policy, ferry killed and started again, and a verdict.
//
// Role: the shared body of checkpoints.test.mjs and slow_fsync.test.mjs (the logrotate scenario of
// lib/scenario.mjs is for long runs against a live writer; these runs need a fixed log, precise kills and
// an endpoint whose behaviour changes between starts).
//
//   const run = await openCrashRun(t, { slug, throttle, delayMs })  // takes the host's run lock, a temp
//                                                           // folder, starts the endpoint (answering each
//                                                           // request after delayMs, like a distant one)
//   writeLines(path, first, last)                           // appends lineFor(first..last), '\n' each
//   run.configure({ files, startAt, yaml })                 // ferry.yaml (yaml: extra top-level keys)
//   await run.start({ env })                                // ferry run; resolves once it logged "ferry started"
//   await run.kill()                                        // kill -9, waits for the exit
//   run.throttle = throttleRandom(0.9) | throttleFirstSight(0.3) | null   // from the next request on
//   await run.waitDelivered({ first, last, quietMs, maxMs }) // until every line arrived, or nothing new for quietMs
//                                                           // (12 s: longer than retry.backoff_cap), or maxMs
//   const exit = await run.stop()                           // SIGTERM; { code, signal }
//   const v = run.verdict({ first, last })                  // lib/verdict.mjs
//   run.stderr()                                            // every start's stderr, joined
//   await run.close(passed)                                 // stops what it started; keeps the folder on failure
//
// On failure the temp folder (logs, state, ferry.yaml, each start's stderr) is kept and its path printed.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryBinary, writeConfig, startFerry, stopFerry } from '../../integration/lib/ferry.mjs'
import { startPutRecordsEndpoint } from '../../integration/lib/put_records_endpoint.mjs'
import { acquireRunLock } from './lock.mjs'
import { killAndWait } from './procs.mjs'
import { lineFor } from './lines.mjs'
import { verdict } from './verdict.mjs'

const THROTTLED = 'ProvisionedThroughputExceededException'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Appends lineFor(first..last), each with '\n', in a few large writes.
export function writeLines(file, first, last) {
  const CHUNK = 10000
  for (let from = first; from <= last; from += CHUNK) {
    const to = Math.min(last, from + CHUNK - 1)
    const lines = []
    for (let s = from; s <= to; s++) lines.push(lineFor(s))
    fs.appendFileSync(file, lines.join('\n') + '\n')
  }
}

// Bytes of the shortest line lineFor can give, with its '\n' (10-digit seq, a space, 100+ bytes of text).
export const MIN_LINE_BYTES = 10 + 1 + 100 + 1

// Each record throttled with probability p, every time it is sent.
export function throttleRandom(p) {
  return () => (Math.random() < p ? THROTTLED : null)
}

// Each record (by its bytes) throttled with probability p the first time it is seen, accepted when sent again:
// retries succeed from memory, so nothing is spilled to the spool.
export function throttleFirstSight(p) {
  const seen = new Set()
  return (data) => {
    const key = crypto.createHash('sha1').update(data).digest('base64')
    if (seen.has(key)) return null
    seen.add(key)
    return Math.random() < p ? THROTTLED : null
  }
}

function waitForOutput(child, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const poll = () => {
      if (pattern.test(child.output.stderr)) return resolve()
      if (child.exitStatus) return reject(new Error(`ferry exited (${JSON.stringify(child.exitStatus)}) before ${what}\n${child.output.stderr.slice(-5000)}`))
      if (Date.now() > deadline) return reject(new Error(`ferry did not log ${what} within ${timeoutMs} ms\n${child.output.stderr.slice(-5000)}`))
      setTimeout(poll, 20)
    }
    poll()
  })
}

export async function openCrashRun(t, { slug, throttle = null, delayMs = 0 }) {
  ferryBinary()
  const release = await acquireRunLock({ onWait: (pid) => t.diagnostic(`waiting for pid ${pid} (another reliability run) to finish`) })
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-rel-${slug}-`))
  const logsDir = path.join(tmp, 'logs')
  const stateDir = path.join(tmp, 'state')
  fs.mkdirSync(logsDir)
  fs.mkdirSync(stateDir)
  const children = []
  const run = {
    tmp,
    logsDir,
    stateDir,
    configPath: path.join(tmp, 'ferry.yaml'),
    throttle,
    ep: null,
    child: null,
    configure({ files, startAt = 'beginning', yaml = '' }) {
      writeConfig(run.configPath, { stateDir, endpoint: run.ep.endpoint, stream: 'checkpoints', files, startAt, flowName: 'checkpoints' })
      // The endpoint stores far more than a real shard's 1 MiB/s: ferry's per-shard limit would only slow the run.
      fs.appendFileSync(run.configPath, '      rate_limit: 0\n' + yaml)
    },
    async start({ env = {} } = {}) {
      const child = startFerry(run.configPath, { env })
      children.push(child)
      run.child = child
      await waitForOutput(child, /ferry started/, 15000, '"ferry started"')
      return child
    },
    async kill() {
      run.child.kill('SIGKILL')
      return run.child.exited
    },
    async stop() {
      const s = await stopFerry(run.child)
      return { code: s.code, signal: s.signal }
    },
    async waitDelivered({ first, last, quietMs = 12000, maxMs = 90000 }) {
      const want = last - first + 1
      const begin = Date.now()
      let seen = run.ep.accepted.length
      let changed = Date.now()
      while (Date.now() - begin < maxMs && Date.now() - changed < quietMs && !run.child.exitStatus) {
        await sleep(100)
        if (run.ep.accepted.length !== seen) {
          seen = run.ep.accepted.length
          changed = Date.now()
        }
        // Every line arrived (possibly more than once): enough, once a short quiet shows nothing is on the way.
        if (seen >= want && Date.now() - changed >= 500 && verdict({ first, last }, run.ep.accepted).lost === 0) break
      }
      return { ms: Date.now() - begin }
    },
    verdict({ first, last }) {
      return verdict({ first, last }, run.ep.accepted)
    },
    stderr() {
      return children.map((c, i) => `--- ferry start ${i + 1} ---\n${c.output.stderr}`).join('\n')
    },
    async close(passed) {
      for (const c of children) {
        if (c.exitStatus === null) await killAndWait(c, 'SIGKILL', 5000)
      }
      children.forEach((c, i) => {
        try {
          fs.writeFileSync(path.join(tmp, `ferry-${i + 1}.stderr.log`), c.output.stderr)
        } catch {}
      })
      if (run.ep) await run.ep.stop()
      release()
      if (passed) fs.rmSync(tmp, { recursive: true, force: true })
      else t.diagnostic(`kept ${tmp} (logs, state, ferry.yaml, ferry-*.stderr.log) for inspection`)
    },
  }
  try {
    run.ep = await startPutRecordsEndpoint({
      policy: ({ records }) => {
        const decide = run.throttle
        return { delayMs, failRecord: decide ? (i) => decide(records[i].data) : null }
      },
    })
  } catch (err) {
    release()
    throw err
  }
  return run
}
