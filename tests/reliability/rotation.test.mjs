// rotation.test.mjs — ferry under log rotation at 20,000 lines/s: nothing lost, nothing twice.
//
// Role: the reliability tests of ferry's tailer against Debian's real logrotate. For each mode a writer
// (lib/writer.mjs, its own process) appends unique lines to logs/app.log at FERRY_ROTATION_RATE lines/s
// (default 20000) for FERRY_ROTATION_SECONDS (default 30) and reopens the path after a rename, like a
// real application; `logrotate -f` rotates the log every 2 s; ferry ships it to the tests' PutRecords
// endpoint. After the writer stops and ferry has drained, ferry gets SIGTERM (it must exit 0) and every
// record is checked against the lines written (lib/verdict.mjs): lost, duplicated, unexpected.
//
//   mode (lib/rotation.mjs)           ferry's glob     verdict
//   rename + create, rotate 5         app.log          0 lost, 0 duplicated
//   rename + create, rotate 5         app.log*         0 lost, 0 duplicated (rotated names stay in the
//                                                      glob and must not be read again)
//   copytruncate, rotate 5            app.log*         0 lost of the lines that were in a log file at rest;
//                                                      duplicates, and lines logrotate itself destroyed,
//                                                      reported, not asserted
//   dateext + compress, delaycompress app.log          0 lost, 0 duplicated
//   rotate 0 (delete) + create        app.log          0 lost, 0 duplicated
// In every mode: no unexpected record (torn, merged or altered line), and ferry exits 0 on SIGTERM.
// With app.log only, a rotated file leaves the glob and must be drained from ferry's open descriptor.
// copytruncate uses app.log*: the lines appended after ferry's last read of the live file and before
// logrotate's copy ends exist afterwards only in the copy (app.log.1), so no shipper that watches
// app.log alone can promise them; with the copy in the glob it can (reading the copy from where it
// stopped in the live file, or all of it, which is where duplicates come from). Lines appended after the
// copy and before the truncate (logrotate fsyncs the copy in between: 10-50 ms of lines per rotation here,
// 0.35-0.8% of all lines) end up in no file at all; they are counted (a hard-link archive of every rotated
// file tells them apart) and reported, not asserted.
//
// Harness checks come first in each test (the writer reached 95% of its rate, every logrotate run
// succeeded), so a failure of the machine or the harness is not reported as ferry's. Each test prints one
// diagnostic line: lines written, achieved rate, rotations, records received, lost, duplicated, ferry's
// wall and CPU time. On failure the temp folder is kept (its path is printed) with report.txt, ferry's
// stderr, the logs and a hard-link archive of every rotated file.
//
// Run (one scenario at a time; the files take a lock so parallel files queue up):
//   FERRY_BIN=/path/to/ferry node --test tests/reliability/rotation.test.mjs
//   FERRY_ROTATION_SECONDS=6 FERRY_ROTATION_RATE=5000 FERRY_BIN=... node --test tests/reliability/rotation.test.mjs
//   FERRY_BIN=... node --test --test-name-pattern=copytruncate tests/reliability/rotation.test.mjs
import { test } from 'node:test'

import { runScenario, testTimeoutMs, SECONDS, RATE } from './lib/scenario.mjs'
import {
  assertHarness,
  assertFerryAlive,
  assertFerryExited0,
  assertNothingLost,
  assertNothingLostFromDisk,
  assertNoDuplicates,
  duplicatesNote,
} from './lib/checks.mjs'

// loss: 'all' = no line may be lost; 'onDisk' = no line that was in a log file at rest may be lost (see
// assertNothingLostFromDisk in lib/checks.mjs for why copytruncate cannot promise more).
const CASES = [
  { name: 'rename+create, glob app.log', mode: 'rename', glob: 'live', loss: 'all', duplicates: 'assert' },
  { name: 'rename+create, glob app.log*', mode: 'rename', glob: 'all', loss: 'all', duplicates: 'assert' },
  { name: 'copytruncate, glob app.log*', mode: 'copytruncate', glob: 'all', loss: 'onDisk', duplicates: 'report' },
  { name: 'dateext+compress+delaycompress, glob app.log', mode: 'dateext', glob: 'live', loss: 'all', duplicates: 'assert' },
  { name: 'delete (rotate 0)+create, glob app.log', mode: 'delete', glob: 'live', loss: 'all', duplicates: 'assert' },
]

for (const c of CASES) {
  const what = c.duplicates === 'assert' ? 'every line exactly once' : 'every line at least once'
  test(`${c.name}: ${what}`, { timeout: testTimeoutMs() }, async (t) => {
    await runScenario(t, { name: c.name, mode: c.mode, glob: c.glob }, (r) => {
      assertHarness(r, { rate: RATE, seconds: SECONDS })
      if (c.duplicates === 'report') t.diagnostic(duplicatesNote(r.verdict))
      if (r.onDisk && (r.verdict.lost || r.onDisk.missingFromDisk)) {
        t.diagnostic(
          `lost ${r.verdict.lost} lines: ${r.onDisk.lostOnDisk} had been in a log file, ${r.onDisk.lostNeverOnDisk} never were ` +
            `(logrotate left ${r.onDisk.missingFromDisk} lines in no file)`,
        )
      }
      assertFerryAlive(r)
      if (c.loss === 'all') assertNothingLost(r)
      else assertNothingLostFromDisk(r)
      if (c.duplicates === 'assert') assertNoDuplicates(r)
      assertFerryExited0(r)
    })
  })
}
