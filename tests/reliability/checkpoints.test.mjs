// checkpoints.test.mjs — what a kill -9 costs, with the endpoint throttling: nothing lost, and only what was
// in flight sent again.
//
// Role: the reliability tests of issue 14 §1.1 and §1.3 (lib/crash_run.mjs: a log written up front, the
// tests' PutRecords endpoint, the real ferry killed and started again):
//   - narrow glob: `files: [logs/app.log]` (the most common config), 40,000 lines, the endpoint throttling
//     90 % of the records (ProvisionedThroughputExceededException) and the spool at its smallest (1 MiB),
//     so that what is throttled waits in memory once it is full; app.log renamed to app.log.1 and a new
//     app.log created (empty, then 1,000 lines), kill -9 7 s later, a restart with the endpoint healthy
//     again: 0 lost. Before, the rotated file was forgotten once drained, its checkpoint entry dropped
//     while its records still waited for the endpoint, and the restart never read them again (with the
//     default spool the same befalls what is in flight or queued when the file is forgotten: 527 of
//     21,000 lines in issue 14; the full spool makes it certain).
//   - kills during catch-up: 200,000 lines read from the beginning with memory_limit 512KiB, an endpoint
//     25 ms away throttling 30 % of the records once, ferry killed 5 times 1.5–4 s apart: 0 lost, and the duplicates stay within
//     what may be unacknowledged at a kill, from memory_limit and the shortest line: in flight
//     (memory_limit) + acknowledged but not yet written (a quarter of it) + one read chunk, for each kill. Before, no checkpoint was written in a run shorter than checkpoint_interval and every
//     start began at offset 0 again: 4.4 duplicates per line.
//     The throttled records are accepted when sent again, so none is spilled to the spool (asserted):
//     the spool's replay after a crash has its own bound (one segment, docs/NOTES.md stage 5); this is
//     about the source checkpoints.
// Each prints its measured figures (lost, duplicates per kill, the bound).
//
// Run:
//   FERRY_BIN=$PWD/build/ferry node --test tests/reliability/checkpoints.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

import { openCrashRun, writeLines, throttleRandom, throttleFirstSight, MIN_LINE_BYTES } from './lib/crash_run.mjs'
import { describeVerdict, verdict } from './lib/verdict.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const NARROW_LINES = 40000
const NARROW_NEW_LINES = 1000

test('narrow glob under throttling, rotated by rename+create, kill -9 7 s later: no line lost', { timeout: 180000 }, async (t) => {
  const run = await openCrashRun(t, { slug: 'narrow-glob', throttle: throttleRandom(0.9) })
  let passed = false
  try {
    const live = path.join(run.logsDir, 'app.log')
    const last = NARROW_LINES + NARROW_NEW_LINES
    writeLines(live, 1, NARROW_LINES)
    // The spool at its smallest (1 MiB) fills up, so what is throttled after that waits in memory,
    // unacknowledged; the memory budget holds the whole file, so it is read to its end and drained.
    run.configure({ files: [live], startAt: 'beginning', yaml: 'memory_limit: 64MiB\nspool:\n  max_bytes: 1MiB\n' })
    await run.start()
    await run.ep.waitForRequests(1)
    // logrotate's rename and create: the new log starts empty, the application writes to it a moment later.
    fs.renameSync(live, `${live}.1`)
    fs.writeFileSync(live, '')
    await sleep(500)
    writeLines(live, NARROW_LINES + 1, last)
    await sleep(6500)
    const deliveredBeforeKill = run.verdict({ first: 1, last }).delivered
    await run.kill()
    run.throttle = null
    await run.start()
    const drain = await run.waitDelivered({ first: 1, last })
    const exit = await run.stop()
    const v = run.verdict({ first: 1, last })
    t.diagnostic(
      `narrow glob: ${last} lines, ${deliveredBeforeKill} delivered before the kill, lost ${v.lost}, ` +
        `duplicated ${v.duplicated} (${v.extraCopies} extra copies), drained in ${drain.ms} ms`,
    )
    const report = `${describeVerdict(v)}\n${run.stderr().slice(-20000)}`
    assert.match(run.stderr(), /is gone or renamed out of the globs/, `harness: ferry never saw the rotation\n${report}`)
    assert.ok(deliveredBeforeKill < NARROW_LINES, `harness: everything was delivered before the kill\n${report}`)
    assert.equal(v.unexpected, 0, `records that are not lines of the log\n${report}`)
    assert.equal(v.lost, 0, `lines lost\n${report}`)
    assert.deepEqual(exit, { code: 0, signal: null }, `ferry did not exit 0 on SIGTERM\n${report}`)
    passed = true
  } finally {
    await run.close(passed)
  }
})

const CATCH_UP_LINES = 200000
const MEMORY_LIMIT = 512 << 10
const READ_CHUNK = 256 << 10 // agent/source/file_tailer.h, read_chunk_bytes
const KILL_AFTER_S = [2.0, 3.5, 1.5, 4.0, 2.5]
// An endpoint 25 ms away keeps the catch-up going through all the kills on a fast machine.
const ENDPOINT_DELAY_MS = 25

test(`kill -9 ${KILL_AFTER_S.length} times during the catch-up of ${CATCH_UP_LINES} lines: duplicates bounded by what was in flight`, { timeout: 240000 }, async (t) => {
  const run = await openCrashRun(t, { slug: 'catch-up', throttle: throttleFirstSight(0.3), delayMs: ENDPOINT_DELAY_MS })
  let passed = false
  try {
    const log = path.join(run.logsDir, 'app.log')
    writeLines(log, 1, CATCH_UP_LINES)
    run.configure({ files: [log], startAt: 'beginning', yaml: `memory_limit: ${MEMORY_LIMIT / 1024}KiB\n` })
    await run.start()
    const acceptedAtKill = []
    let beforeLastKill = []
    for (const seconds of KILL_AFTER_S) {
      await sleep(seconds * 1000)
      acceptedAtKill.push(run.ep.accepted.length)
      beforeLastKill = run.ep.accepted.slice()
      await run.kill()
      await run.start()
    }
    const deliveredBeforeLastKill = verdict({ first: 1, last: CATCH_UP_LINES }, beforeLastKill).delivered
    const drain = await run.waitDelivered({ first: 1, last: CATCH_UP_LINES, maxMs: 120000 })
    const exit = await run.stop()
    const v = run.verdict({ first: 1, last: CATCH_UP_LINES })
    // What a kill may leave unacknowledged, or acknowledged but not yet in a checkpoint: the memory budget
    // (every record read and not acknowledged is in a batch charged to it), a quarter of it (the distance
    // between recent checkpoint writes) and one read chunk (the acknowledgement that crosses that distance).
    const perKillBytes = MEMORY_LIMIT + MEMORY_LIMIT / 4 + READ_CHUNK
    const perKill = Math.ceil(perKillBytes / MIN_LINE_BYTES)
    const bound = perKill * KILL_AFTER_S.length
    const report =
      `${describeVerdict(v)}\naccepted at each kill: ${acceptedAtKill.join(', ')}; distinct lines before the last: ${deliveredBeforeLastKill}\n` +
      run.stderr().slice(-20000)
    t.diagnostic(
      `catch-up: ${CATCH_UP_LINES} lines, ${KILL_AFTER_S.length} kills (accepted before each: ${acceptedAtKill.join(', ')}), ` +
        `lost ${v.lost}, ${v.extraCopies} extra copies = ${(v.extraCopies / KILL_AFTER_S.length).toFixed(0)} per kill ` +
        `(${(v.extraCopies / CATCH_UP_LINES).toFixed(3)} per line); bound ${perKill} per kill, ${bound} in all; drained in ${drain.ms} ms`,
    )
    // The premise: the runs were cut short during the catch-up, and nothing went through the spool.
    assert.ok(deliveredBeforeLastKill < CATCH_UP_LINES, `harness: the catch-up was over before the last kill\n${report}`)
    assert.doesNotMatch(run.stderr(), /written to the spool/, `harness: records were spilled to the spool\n${report}`)
    assert.equal(v.unexpected, 0, `records that are not lines of the log\n${report}`)
    assert.equal(v.lost, 0, `lines lost\n${report}`)
    assert.ok(v.extraCopies <= bound, `${v.extraCopies} duplicates, more than the ${bound} that may be in flight at ${KILL_AFTER_S.length} kills\n${report}`)
    assert.deepEqual(exit, { code: 0, signal: null }, `ferry did not exit 0 on SIGTERM\n${report}`)
    passed = true
  } finally {
    await run.close(passed)
  }
})
