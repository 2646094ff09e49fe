// plugins.test.mjs — end to end: a flow with grep + redact + parse ships to Kinesis (kinesalite) with no
// secret leaving the host.
//
// The log is nginx combined lines, each with a unique request path. Some are health checks (grep drops
// them); some carry a secret from a list the test seeds (emails, Luhn-valid card numbers, AWS access key
// ids, JWTs, passwords in URLs, US SSNs), in the user agent and in the query string; some carry look-alikes
// the redaction must leave alone (card-like numbers that fail Luhn, AKIA plus too few characters, an SSN with
// area 000, a URL with a user but no password). ferry parses every line into JSON (Kinesis Agent field
// names). The test checks that not one secret reaches the stream, every look-alike does, every line that is
// not a health check arrives exactly once as JSON, and that the checkpoints pass dropped records: after a
// restart and more lines (health checks last), nothing already sent is sent again.
//
// A second test covers what happens to records a plugin fails on: json with on_error: dead_letter writes
// them to the flow's dead-letter file with the plugin's name and the reason, a later plugin's on_error: drop
// acknowledges them, and `ferry status` (text and --json) counts every plugin's records in, out, dropped and
// failed.
//
// Run: FERRY_BIN=/path/to/ferry node --test tests/integration/plugins.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'

const STREAM = 'ferry-plugins'
const WAIT_MS = 60000

// Secrets: none may reach the stream, in any record, in any form the test can search for.
const SECRETS = [
  'jane.doe@example.com',
  'ops+alerts@mail.example.org',
  '4111111111111111', // Visa test number, Luhn-valid
  '5500 0000 0000 0004', // Mastercard, with spaces
  '3400-000000-00009', // Amex, with dashes
  'AKIAIOSFODNN7EXAMPLE',
  'ASIAY34FZKBOKMUTVV7A',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'hunter2pass',
  '123-45-6789',
]
// Where each secret sits in a line, and what must not survive of it (the password, not the URL).
const SECRET_TEXTS = [
  ['jane.doe@example.com', 'jane.doe@example.com'],
  ['ops+alerts@mail.example.org', 'ops+alerts@mail.example.org'],
  ['card 4111111111111111', '4111111111111111'],
  ['card 5500 0000 0000 0004', '5500 0000 0000 0004'],
  ['card 3400-000000-00009', '3400-000000-00009'],
  ['key AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
  ['key ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A'],
  [`token ${SECRETS[7]}`, SECRETS[7]],
  ['db https://app:hunter2pass@db.internal/app', 'hunter2pass'],
  ['ssn 123-45-6789', '123-45-6789'],
]
// Look-alikes: each must arrive as it was written.
const LOOK_ALIKES = [
  '4111111111111112', // fails Luhn
  '1234 5678 9012 3456', // fails Luhn
  'AKIAIOSFODNN7EXAM', // too short for an access key id
  '000-12-3456', // area 000 is never issued
  'https://app@db.internal/app', // a user, no password, and not an email (emails_in_urls: keep)
  'version 1.2.3.4.5',
  'order 20261205-0001',
]

function combined(i, pathText, agent) {
  return `10.0.${(i >> 8) & 255}.${i & 255} - - [05/Dec/2026:07:57:${String(i % 60).padStart(2, '0')} +0000] ` +
    `"GET ${pathText} HTTP/1.1" 200 ${1000 + i} "-" "${agent}"`
}

// n lines from index `from`: every 7th a health check, every 5th a secret, every 11th a look-alike.
function makeLines(from, n, { healthLast = false } = {}) {
  const lines = []
  for (let i = from; i < from + n; i++) {
    if (i % 7 === 3) {
      lines.push({ i, health: true, text: combined(i, `/health?probe=${i}`, 'kube-probe/1.29') })
      continue
    }
    let agent = 'Mozilla/5.0 (X11; Linux x86_64)'
    let query = ''
    let secret = null
    let lookAlike = null
    if (i % 5 === 0) {
      const [text, value] = SECRET_TEXTS[(i / 5) % SECRET_TEXTS.length]
      secret = value
      // In the query string only where it needs no escaping there (no space).
      if (i % 2 === 0 || value.includes(' ')) agent = `curl/8.0 ${text}`
      else query = `&note=${value}`
    } else if (i % 11 === 0) {
      lookAlike = LOOK_ALIKES[(i / 11) % LOOK_ALIKES.length]
      agent = `curl/8.0 ${lookAlike}`
    }
    lines.push({ i, health: false, secret, lookAlike, text: combined(i, `/item/${i}?x=1${query}`, agent) })
  }
  if (healthLast) {
    for (let k = 0; k < 5; k++) {
      const i = from + n + k
      lines.push({ i, health: true, text: combined(i, `/health?probe=${i}`, 'kube-probe/1.29') })
    }
  }
  return lines
}

function config(configPath, { stateDir, endpoint, logPath }) {
  writeConfig(configPath, { stateDir, endpoint, stream: STREAM, files: [logPath], flowName: 'web' })
  // The flow's plugins, as DESIGN.md §12 writes them.
  fs.appendFileSync(configPath, [
    '    plugins:',
    "      - grep: { exclude: 'GET /health' }",
    // A user in a URL (https://app@host) is not an email here: the look-alike below must survive.
    '      - redact: { patterns: [email, credit_card, aws_access_key_id, jwt, url_password, us_ssn], replace: "[REDACTED]", emails_in_urls: keep }',
    '      - parse: { format: apache_combined }',
    '',
  ].join('\n'))
}

// The unique index of a record: its request path is /item/<i>.
function indexOf(record) {
  const m = /\/item\/(\d+)\?/.exec(record.request)
  return m ? Number(m[1]) : null
}

test('grep + redact + parse: no secret reaches the stream, look-alikes and every other line do, once', { timeout: 180000 }, async (t) => {
  ferryBinary()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-plugins-'))
  let passed = false
  let kinesalite, client, ferry
  try {
    kinesalite = await startKinesalite()
    client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 1)
    const logPath = path.join(tmp, 'access.log')
    const stateDir = path.join(tmp, 'state')
    fs.mkdirSync(stateDir)
    const configPath = path.join(tmp, 'ferry.yaml')
    config(configPath, { stateDir, endpoint: kinesalite.endpoint, logPath })

    // The first part ends with health checks: records dropped at the end of what was read.
    const first = makeLines(0, 2000, { healthLast: true })
    fs.writeFileSync(logPath, first.map((l) => l.text + '\n').join(''))
    const kept = (lines) => lines.filter((l) => !l.health)

    ferry = startFerry(configPath)
    let seen = await waitForRecords(client, STREAM, kept(first).length, WAIT_MS, { intervalMs: 300 })
    assert.equal(seen.length, kept(first).length, `records after the first part\n${ferryOutputForHumans(ferry)}`)
    let stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    // Restarted from its checkpoints: only the new lines may be sent.
    const second = makeLines(first[first.length - 1].i + 1, 500, { healthLast: true })
    fs.appendFileSync(logPath, second.map((l) => l.text + '\n').join(''))
    ferry = startFerry(configPath)
    const expected = [...kept(first), ...kept(second)]
    seen = await waitForRecords(client, STREAM, expected.length, WAIT_MS, { intervalMs: 300 })
    // A moment for anything sent twice to arrive too.
    await new Promise((r) => setTimeout(r, 1500))
    stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    const records = await readAll(client, STREAM)
    const texts = records.map((r) => r.data.toString('utf8'))
    const report = `${records.length} records, ${expected.length} expected\n${ferryOutputForHumans(ferry)}`

    // Not one secret, anywhere.
    for (const secret of SECRETS) {
      const leaked = texts.find((x) => x.includes(secret))
      assert.equal(leaked, undefined, `secret ${secret} reached the stream: ${leaked}`)
    }
    // Every record is one JSON object with the Kinesis Agent's field names, and arrives once.
    const count = new Map()
    for (const x of texts) {
      let parsed
      assert.doesNotThrow(() => { parsed = JSON.parse(x) }, `not JSON: ${x}`)
      for (const key of ['host', 'request', 'response', 'agent']) assert.ok(key in parsed, `no ${key} in ${x}`)
      const i = indexOf(parsed)
      assert.notEqual(i, null, `no /item/ in ${x}`)
      count.set(i, (count.get(i) || 0) + 1)
    }
    const byIndex = new Map(texts.map((x) => { const p = JSON.parse(x); return [indexOf(p), p] }))
    for (const line of expected) {
      assert.equal(count.get(line.i), 1, `line ${line.i} arrived ${count.get(line.i) || 0} times: ${line.text}\n${report}`)
      const rec = byIndex.get(line.i)
      if (line.secret) assert.ok(JSON.stringify(rec).includes('[REDACTED]'), `line ${line.i}: no [REDACTED] in ${JSON.stringify(rec)}`)
      if (line.lookAlike) assert.ok(rec.agent.includes(line.lookAlike), `look-alike ${line.lookAlike} changed: ${rec.agent}`)
    }
    assert.equal(records.length, expected.length, report)
    t.diagnostic(`${expected.length} records, ${first.length + second.length - expected.length} health checks dropped, ` +
      `${expected.filter((l) => l.secret).length} secrets redacted, ${expected.filter((l) => l.lookAlike).length} look-alikes kept`)
    passed = true
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else console.error(`kept ${tmp}`)
  }
})

test('records a plugin fails on go where on_error says, and ferry status counts them per plugin', { timeout: 120000 }, async (t) => {
  ferryBinary()
  const run = promisify(execFile)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-plugins-errors-'))
  let passed = false
  let kinesalite, client, ferry
  try {
    kinesalite = await startKinesalite()
    client = makeClient(kinesalite.endpoint)
    await createStream(client, STREAM, 1)
    const logPath = path.join(tmp, 'app.log')
    const stateDir = path.join(tmp, 'state')
    fs.mkdirSync(stateDir)
    const configPath = path.join(tmp, 'ferry.yaml')
    writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream: STREAM, files: [logPath], flowName: 'app' })
    fs.appendFileSync(configPath, [
      '    plugins:',
      '      - json: { drop: [password], on_error: dead_letter }',
      `      - parse: { format: regex, match_pattern: '.*"level":"(?P<level>\\w+)".*', on_error: drop }`,
      '',
    ].join('\n'))
    // 40 JSON records (20 with a level the regex finds), 10 lines that are not JSON.
    const lines = []
    for (let i = 0; i < 50; i++) {
      if (i % 5 === 4) lines.push(`not json ${i}`)
      else if (i % 2 === 0) lines.push(JSON.stringify({ level: 'info', i, password: 'p' + i }))
      else lines.push(JSON.stringify({ i, password: 'p' + i }))
    }
    fs.writeFileSync(logPath, lines.map((l) => l + '\n').join(''))
    const expectedKept = lines.filter((l) => l.includes('"level"')).length
    ferry = startFerry(configPath)
    const seen = await waitForRecords(client, STREAM, expectedKept, WAIT_MS, { intervalMs: 300 })
    const deadFile = path.join(stateDir, 'dead-letter', 'app.jsonl')
    const deadline = Date.now() + 10000
    while (Date.now() < deadline && !(fs.existsSync(deadFile) && fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).length >= 10)) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const report = JSON.parse((await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])).stdout)
    const human = (await run(ferryBinary(), ['status', '--state-dir', stateDir])).stdout
    await stopFerry(ferry)

    assert.equal(seen.length, expectedKept, ferryOutputForHumans(ferry))
    for (const r of seen) assert.deepEqual(Object.keys(JSON.parse(r.data.toString())), ['level'])
    const letters = fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    assert.deepEqual(letters.map((l) => l.data).sort(), lines.filter((l) => l.startsWith('not json')).sort())
    for (const l of letters) {
      assert.equal(l.destination, 'plugin json')
      assert.ok(l.error_message.length > 0, JSON.stringify(l))
    }
    const plugins = report.flows[0].plugins
    assert.deepEqual(plugins.map((p) => p.name), ['json', 'parse'])
    const [json, parse] = plugins
    assert.deepEqual([json.records_in, json.records_out, json.errored, json.dead_lettered], [50, 40, 10, 10])
    assert.deepEqual([parse.records_in, parse.records_out, parse.errored, parse.dropped], [40, expectedKept, 40 - expectedKept, 40 - expectedKept])
    assert.match(human, /plugin json: .*records_in 50/s)
    assert.match(human, /plugin parse: .*dropped 20/s)
    t.diagnostic(`dead letters: ${letters.length}; status: ${JSON.stringify(plugins)}`)
    passed = true
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else console.error(`kept ${tmp}`)
  }
})
