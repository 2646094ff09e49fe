// slow_fsync.test.mjs — a disk whose fsync takes 400 ms must not stall ferry's loop.
//
// Role: the reliability test of issue 14 §2 "fsync runs on the loop thread". ferry runs with the
// LD_PRELOAD shim slow_fsync.c (built by tests/CMakeLists.txt as libferry_slow_fsync.so), which makes every
// fsync and fdatasync sleep 400 ms first, like a worn SD card, and notes each call with the path synced.
// A writer appends 5,000 lines/s to the log; the endpoint is healthy. The loop's latency is measured from
// outside: `ferry status` is served on the loop, so the test connects to state_dir/ferry.sock every
// 50 ms and times the whole answer. Asserted, per case:
//   - the shim delayed the syncs of the case's files (at least 3 in the window: the test exercised them);
//   - every status answer came within 150 ms (a sync on the loop holds it for 400 ms or more);
//   - at most one durable checkpoint write per checkpoint_interval (the .tmp's syncs counted);
//   - after the writer stops, every line arrives (none lost).
// Before, checkpoint files were written and synced on the loop: with the file's and the folder's fsync,
// each checkpoint stalled reading, sending and `ferry status` for 800 ms.
//
// Cases: checkpoints (spool on_failure with a healthy endpoint, so nothing else is synced); spool always
// (every request is written to the spool and synced before it is sent, so each sync also delays delivery:
// the spool's writes are grouped, one fdatasync for all appends queued meanwhile, and the loop never waits).
// The shim slows every sync; FERRY_SLOW_FSYNC_MATCH can restrict the delay to one kind of file.
//
// Run (the shim is found by $FERRY_SLOW_FSYNC_LIB, else next to FERRY_BIN at tests/libferry_slow_fsync.so):
//   FERRY_BIN=$PWD/build/ferry node --test tests/reliability/slow_fsync.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import { ferryBinary } from '../integration/lib/ferry.mjs'
import { openCrashRun } from './lib/crash_run.mjs'
import { startWriter } from './lib/procs.mjs'
import { describeVerdict } from './lib/verdict.mjs'

const SYNC_DELAY_MS = 400
const PROBE_EVERY_MS = 50
const WINDOW_S = 8
const WRITE_RATE = 5000
const MAX_ANSWER_MS = 150

const CASES = [
  { name: 'checkpoints', yaml: 'checkpoint_interval: 200ms\n', synced: /\/checkpoints\/.*\.tmp$/, durableEveryMs: 200 },
  { name: 'spool always', yaml: 'spool:\n  mode: always\n', synced: /\/spool\//, durableEveryMs: null },
]

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function shimPath() {
  const lib = process.env.FERRY_SLOW_FSYNC_LIB || path.join(path.dirname(ferryBinary()), 'tests', 'libferry_slow_fsync.so')
  if (!fs.existsSync(lib)) throw new Error(`the slow fsync shim ${lib} is missing: build the target ferry_slow_fsync, or set FERRY_SLOW_FSYNC_LIB`)
  return lib
}

// How long the daemon takes to answer on its status socket (connect to the end of the answer), in ms.
function statusAnswerMs(socketPath) {
  return new Promise((resolve, reject) => {
    const began = process.hrtime.bigint()
    let bytes = 0
    // As `ferry status` does: with the request sent, the daemon closes once the answer is out.
    const s = net.connect(socketPath, () => s.write('status\n'))
    s.setTimeout(10000, () => s.destroy(new Error('no answer in 10 s')))
    s.on('data', (d) => (bytes += d.length))
    s.on('error', reject)
    s.on('end', () => {
      s.destroy()
      if (bytes === 0) return reject(new Error('empty answer'))
      resolve(Number(process.hrtime.bigint() - began) / 1e6)
    })
  })
}

// The shim's log: one { kind, tid, delayMs, path } per sync.
function readSyncLog(file) {
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, tid, delayMs, ...rest] = line.split(' ')
      return { kind, tid: Number(tid), delayMs: Number(delayMs), path: rest.join(' ') }
    })
}

for (const c of CASES) {
  test(`${c.name}: fsync delayed ${SYNC_DELAY_MS} ms, every status answer within ${MAX_ANSWER_MS} ms`, { timeout: 120000 }, async (t) => {
    const lib = shimPath()
    const run = await openCrashRun(t, { slug: `slow-fsync-${c.name.replace(/\W+/g, '-')}` })
    let passed = false
    let writer = null
    try {
      const live = path.join(run.logsDir, 'app.log')
      fs.writeFileSync(live, '')
      run.configure({ files: [live], startAt: 'beginning', yaml: c.yaml })
      const syncLog = path.join(run.tmp, 'fsync.log')
      await run.start({ env: { LD_PRELOAD: lib, FERRY_SLOW_FSYNC_MS: String(SYNC_DELAY_MS), FERRY_SLOW_FSYNC_LOG: syncLog } })
      const socketPath = path.join(run.stateDir, 'ferry.sock')
      writer = startWriter({ path: live, rate: WRITE_RATE, seconds: WINDOW_S + 1 })
      await writer.started
      await sleep(500)

      const syncsBefore = readSyncLog(syncLog).length
      const answers = []
      const failures = []
      const windowStart = Date.now()
      while (Date.now() - windowStart < WINDOW_S * 1000) {
        const next = Date.now() + PROBE_EVERY_MS
        try {
          answers.push(await statusAnswerMs(socketPath))
        } catch (err) {
          failures.push(err.message)
        }
        await sleep(Math.max(0, next - Date.now()))
      }
      const windowMs = Date.now() - windowStart
      const syncs = readSyncLog(syncLog).slice(syncsBefore)
      const w = await writer.done
      writer = null
      await run.waitDelivered({ first: w.first, last: w.last })
      const exit = await run.stop()
      const v = run.verdict({ first: w.first, last: w.last })

      const sorted = [...answers].sort((a, b) => a - b)
      const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
      const mine = syncs.filter((s) => c.synced.test(s.path))
      const others = syncs.length - mine.length
      t.diagnostic(
        `${c.name}: ${answers.length} status answers in ${(windowMs / 1000).toFixed(1)} s, median ${pct(50).toFixed(1)} ms, ` +
          `p99 ${pct(99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms; ${mine.length} slow syncs of ${c.name} ` +
          `files (${others} of others) on ${new Set(mine.map((s) => s.tid)).size} thread(s); ${w.count} lines, lost ${v.lost}`,
      )
      const report = `${describeVerdict(v)}\nsyncs: ${JSON.stringify(syncs.slice(0, 20))}\n${run.stderr().slice(-10000)}`
      assert.equal(failures.length, 0, `status probes failed: ${failures.slice(0, 5).join('; ')}\n${report}`)
      assert.ok(mine.length >= 3, `harness: only ${mine.length} delayed syncs of ${c.name} files in the window\n${report}`)
      const slow = answers.filter((ms) => ms >= MAX_ANSWER_MS)
      assert.equal(slow.length, 0, `${slow.length} of ${answers.length} status answers took ${MAX_ANSWER_MS} ms or more (worst ${sorted[sorted.length - 1].toFixed(0)} ms): the loop waited for a sync\n${report}`)
      if (c.durableEveryMs) {
        // A durable checkpoint write syncs its .tmp once: at most one per interval (and one in flight).
        assert.ok(mine.length <= Math.ceil(windowMs / c.durableEveryMs) + 1, `${mine.length} durable writes in ${windowMs} ms\n${report}`)
      }
      assert.equal(v.unexpected, 0, `records that are not lines of the log\n${report}`)
      assert.equal(v.lost, 0, `lines lost\n${report}`)
      assert.deepEqual(exit, { code: 0, signal: null }, `ferry did not exit 0 on SIGTERM\n${report}`)
      passed = true
    } finally {
      if (writer) await writer.stop()
      await run.close(passed)
    }
  })
}
