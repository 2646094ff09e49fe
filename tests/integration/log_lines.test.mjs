// log_lines.test.mjs — ferry's log stays one line per message, whatever the world puts into it.
//
// Role: integration tests of the log as an operator reads it. A file whose name holds a line break and a
// terminal escape sequence is tailed: its name appears escaped, and no line of the log is one ferry did
// not write. An endpoint that refuses every request for 10 s with a long, many-line error (an auth
// outage) costs a handful of log lines, not one (or twenty) per failed request, and every line arrives
// once the endpoint takes them again. With log_format: json, every line is a JSON object with the flow and
// the file as fields, whatever the file's name holds. All against the tests' own PutRecords endpoint.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

// Every line ferry writes to stderr while running: "<ISO time> <level> <message>".
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (trace|debug|info|warning|error|critical) /

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n` + (ferry ? ferryOutputForHumans(ferry) : ''))
    await new Promise((r) => setTimeout(r, 50))
  }
}

function logLines(stderr) {
  return stderr.split('\n').filter((l) => l !== '')
}

test('a file name with a line break and an escape sequence cannot forge a log line', async () => {
  const ep = await startPutRecordsEndpoint()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-log-'))
  temps.push(tmp)
  const forged = '2030-01-01T00:00:00.000+00:00 error ferry: forged line'
  const name = `evil\n${forged}\u001b[31m.log`
  const lines = generateLines(200, { longLines: [] })
  fs.mkdirSync(path.join(tmp, 'logs'))
  fs.writeFileSync(path.join(tmp, 'logs', name), fileContents(lines))
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint: ep.endpoint, stream: 's', files: [path.join(tmp, 'logs', '*.log')] })
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 20000, 'every line', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const result = compareRecords(lines, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result))
    // The forgery would pass for a line of ferry's own: it must not start a line at all.
    const forgedLines = logLines(stderr).filter((l) => l.startsWith(forged))
    assert.deepEqual(forgedLines, [], 'a file name wrote a line of its own into the log')
    for (const line of logLines(stderr)) assert.match(line, LOG_LINE, `a line ferry did not write:\n${stderr}`)
    assert.ok(!stderr.includes('\u001b'), 'an escape sequence reached the log')
    // The file is named in the log, escaped: "\n" and "\x1b" as text.
    assert.ok(stderr.includes(`evil\\n${forged}\\x1b[31m.log`), stderr)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('log_format: json writes one valid JSON object per line, with the flow and the file as fields', async () => {
  const ep = await startPutRecordsEndpoint()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-log-'))
  temps.push(tmp)
  // A name with a line break, a byte that is not UTF-8 and an escape sequence.
  const dir = path.join(tmp, 'logs')
  fs.mkdirSync(dir)
  const name = Buffer.concat([Buffer.from('evil\n"q"'), Buffer.from([0xff]), Buffer.from('\u001b[31m.log')])
  const lines = generateLines(100, { longLines: [] })
  fs.writeFileSync(Buffer.concat([Buffer.from(dir + '/'), name]), fileContents(lines))
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint: ep.endpoint, stream: 's', files: [path.join(dir, '*.log')] })
  fs.appendFileSync(configPath, 'log_format: json\n')
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 20000, 'every line', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const objects = logLines(stderr).map((line) => {
      assert.ok(!/[\u0000-\u001f]/.test(line), `a raw control character in ${JSON.stringify(line)}`)
      return JSON.parse(line)
    })
    assert.ok(objects.length >= 3, stderr)
    for (const o of objects) {
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'critical'].includes(o.level), o.level)
      assert.equal(typeof o.message, 'string')
    }
    assert.ok(objects.some((o) => o.message.startsWith('ferry started')), stderr)
    // The file's line: its flow and its path as fields (the bad byte as U+FFFD), the message as text logs it.
    const reading = objects.find((o) => o.message.startsWith('flow e2e: reading '))
    assert.ok(reading, stderr)
    assert.equal(reading.flow, 'e2e')
    assert.equal(reading.file, `${dir}/evil\n"q"\ufffd\u001b[31m.log`)
    assert.ok(reading.message.includes(`${dir}/evil\\n"q"\\xff\\x1b[31m.log`), reading.message)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

test('an endpoint refusing every request for 10 s with a long error costs a few log lines, not one per failure', async (t) => {
  // An auth outage as a gateway reports it: 403, AccessDeniedException, a message of 20 lines (4 KB).
  const message = Array.from({ length: 20 }, (_, i) => `line ${i} of the policy evaluation: ${'x'.repeat(180)}`).join('\n')
  let outageUntil = Infinity
  let refused = 0
  const ep = await startPutRecordsEndpoint({
    policy: () => {
      if (Date.now() < outageUntil) {
        refused++
        return { status: 403, body: { __type: 'AccessDeniedException', message } }
      }
      return {}
    },
  })
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-log-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, '')
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint: ep.endpoint, stream: 's', files: [logPath] })
  // Denied access is retried at the slow pace: 1 s here (the least it may be), so the 10 s bring many
  // failed attempts; the default max_age of 1 s makes a new request of every second's lines.
  fs.appendFileSync(configPath, 'retry:\n  slow_retry: 1s\n')
  const ferry = startFerry(configPath)
  const written = []
  try {
    await waitUntil(() => /ferry started/.test(ferry.output.stderr), 10000, 'the start', ferry)
    const before = logLines(ferry.output.stderr).length
    outageUntil = Date.now() + 10000
    let n = 0
    while (Date.now() < outageUntil) {
      const batch = Array.from({ length: 20 }, () => Buffer.from(`outage line ${String(n++).padStart(6, '0')}`))
      fs.appendFileSync(logPath, fileContents(batch))
      written.push(...batch)
      await new Promise((r) => setTimeout(r, 100))
    }
    const during = logLines(ferry.output.stderr).slice(before)
    await waitUntil(() => ep.accepted.length >= written.length, 20000, 'every line after the outage', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    assertOnce(written, ep.accepted, ferry)

    // Many failed attempts, few lines: the first failure is logged (once, on one line, its message cut),
    // the rest within the minute only counted.
    assert.ok(refused >= 10, `only ${refused} requests were refused: the test did not provoke an outage`)
    // At most one line of each kind: written to the spool (the first failure of a request), retried
    // slowly from there; and at most a few others (the spool's own news).
    const denied = during.filter((l) => l.includes('AccessDeniedException'))
    t.diagnostic(`${refused} requests refused in 10 s; ${during.length} log lines meanwhile, ${denied.length} about the outage`)
    assert.ok(denied.length >= 1 && denied.length <= 3, `${denied.length} lines about the outage:\n${during.join('\n')}`)
    assert.ok(during.length <= 12, `${during.length} log lines during the outage (at most 12):\n${during.join('\n')}`)
    for (const line of logLines(stderr)) {
      assert.match(line, LOG_LINE, 'every line is a log line of its own')
      assert.ok(line.length <= 1500, `a line of ${line.length} characters: ${line.slice(0, 300)}...`)
    }
    const loud = denied.filter((l) => / error /.test(l))
    assert.equal(loud.length, 1, denied.join('\n'))
    assert.match(loud[0], /AccessDeniedException: HTTP 403: line 0 of the policy evaluation: x+\\nline 1 .*\.\.\.; check the stream/)
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
  }
})

function assertOnce(lines, accepted, ferry) {
  const result = compareRecords(lines, accepted.map((data) => ({ data })))
  assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
}
