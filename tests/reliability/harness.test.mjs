// harness.test.mjs — tests of the reliability harness itself (no ferry needed).
//
// Role: proves that what rotation.test.mjs and restart.test.mjs stand on is right, so that a failure there
// is ferry's:
//   - lines: lineFor is deterministic, distinct, 100-220 bytes of text, never contains '\n' or '\r';
//     parseSeq reads its prefix back and rejects anything else;
//   - verdict: lost, duplicated and unexpected records are counted exactly (order does not matter; torn,
//     merged, altered and out-of-range records are unexpected), countSeqs finds whole lines only;
//   - writer: reaches its rate (>= 95%) and writes exactly lineFor(first..last) in order; reopens the path
//     after a rename and re-creates it after an unlink (every line in exactly one of the files); SIGTERM
//     ends it early with an honest count;
//   - writer + logrotate, in each mode, for a short run: the lines in every rotated file (kept by hard
//     link, .gz decompressed) and the live file are exactly what the writer reports, each once — except
//     copytruncate, where logrotate itself loses the lines appended between its copy and its truncate
//     (counted and reported; each loss is one run of lines, at most one per rotation);
//   - the PutRecords endpoint keeps up with >= 20,000 records/s (measured with a separate load process
//     sending ferry-sized requests of 500 records) and stores every record intact;
//   - each mode's logrotate conf passes `logrotate -d`; the run lock serialises and recovers stale locks.
//
// Run: node --test tests/reliability/harness.test.mjs     (FERRY_ROTATION_RATE sets the writer's rate)
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startPutRecordsEndpoint } from '../integration/lib/put_records_endpoint.mjs'
import { lineFor, parseSeq, SEQ_DIGITS } from './lib/lines.mjs'
import { verdict, describeVerdict, countSeqs } from './lib/verdict.mjs'
import { startWriter, isRunning, killAndWait } from './lib/procs.mjs'
import { MODES, writeLogrotateConf, startRotationDriver, logrotateBinary, archivedFiles, compresses } from './lib/rotation.mjs'
import { acquireRunLock, LOCK_PATH } from './lib/lock.mjs'
import { RATE, TMPDIR, ROTATE_EVERY_MS } from './lib/scenario.mjs'

const LOAD_CLIENT = fileURLToPath(new URL('./lib/load_client.mjs', import.meta.url))
const LOCK_LIB = new URL('./lib/lock.mjs', import.meta.url).href
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const linesText = (a, b) => {
  let s = ''
  for (let i = a; i <= b; i++) s += lineFor(i) + '\n'
  return Buffer.from(s, 'utf8')
}

// A temp folder removed when fn passes, kept (and named) when it fails.
async function withTemp(t, prefix, fn) {
  const dir = fs.mkdtempSync(path.join(TMPDIR, `ferry-rel-harness-${prefix}-`))
  let ok = false
  try {
    await fn(dir)
    ok = true
  } finally {
    if (ok) fs.rmSync(dir, { recursive: true, force: true })
    else t.diagnostic(`kept ${dir} for inspection`)
  }
}

// Timed parts hold the run lock, so they never overlap a scenario of another test file.
async function locked(t, fn) {
  const release = await acquireRunLock({ onWait: (pid) => t.diagnostic(`waiting for pid ${pid}`) })
  try {
    return await fn()
  } finally {
    release()
  }
}

describe('lines', () => {
  test('lineFor is deterministic, distinct, 100-220 bytes of varied text, no line breaks', () => {
    const seen = new Set()
    let nonAscii = 0
    let minText = Infinity
    let maxText = 0
    for (let seq = 0; seq < 50000; seq++) {
      const line = lineFor(seq)
      assert.equal(line, lineFor(seq))
      assert.ok(!/[\r\n]/.test(line), `line ${seq} has a line break`)
      assert.ok(line.startsWith(String(seq).padStart(SEQ_DIGITS, '0') + ' '))
      const text = Buffer.byteLength(line) - SEQ_DIGITS - 1
      minText = Math.min(minText, text)
      maxText = Math.max(maxText, text)
      if (/[^\x00-\x7f]/.test(line)) nonAscii++
      seen.add(line.slice(SEQ_DIGITS + 1)) // the text alone: varied, not one template
    }
    assert.ok(minText >= 100 && maxText <= 240, `text sizes ${minText}..${maxText}`)
    assert.ok(seen.size > 49900, `only ${seen.size} distinct texts`)
    assert.ok(nonAscii > 5000, `only ${nonAscii} lines with non-ASCII UTF-8`)
  })

  test('parseSeq reads the prefix back and rejects anything else', () => {
    for (const seq of [0, 1, 42, 123456789, 9999999999]) assert.equal(parseSeq(Buffer.from(lineFor(seq))), seq)
    for (const bad of ['', '123', '000000001x rest', '00000000012 x', ' 0000000001 x', '000000001 x', '0000000001']) {
      assert.equal(parseSeq(Buffer.from(bad)), -1, JSON.stringify(bad))
    }
  })
})

describe('verdict', () => {
  const lines = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => Buffer.from(lineFor(a + i)))

  test('exactly once, in any order, is ok', () => {
    const recs = lines(1, 1000).reverse()
    const v = verdict({ first: 1, last: 1000 }, recs)
    assert.deepEqual([v.written, v.received, v.delivered, v.lost, v.duplicated, v.unexpected, v.ok], [1000, 1000, 1000, 0, 0, 0, true])
  })

  test('lost lines are counted and grouped in runs', () => {
    const recs = lines(1, 1000).filter((b) => {
      const s = parseSeq(b)
      return !(s === 1 || (s >= 100 && s <= 199) || s === 1000)
    })
    const v = verdict({ first: 1, last: 1000 }, recs)
    assert.equal(v.lost, 102)
    assert.equal(v.lostRunCount, 3)
    assert.deepEqual(v.lostRuns, [[1, 1], [100, 199], [1000, 1000]])
    assert.equal(v.ok, false)
    assert.match(describeVerdict(v), /lost 102,[\s\S]*3 run\(s\), first: 1, 100-199 \(100\), 1000/)
  })

  test('duplicates: distinct lines and extra copies; records may be { data }', () => {
    const recs = [...lines(1, 100), ...lines(10, 19), ...lines(15, 15), ...lines(50, 50)].map((data) => ({ data }))
    const v = verdict({ first: 1, last: 100 }, recs)
    assert.equal(v.lost, 0)
    assert.equal(v.duplicated, 11)
    assert.equal(v.extraCopies, 12)
    assert.deepEqual(v.duplicatedRuns, [[10, 19], [50, 50]])
    assert.deepEqual(v.duplicatedSamples.find((d) => d.seq === 15), { seq: 15, copies: 3 })
  })

  test('torn, merged, altered, out-of-range and empty records are unexpected, and their lines lost', () => {
    const good = lines(1, 10)
    const l3 = Buffer.from(lineFor(3))
    const recs = [
      ...good.filter((b) => ![3, 4, 5, 6, 7].includes(parseSeq(b))),
      l3.subarray(0, 40), // torn
      Buffer.concat([Buffer.from(lineFor(4)), Buffer.from('\n'), Buffer.from(lineFor(5))]), // merged
      Buffer.from(lineFor(6) + '\r'), // altered ending
      Buffer.from(lineFor(7).replace(/.$/, '#')), // altered text
      Buffer.from(lineFor(11)), // not written
      Buffer.alloc(0),
    ]
    const v = verdict({ first: 1, last: 10 }, recs)
    assert.equal(v.unexpected, 6)
    assert.equal(v.lost, 5)
    assert.equal(v.unexpectedSamples.length, 6)
  })

  test('countSeqs counts whole lines in file contents, an unterminated last line too', () => {
    const buf = Buffer.concat([linesText(1, 5), Buffer.from(lineFor(6)).subarray(0, 30), Buffer.from('\n'), Buffer.from(lineFor(7))])
    const counts = countSeqs({ first: 1, last: 8 }, [buf, linesText(2, 2)])
    assert.deepEqual([...counts], [1, 2, 1, 1, 1, 0, 1, 0])
  })
})

describe('writer', () => {
  test(`writes lineFor(first..last) in order at ${RATE} lines/s (>= 95%)`, { timeout: 60000 }, async (t) => {
    await withTemp(t, 'rate', async (dir) => {
      const logPath = path.join(dir, 'app.log')
      const w = await locked(t, async () => {
        const writer = startWriter({ path: logPath, rate: RATE, seconds: 3, first: 7 })
        try {
          return await writer.done
        } finally {
          await writer.stop()
        }
      })
      t.diagnostic(`writer: ${w.count} lines in ${w.elapsedMs} ms = ${w.achievedRate} lines/s, ${w.batches} writes, max lag ${w.maxLagMs} ms, cpu ${w.cpuMs} ms`)
      assert.equal(w.count, Math.round(RATE * 3))
      assert.deepEqual([w.first, w.last, w.reopens, w.created, w.inodes], [7, 7 + w.count - 1, 0, 0, 1])
      assert.ok(w.achievedRate >= 0.95 * RATE, `achieved ${w.achievedRate} of ${RATE} lines/s`)
      assert.ok(w.achievedRate <= 1.01 * RATE, `achieved ${w.achievedRate}: faster than asked`)
      assert.ok(fs.readFileSync(logPath).equals(linesText(w.first, w.last)), 'the file is not exactly the lines reported')
    })
  })

  test('reopens after a rename, re-creates after an unlink; every line lands in exactly one file', { timeout: 60000 }, async (t) => {
    await withTemp(t, 'reopen', async (dir) => {
      const logPath = path.join(dir, 'app.log')
      let held = null
      const w = await locked(t, async () => {
        const writer = startWriter({ path: logPath, rate: RATE, seconds: 3 })
        try {
          await writer.started
          await sleep(1000)
          fs.renameSync(logPath, path.join(dir, 'app.log.1'))
          await sleep(1000)
          held = fs.openSync(logPath, 'r') // keep the unlinked file readable
          fs.unlinkSync(logPath)
          return await writer.done
        } finally {
          await writer.stop()
        }
      })
      try {
        // Both times the path was missing afterwards (nobody else re-creates it here), so the writer created it.
        assert.equal(w.reopens, 2, JSON.stringify(w))
        assert.equal(w.created, 2, JSON.stringify(w))
        assert.equal(w.inodes, 3)
        const parts = [fs.readFileSync(path.join(dir, 'app.log.1')), fs.readFileSync(held), fs.readFileSync(logPath)]
        for (const p of parts) assert.ok(p.length > 0, 'every file got lines')
        // In this order they are exactly the lines written, each once.
        assert.ok(Buffer.concat(parts).equals(linesText(w.first, w.last)), 'the files are not exactly the lines reported')
      } finally {
        fs.closeSync(held)
      }
    })
  })

  test('SIGTERM ends the writer early with an honest count', { timeout: 30000 }, async (t) => {
    await withTemp(t, 'sigterm', async (dir) => {
      const logPath = path.join(dir, 'app.log')
      const writer = startWriter({ path: logPath, rate: 5000, seconds: 60 })
      let exit
      try {
        await writer.started
        await sleep(500)
      } finally {
        exit = await writer.stop()
      }
      const w = await writer.done
      assert.deepEqual(exit, { code: 0, signal: null })
      assert.ok(w.count > 0 && w.count < 5000 * 60)
      assert.ok(fs.readFileSync(logPath).equals(linesText(w.first, w.last)))
      assert.ok(!isRunning(writer.pid))
    })
  })
})

describe('writer + logrotate', () => {
  test('every mode\'s conf passes logrotate -d', async () => {
    const dir = fs.mkdtempSync(path.join(TMPDIR, 'ferry-rel-harness-conf-'))
    try {
      const logPath = path.join(dir, 'app.log')
      fs.writeFileSync(logPath, 'x\n')
      for (const mode of Object.keys(MODES)) {
        const conf = path.join(dir, `${mode}.conf`)
        const text = writeLogrotateConf(conf, logPath, mode)
        for (const d of [...MODES[mode], 'missingok', 'nomail']) assert.ok(text.includes(`    ${d}\n`), `${mode}: ${d}`)
        const out = execFileSync(logrotateBinary(), ['-d', '-f', '-s', path.join(dir, 'state'), conf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        assert.doesNotMatch(out, /^error:/m, `${mode}: ${out}`)
      }
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('app.log')), ['app.log'], 'logrotate -d changed files')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  const SECONDS = 5
  for (const mode of Object.keys(MODES)) {
    test(`${mode}: the rotated files and the live file hold what the writer reports`, { timeout: 90000 }, async (t) => {
      await withTemp(t, mode, async (dir) => {
        const logsDir = path.join(dir, 'logs')
        const archiveDir = path.join(dir, 'archive')
        fs.mkdirSync(logsDir)
        fs.mkdirSync(archiveDir)
        const logPath = path.join(logsDir, 'app.log')
        const conf = path.join(dir, 'logrotate.conf')
        writeLogrotateConf(conf, logPath, mode)
        const { w, rotation } = await locked(t, async () => {
          const writer = startWriter({ path: logPath, rate: RATE, seconds: SECONDS })
          let driver = null
          try {
            await writer.started
            driver = startRotationDriver({
              conf,
              state: path.join(dir, 'state'),
              intervalMs: ROTATE_EVERY_MS,
              archiveDir: mode === 'delete' ? null : archiveDir,
              logPath,
              linkOnlyCompressed: compresses(mode),
            })
            await sleep(SECONDS * 1000 - 500)
            const rotation = await driver.stop()
            return { w: await writer.done, rotation }
          } finally {
            await driver?.stop()
            await writer.stop()
          }
        })
        const names = fs.readdirSync(logsDir).sort()
        t.diagnostic(
          `${mode}: ${w.count} lines at ${w.achievedRate}/s, ${rotation.ok} rotations (${rotation.durationsMs.join(', ')} ms), ` +
            `writer reopened ${w.reopens}x; files: ${names.join(' ')}`,
        )
        assert.equal(rotation.failed, 0, rotation.messages.join('\n'))
        assert.equal(rotation.ok, Math.floor((SECONDS * 1000 - 500) / ROTATE_EVERY_MS))
        assert.ok(w.achievedRate >= 0.95 * RATE, `writer reached ${w.achievedRate} of ${RATE} lines/s`)
        assert.equal(w.created, 0, 'the writer never had to create the log (logrotate did)')
        assert.ok(!names.some((n) => n.endsWith('.backup')), 'no .backup file (writer/logrotate create race)')

        if (mode === 'delete') {
          assert.equal(w.reopens, rotation.ok)
          assert.deepEqual(names, ['app.log'])
          // The live file holds the newest lines, contiguous up to the last one.
          const live = fs.readFileSync(logPath)
          const firstLive = parseSeq(live)
          assert.ok(live.equals(linesText(firstLive, w.last)))
          return
        }
        const files = archivedFiles(logPath, archiveDir)
        const counts = countSeqs(w, files.map((f) => f.data))
        const histogram = {}
        for (const c of counts) histogram[c] = (histogram[c] || 0) + 1
        if (mode === 'copytruncate') {
          assert.equal(w.reopens, 0)
          assert.equal(histogram[2] || 0, 0, 'a line in two files')
          const missing = histogram[0] || 0
          const runsMissing = []
          for (let i = 0, start = -1; i <= counts.length; i++) {
            if (i < counts.length && counts[i] === 0) {
              if (start < 0) start = i
            } else if (start >= 0) {
              runsMissing.push([w.first + start, w.first + i - 1])
              start = -1
            }
          }
          t.diagnostic(
            `copytruncate: logrotate itself lost ${missing} of ${w.count} lines (${((missing / w.count) * 100).toFixed(2)}%) ` +
              `in ${runsMissing.length} run(s): ${runsMissing.map(([a, b]) => `${a}-${b}`).join(', ')}`,
          )
          assert.ok(runsMissing.length <= rotation.ok, 'at most one run of lost lines per rotation')
        } else {
          assert.equal(w.reopens, rotation.ok)
          assert.deepEqual(histogram, { 1: w.count }, 'every line in exactly one file')
          if (mode === 'dateext') {
            const gz = names.filter((n) => n.endsWith('.gz'))
            assert.equal(gz.length, rotation.ok - 1, `delaycompress: all but the newest rotated file compressed: ${names}`)
            assert.equal(names.length, rotation.ok + 1)
            for (const n of names.filter((x) => x !== 'app.log')) assert.match(n, /^app\.log-\d{8}-\d{6}(\.gz)?$/)
          }
          if (mode === 'rename') assert.deepEqual(names, ['app.log', ...Array.from({ length: rotation.ok }, (_, i) => `app.log.${i + 1}`)])
        }
      })
    })
  }
})

describe('PutRecords endpoint', () => {
  test(`keeps up with >= 20,000 records/s of ferry-sized requests and stores them intact`, { timeout: 60000 }, async (t) => {
    const ep = await startPutRecordsEndpoint()
    try {
      assert.match(ep.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
      const load = await locked(t, async () => {
        const child = spawn(process.execPath, [LOAD_CLIENT, ep.endpoint, '4', '4'], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        child.stdout.on('data', (d) => (out += d))
        child.stderr.on('data', (d) => (err += d))
        try {
          const code = await new Promise((resolve) => child.once('close', resolve))
          assert.equal(code, 0, err)
          return JSON.parse(out)
        } finally {
          await killAndWait(child, 'SIGKILL')
        }
      })
      t.diagnostic(`endpoint: ${load.recordsPerSecond} records/s (${load.requests} requests of 500 in ${load.seconds} s, 4 connections)`)
      assert.ok(load.recordsPerSecond >= 20000, `endpoint served only ${load.recordsPerSecond} records/s`)
      assert.equal(ep.accepted.length, load.records)
      // Every record stored intact: body b holds lines first + 500b .. first + 500b + 499, sent sentPerBody[b] times.
      const v = verdict({ first: load.first, last: load.last }, ep.accepted)
      assert.equal(v.unexpected, 0)
      for (let b = 0; b < load.bodies; b++) {
        for (const i of [0, 250, 499]) assert.equal(v.counts[b * 500 + i], load.sentPerBody[b], `body ${b} line ${i}`)
      }
    } finally {
      await ep.stop()
    }
  })
})

describe('run lock', () => {
  test('a second holder waits for the first; a stale lock is taken over', { timeout: 30000 }, async () => {
    const release = await acquireRunLock()
    const script = `
      import { acquireRunLock } from ${JSON.stringify(LOCK_LIB)}
      const release = await acquireRunLock()
      process.stdout.write(String(Date.now()))
      release()
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    await sleep(1000)
    const releasedAt = Date.now()
    release()
    await new Promise((r) => child.once('close', r))
    assert.ok(Number(out) >= releasedAt, `second holder got the lock ${releasedAt - Number(out)} ms before it was released`)

    // A lock left by a process that is gone (written while we hold the lock, so no live holder is disturbed).
    const mine = await acquireRunLock()
    const dead = spawn(process.execPath, ['-e', '0'])
    await new Promise((r) => dead.once('close', r))
    fs.writeFileSync(LOCK_PATH, String(dead.pid))
    const t0 = Date.now()
    const again = await acquireRunLock({ timeoutMs: 5000 })
    assert.ok(Date.now() - t0 < 2000)
    assert.equal(fs.readFileSync(LOCK_PATH, 'utf8'), String(process.pid))
    again()
    mine()
    assert.ok(!fs.existsSync(LOCK_PATH) || fs.readFileSync(LOCK_PATH, 'utf8') !== String(process.pid))
  })
})
