// bad_input.test.mjs — every kind of bad input in one flow, against kinesalite, while `ferry status` watches.
//
// Role: the integration side of the tailer's bad-input rules. One glob matches a good log, a log of
// binary and non-UTF-8 lines, a 50 MiB line, a directory, a FIFO, a device, a dangling symlink, an
// unreadable file, files that vanish as soon as they are made, and a log truncated while its writer
// (without O_APPEND) goes on. The good lines all arrive exactly once, the odd ones byte for byte, the
// unreadable file once it is readable; `ferry status` counts each kind; a second ferry on the same
// state_dir refuses to start. Runs as root too: ferry then runs without CAP_DAC_OVERRIDE (setpriv), so
// permission bits apply to it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll } from './lib/kinesis.mjs'
import { ferryStatus, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const STREAM = 'ferry-bad-input'
const BIG = 50 * 1024 * 1024
const MiB = 1024 * 1024
const PIECE = MiB - 16 // the largest Kinesis record with ferry's 16-byte partition keys
const PIECES = Math.ceil(BIG / PIECE)

async function status(stateDir) {
  return ferryStatus(stateDir)
}

// Polls `ferry status` until predicate(report) holds; on a timeout the last report is in the message.
async function waitFor(what, stateDir, predicate, ferry, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs
  let report = null
  for (;;) {
    if (ferry.exitStatus) assert.fail(`ferry exited while waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    report = await status(stateDir).catch(() => null)
    if (report && predicate(report)) return report
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; last status: ${JSON.stringify(report)}\n${ferryOutputForHumans(ferry)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

function fileStatus(report, p) {
  return report.flows[0].files.find((f) => f.path === p)
}

test('bad input of every kind: defined outcomes, counters, and every good line delivered once', { timeout: 600000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bad-input-'))
  const logs = path.join(tmp, 'logs')
  const stateDir = path.join(tmp, 'state')
  fs.mkdirSync(logs)
  let kinesalite, ferry, passed = false
  try {
    kinesalite = await startKinesalite()
    const client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 1)

    const expected = []
    const good = generateLines(2000, { longLines: [] })
    fs.writeFileSync(path.join(logs, 'good.log'), fileContents(good))
    expected.push(...good)

    const odd = [
      Buffer.from('nul\u0000inside\u0000'),
      Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0x20, 0x63, 0x61, 0x66, 0xe9]), // "latin1 café" in Latin-1
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0x01, 0x02, 0x1b, 0x5b, 0x30, 0x6d]),
      Buffer.from('crlf line'),
    ]
    fs.writeFileSync(
      path.join(logs, 'binary.log'),
      Buffer.concat([odd[0], Buffer.from('\n'), odd[1], Buffer.from('\n'), odd[2], Buffer.from('\n'), odd[3], Buffer.from('\r\n')]),
    )
    expected.push(...odd)

    const big = Buffer.alloc(BIG, 'x')
    for (let i = 0; i < BIG / MiB; i++) big[i * MiB] = 0x61 + (i % 26) // each 1 MiB piece distinct
    fs.writeFileSync(path.join(logs, 'big.log'), Buffer.concat([big, Buffer.from('\nafter the big line\n')]))
    for (let i = 0; i < PIECES; i++) expected.push(big.subarray(i * PIECE, Math.min(BIG, (i + 1) * PIECE)))
    expected.push(Buffer.from('after the big line'))

    fs.mkdirSync(path.join(logs, 'dir.log'))
    execFileSync('mkfifo', [path.join(logs, 'pipe.log')])
    fs.symlinkSync('/dev/null', path.join(logs, 'device.log'))
    fs.symlinkSync(path.join(tmp, 'nowhere'), path.join(logs, 'dangling.log'))
    const secret = path.join(logs, 'secret.log')
    fs.writeFileSync(secret, 'a line behind a closed door\n')
    fs.chmodSync(secret, 0)
    expected.push(Buffer.from('a line behind a closed door'))

    // A writer that keeps its own offset (no O_APPEND), as many programs do.
    const truncated = path.join(logs, 'truncated.log')
    const writer = fs.openSync(truncated, 'w')
    const tline = (i) => Buffer.from(`truncated-log line ${String(i).padStart(5, '0')}\n`)
    for (let i = 0; i < 500; i++) fs.writeSync(writer, tline(i))
    for (let i = 0; i < 1000; i++) expected.push(tline(i).subarray(0, -1))

    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [path.join(logs, '*.log')] })
    // The 50 MiB line is 50 records of 1 MiB for the one shard: its write limit would spread them over 50 s.
    // This test is about bad input; shard_limits.test.mjs tests the limiter.
    fs.appendFileSync(configPath, '      rate_limit: 0\n')
    const asUser = process.getuid() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : []
    ferry = startFerry(configPath, { prefix: asUser })

    // The good files are read to their end and acknowledged.
    const goodPath = path.join(logs, 'good.log')
    await waitFor('good.log and truncated.log acknowledged', stateDir, (r) => {
      const g = fileStatus(r, goodPath)
      const tr = fileStatus(r, truncated)
      return g && tr && g.committed === g.size && tr.committed === tr.size && tr.size > 0
    }, ferry)

    // Files that vanish as soon as they appear.
    for (let i = 0; i < 200; i++) {
      const p = path.join(logs, `churn-${i}.log`)
      fs.writeFileSync(p, `churn ${i}\n`)
      fs.unlinkSync(p)
    }
    // Truncated while its writer goes on at its own offset: a hole, then new lines.
    fs.truncateSync(truncated, 0)
    for (let i = 500; i < 1000; i++) fs.writeSync(writer, tline(i))
    fs.closeSync(writer)
    // Readable at last.
    fs.chmodSync(secret, 0o644)

    const report = await waitFor('every file delivered', stateDir, (r) => {
      const files = r.flows[0].files
      const done = files.length >= 5 && files.every((f) => f.committed === f.size && f.bytes_behind === 0)
      return done && fileStatus(r, secret) && r.flows[0].counters.records_unsent === 0
    }, ferry, 60000)
    const c = report.flows[0].counters
    t.diagnostic(`counters: ${JSON.stringify(c)}`)
    assert.equal(c.skipped_not_regular, 3, 'dir.log, pipe.log and device.log are not regular files')
    assert.equal(c.skipped_broken_links, 1, 'dangling.log')
    assert.equal(c.skipped_unreadable, 1, 'secret.log while unreadable')
    assert.equal(c.nul_records, 1)
    assert.equal(c.invalid_utf8_records, 2)
    assert.equal(c.oversize_records, PIECES - 1, 'a 50 MiB line in records of the largest size: pieces cut off')
    assert.ok(c.truncations >= 1, 'the truncation was seen')
    assert.equal(c.hole_bytes_skipped, 500 * tline(0).length, 'the hole left by the writer is skipped')
    const bigStatus = fileStatus(report, path.join(logs, 'big.log'))
    assert.equal(bigStatus.oversize, PIECES - 1)
    assert.equal(bigStatus.lines, PIECES + 1)

    // The human report names the files.
    const human = await ferryStatus(stateDir, { json: false })
    assert.match(human, /good\.log/)
    assert.match(human, /flow e2e/)

    // A second ferry on the same state_dir refuses to start, and the first goes on.
    const second = startFerry(configPath)
    const { code } = await second.exited
    assert.equal(code, 1, ferryOutputForHumans(second))
    assert.match(second.output.stderr, /another ferry/)
    await status(stateDir)

    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    assert.ok(!fs.existsSync(path.join(stateDir, 'ferry.sock')), 'the status socket is removed at exit')

    const records = (await readAll(client, STREAM)).filter((r) => !r.data.toString('latin1').startsWith('churn '))
    const cmp = compareRecords(expected, records)
    assert.ok(cmp.ok, `${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`)
    passed = true
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else t.diagnostic(`kept ${tmp}`)
  }
})
