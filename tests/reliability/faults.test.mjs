// faults.test.mjs — ferry under faults while a rotated log is written: kill -9 again and again, and a long
// endpoint outage across rotations. Nothing may be lost.
//
// Role: the long-running fault tests of DESIGN.md §3 (issue 5), on the scenario of rotation.test.mjs
// (lib/scenario.mjs: a writer appending unique lines, Debian's logrotate, the tests' PutRecords endpoint):
//   - kill -9 twenty times, evenly spread over a run of at least 1,000,000 lines (rename+create rotation
//     every 2 s, glob app.log*, start_at: end, checkpoints every second), ferry started again at once each
//     time: 0 lost; the
//     duplicates (records delivered but not yet checkpointed when ferry died) are reported.
//   - the endpoint refusing connections for 2 minutes while the writer goes on and logrotate rotates the
//     log 3 times within the outage (rotate 0: each rotated file is deleted at once, so only ferry's open
//     descriptor still reads it): ferry reads on into its spool; 0 lost after the endpoint returns.
//
// Run:
//   FERRY_BIN=/path/to/ferry node --test tests/reliability/faults.test.mjs
//   FERRY_FAULTS_OUTAGE_SECONDS=20 FERRY_BIN=... node --test --test-name-pattern=outage tests/reliability/faults.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { runScenario, testTimeoutMs } from './lib/scenario.mjs'
import { assertHarness, assertFerryAlive, assertFerryExited0, assertNothingLost, duplicatesNote } from './lib/checks.mjs'

const KILLS = 20
const KILL_RATE = 20000
const KILL_SECONDS = 52 // 1,040,000 lines

test(`kill -9 ${KILLS} times during ${KILL_RATE * KILL_SECONDS} lines with rotation: no line lost`, { timeout: testTimeoutMs(KILL_SECONDS) + 300000 }, async (t) => {
  // Every 2.4 s from 2 s on; none in the writer's last seconds, so the last start has the whole drain.
  const restarts = Array.from({ length: KILLS }, (_, i) => ({ atSeconds: 2 + i * 2.4, signal: 'SIGKILL' }))
  const name = `rename+create, glob app.log*, kill -9 x${KILLS}`
  // Checkpoints every second: with the default 5 s, a ferry killed every 2.4 s would never write one, and
  // each start would go back to the same offsets until logrotate deleted the files it still had to read.
  const extraYaml = 'checkpoint_interval: 1s\n'
  await runScenario(t, { name, mode: 'rename', glob: 'all', startAt: 'end', restarts, seconds: KILL_SECONDS, rate: KILL_RATE, extraYaml }, (r) => {
    assertHarness(r, { rate: KILL_RATE, seconds: KILL_SECONDS })
    assert.equal(r.ferry.stops.length, KILLS, `harness: ${r.ferry.stops.length} kills done\n${r.report}`)
    assert.ok(r.writer.count >= 1000000, `harness: only ${r.writer.count} lines`)
    t.diagnostic(`kill -9 x${KILLS}: ${r.writer.count} lines, lost ${r.verdict.lost}, ${duplicatesNote(r.verdict)}`)
    assertFerryAlive(r)
    assertNothingLost(r)
    assertFerryExited0(r)
  })
})

const OUTAGE_SECONDS = Number(process.env.FERRY_FAULTS_OUTAGE_SECONDS || 120)
const OUTAGE_RATE = 5000
const OUTAGE_AT = 8
// Three rotations inside the outage, a few seconds after it starts and before it ends.
const OUTAGE_ROTATE_MS = Math.round((OUTAGE_SECONDS * 1000) / 3.5)
const OUTAGE_RUN_SECONDS = OUTAGE_AT + OUTAGE_SECONDS + 10

test(`the endpoint down for ${OUTAGE_SECONDS} s across 3 rotations (rotate 0): no line lost`, { timeout: testTimeoutMs(OUTAGE_RUN_SECONDS) + 300000 }, async (t) => {
  const name = `rotate 0, endpoint down ${OUTAGE_SECONDS} s`
  const outages = [{ atSeconds: OUTAGE_AT, forSeconds: OUTAGE_SECONDS }]
  await runScenario(
    t,
    { name, mode: 'delete', glob: 'live', outages, seconds: OUTAGE_RUN_SECONDS, rate: OUTAGE_RATE, rotateEveryMs: OUTAGE_ROTATE_MS, drainMaxMs: 180000 },
    (r) => {
      assertHarness(r, { rate: OUTAGE_RATE, seconds: OUTAGE_RUN_SECONDS, rotateEveryMs: OUTAGE_ROTATE_MS })
      const [o] = r.outages
      assert.ok(o && o.toMs - o.fromMs >= OUTAGE_SECONDS * 1000, `harness: the outage did not happen as planned ${JSON.stringify(r.outages)}`)
      // At least 3 rotations fell inside the outage (the driver rotates every OUTAGE_ROTATE_MS from the start).
      const inside = Math.floor(o.toMs / OUTAGE_ROTATE_MS) - Math.floor(o.fromMs / OUTAGE_ROTATE_MS)
      assert.ok(inside >= 3, `harness: only ${inside} rotations inside the outage`)
      // Ferry read on into its spool during the outage rather than stopping at the memory limit.
      assert.match(r.stderr, /written to the spool/, r.report)
      t.diagnostic(`outage: ${r.writer.count} lines, lost ${r.verdict.lost}, ${duplicatesNote(r.verdict)}, rotations inside the outage ${inside}`)
      assertFerryAlive(r)
      assertNothingLost(r)
      assertFerryExited0(r)
    },
  )
})
