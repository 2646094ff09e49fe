// lib/checks.mjs — the assertions shared by rotation.test.mjs and restart.test.mjs.
//
// Harness checks come first, so that a machine too busy to write 20,000 lines/s or a failed logrotate
// run is reported as the harness's problem, not ferry's. Every message carries the scenario's report.
import assert from 'node:assert/strict'

import { ROTATE_EVERY_MS, ROTATION_END_MARGIN_MS } from './scenario.mjs'

// The harness did its part: the writer wrote every line at >= 95% of the rate asked for and followed every
// rotation, and logrotate rotated every 2 s (or rotateEveryMs) without an error.
export function assertHarness(r, { rate, seconds, rotateEveryMs = ROTATE_EVERY_MS }) {
  const { writer: w, rotation } = r
  const total = Math.round(rate * seconds)
  assert.equal(w.count, total, `harness: the writer wrote ${w.count} lines, not ${total}\n${r.report}`)
  assert.ok(
    w.achievedRate >= 0.95 * rate,
    `harness: the writer reached only ${w.achievedRate} lines/s of ${rate} (the machine is too busy; not ferry's fault)\n${r.report}`,
  )
  assert.equal(rotation.failed, 0, `harness: ${rotation.failed} logrotate runs failed\n${r.report}`)
  const expected = Math.floor((seconds * 1000 - ROTATION_END_MARGIN_MS) / rotateEveryMs)
  assert.ok(rotation.ok >= expected - 1, `harness: only ${rotation.ok} rotations in ${seconds} s (expected ~${expected})\n${r.report}`)
  if (r.mode !== 'copytruncate') {
    assert.ok(w.reopens >= rotation.ok, `harness: the writer reopened its log ${w.reopens}x for ${rotation.ok} rotations\n${r.report}`)
  }
  // The writer never had to create the log itself: had it won the race with logrotate's `create`, its file
  // would have become app.log-YYYYMMDDHH.backup (see lib/writer.mjs), outside an app.log glob.
  assert.equal(w.created, 0, `harness: the writer created the log itself ${w.created}x\n${r.report}`)
}

export function assertFerryAlive(r) {
  assert.equal(r.ferry.diedOnItsOwn, null, `ferry exited on its own during the run: ${JSON.stringify(r.ferry.diedOnItsOwn)}\n${r.report}`)
}

export function assertFerryExited0(r) {
  assert.deepEqual(r.ferry.exit, { code: 0, signal: null }, `ferry did not exit 0 after the final SIGTERM\n${r.report}`)
}

export function assertNothingLost(r) {
  assert.equal(r.verdict.unexpected, 0, `records that are not lines of the log (torn, merged or altered)\n${r.report}`)
  assert.equal(r.verdict.lost, 0, `ferry lost lines\n${r.report}`)
}

// copytruncate: logrotate copies the live file, fsyncs the copy, then truncates the live file; what the
// writer appends in between is in no file afterwards. A shipper saves those lines only if it happened to
// read them from the live file in that window (tens of ms on ext4), so they are reported, not asserted;
// every line that was in a file at rest (a rotated copy, kept by hard link, or the live file) must arrive.
export function assertNothingLostFromDisk(r) {
  assert.equal(r.verdict.unexpected, 0, `records that are not lines of the log (torn, merged or altered)\n${r.report}`)
  assert.ok(r.onDisk, 'assertNothingLostFromDisk needs the rotation archive')
  assert.equal(r.onDisk.lostOnDisk, 0, `ferry lost lines that were in a log file (of ${r.verdict.lost} lost)\n${r.report}`)
}

export function assertNoDuplicates(r) {
  assert.equal(r.verdict.duplicated, 0, `ferry shipped lines more than once\n${r.report}`)
}

// One line about duplicates for t.diagnostic when they are reported rather than asserted.
export function duplicatesNote(v) {
  if (!v.duplicated) return 'no duplicates'
  const runs = v.duplicatedRuns.slice(0, 5).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
  return `duplicates (reported, not asserted): ${v.duplicated} lines, ${v.extraCopies} extra copies, in ${v.duplicatedRunCount} run(s), first ${runs.join(', ')}`
}
