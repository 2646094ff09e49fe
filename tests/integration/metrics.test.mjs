// metrics.test.mjs — the Prometheus endpoint (metrics.listen) against real peers: ferry -> kinesalite.
//
// Role: scrapes /metrics while lines are being shipped and once they are all acknowledged, parses the
// exposition (text format 0.0.4) and checks it against `ferry status --json` (the same counters) and
// against what kinesalite holds (user records, Kinesis records, their data bytes; PUT payload units when
// the outputs report them). A hostile-client test holds slowloris connections, sends a 1 MiB request line
// and opens more connections than the limit while lines keep flowing: ferry delivers every line, refuses
// the excess at once, and a normal scrape is answered. Without a metrics section nothing listens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, ferryStatus, writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'

const run = promisify(execFile)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A process's resident memory (/proc/<pid>/statm, pages).
function residentBytes(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096
}

// A port free a moment ago (the kernel's pick for port 0).
async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

// One raw HTTP exchange: writes `request`, reads until the server closes. Resolves { text, closedMs }.
function exchange(port, request, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = net.connect(port, '127.0.0.1')
    const chunks = []
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    socket.on('connect', () => socket.end(request))
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (err) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? null : reject(err)))
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), closedMs: Date.now() - started }))
  })
}

async function scrape(port) {
  const { text } = await exchange(port, 'GET /metrics HTTP/1.1\r\nHost: ferry\r\n\r\n')
  const split = text.indexOf('\r\n\r\n')
  assert.ok(text.startsWith('HTTP/1.1 200 OK\r\n'), `scrape: ${text.slice(0, 200)}`)
  assert.match(text.slice(0, split), /Content-Type: text\/plain; version=0\.0\.4/)
  return parseExposition(text.slice(split + 4))
}

// Text format 0.0.4: samples by series ('name{labels}' as written) -> number; checks every sample follows
// its family's # TYPE and that no series appears twice.
function parseExposition(body) {
  const samples = new Map()
  const types = new Map()
  for (const line of body.split('\n')) {
    if (line === '') continue
    let m
    if ((m = /^# TYPE (\S+) (counter|gauge)$/.exec(line))) {
      assert.ok(!types.has(m[1]), `TYPE twice for ${m[1]}`)
      types.set(m[1], m[2])
      continue
    }
    if (line.startsWith('# HELP ')) continue
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    assert.ok(types.has(m[1]), `sample before its TYPE: ${line}`)
    if (types.get(m[1]) === 'counter') assert.ok(m[1].endsWith('_total'), `counter without _total: ${m[1]}`)
    const series = m[1] + (m[2] || '')
    assert.ok(!samples.has(series), `series twice: ${series}`)
    samples.set(series, Number(m[3]))
  }
  return samples
}

const flowSeries = (name, flow, dest, extra = '') =>
  `${name}{flow="${flow}"${dest ? `,destination="${dest}"` : ''}${extra}}`

async function statusOf(stateDir) {
  return ferryStatus(stateDir)
}

// A running ferry with metrics on a free port, shipping `logPath` to a 2-shard stream.
async function setUp(t, name, { metrics = true } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-metrics-${name}-`))
  const kinesalite = await startKinesalite()
  const client = makeClient(kinesalite.endpoint)
  const stream = 'ferry-metrics'
  await createStream(client, stream, 2)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, '')
  const stateDir = path.join(tmp, 'state')
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir, endpoint: kinesalite.endpoint, stream, files: [logPath], flowName: 'app' })
  const port = await freePort()
  if (metrics) fs.appendFileSync(configPath, `metrics:\n  listen: 127.0.0.1:${port}\n`)
  const ferry = startFerry(configPath)
  const ctx = { tmp, kinesalite, client, stream, logPath, stateDir, port, ferry, ok: false }
  t.after(async () => {
    if (ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await kinesalite.stop()
    if (ctx.ok) fs.rmSync(tmp, { recursive: true, force: true })
    else t.diagnostic(`kept ${tmp}\n${ferryOutputForHumans(ferry, 4000)}`)
  })
  // Started: the status socket answers with the flow in it.
  const deadline = Date.now() + 15000
  for (;;) {
    try {
      if ((await statusOf(stateDir)).flows.length === 1) break
    } catch {}
    assert.ok(Date.now() < deadline && ferry.exitStatus === null, `ferry did not start\n${ferryOutputForHumans(ferry)}`)
    await sleep(100)
  }
  return ctx
}

test('scrapes during a run and after the acknowledgements agree with ferry status and with kinesalite', { timeout: 60000 }, async (t) => {
  const ctx = await setUp(t, 'agree')
  const { port, logPath, client, stream, stateDir, ferry } = ctx
  const lines = generateLines(6000, { longLines: [30000, 60000] })
  // Written in six parts, with a scrape between them: the counters only grow.
  let previous = null
  for (let part = 0; part < 6; part++) {
    fs.appendFileSync(logPath, fileContents(lines.slice(part * 1000, (part + 1) * 1000)))
    await sleep(150)
    const s = await scrape(port)
    const read = s.get(flowSeries('ferry_read_lines_total', 'app'))
    assert.ok(read !== undefined, 'ferry_read_lines_total served during the run')
    if (previous) assert.ok(read >= previous, `read lines went back: ${previous} -> ${read}`)
    previous = read
  }
  const received = await waitForRecords(client, stream, lines.length, 30000)
  assert.equal(received.length, lines.length, ferryOutputForHumans(ferry))
  // Until ferry has counted the last acknowledgement (its status and metrics say so).
  let s, status
  for (const deadline = Date.now() + 10000; ; ) {
    status = await statusOf(stateDir)
    s = await scrape(port)
    const c = status.flows[0].counters
    if (c.records_sent === lines.length && c.records_unsent === 0 && c.records_read === lines.length) break
    assert.ok(Date.now() < deadline, `ferry did not count every acknowledgement: ${JSON.stringify(c)}`)
    await sleep(100)
  }
  const c = status.flows[0].counters
  const m = (name, dest = true, extra = '') => {
    const v = s.get(flowSeries(name, 'app', dest ? stream : null, extra))
    assert.ok(v !== undefined, `${name} not served`)
    return v
  }
  // The same counters as ferry status.
  assert.equal(m('ferry_read_lines_total', false), c.records_read)
  assert.equal(m('ferry_read_bytes_total', false), c.bytes_read)
  assert.equal(m('ferry_bytes_behind', false), c.bytes_behind)
  assert.equal(m('ferry_acked_records_total'), c.records_sent)
  assert.equal(m('ferry_acked_bytes_total'), c.record_bytes_sent)
  assert.equal(m('ferry_kinesis_acked_records_total'), c.kinesis_records_sent)
  assert.equal(m('ferry_sent_bytes_total'), c.payload_bytes)
  assert.equal(m('ferry_kinesis_records_total'), c.kinesis_records)
  assert.equal(m('ferry_kinesis_aggregated_records_total'), c.aggregated_records)
  assert.equal(m('ferry_requests_total', true, ',outcome="ok"') + m('ferry_requests_total', true, ',outcome="failed"'), c.requests)
  assert.equal(m('ferry_requests_total', true, ',outcome="failed"'), c.request_failures)
  assert.equal(m('ferry_retried_records_total'), c.records_retried)
  assert.equal(m('ferry_dead_lettered_records_total'), c.records_dead_lettered)
  assert.equal(m('ferry_spool_bytes'), c.spool_bytes)
  assert.equal(m('ferry_throttle_wait_seconds_total'), c.throttle_wait_ms / 1000)
  for (const [code, n] of Object.entries(status.flows[0].errors)) assert.equal(m('ferry_endpoint_errors_total', true, `,code="${code}"`), n)
  // And what kinesalite holds: every line once, the Kinesis records and their data bytes.
  let kinesisRecords = 0
  let kinesisBytes = 0
  let payloadUnits = 0
  const records = await readAll(client, stream, {
    decode: (data) => {
      kinesisRecords++
      kinesisBytes += data.length
      payloadUnits += Math.max(1, Math.ceil(data.length / 25600))
      return data
    },
  })
  const cmp = compareRecords(lines, records)
  assert.ok(cmp.ok, describeMismatch(cmp))
  assert.equal(m('ferry_acked_records_total'), lines.length)
  assert.equal(m('ferry_read_bytes_total', false), fileContents(lines).length)
  assert.equal(m('ferry_kinesis_acked_records_total'), kinesisRecords)
  assert.equal(m('ferry_acked_bytes_total'), kinesisBytes)
  // The billing counters, where the outputs report them: what kinesalite's records cost.
  if (c.put_payload_units !== undefined) {
    assert.equal(m('ferry_kinesis_put_payload_units_total'), c.put_payload_units)
    assert.equal(m('ferry_kinesis_put_payload_units_total'), payloadUnits)
    assert.equal(m('ferry_kinesis_put_payload_units_unaggregated_total'), c.put_payload_units_unaggregated)
  } else {
    t.diagnostic('the outputs report no put_payload_units: billing metrics not compared')
  }
  // The daemon and the process.
  assert.equal(s.get(`ferry_build_info{version="${status.ferry}"}`), 1)
  assert.equal(s.get('ferry_flow_info{flow="app",destination="ferry-metrics",service="kinesis"}'), 1)
  assert.ok(s.get('ferry_memory_limit_bytes') > 0)
  assert.ok(s.get('process_resident_memory_bytes') > 1 << 20)
  assert.ok(s.get('process_open_fds') > 3)
  assert.ok(s.get('process_cpu_seconds_total') > 0)
  assert.ok(Math.abs(s.get('process_start_time_seconds') - (Date.now() / 1000 - status.uptime_seconds)) < 5)
  t.diagnostic(`${lines.length} lines in ${kinesisRecords} Kinesis records (${kinesisBytes} bytes); ${s.size} series`)
  // Other requests.
  const head = await exchange(port, 'HEAD /metrics HTTP/1.0\r\n\r\n')
  assert.match(head.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/)
  assert.match((await exchange(port, 'GET /nope HTTP/1.1\r\n\r\n')).text, /^HTTP\/1\.1 404 /)
  assert.match((await exchange(port, 'DELETE /metrics HTTP/1.1\r\n\r\n')).text, /^HTTP\/1\.1 405 [^]*Allow: GET, HEAD\r\n/)
  assert.equal((await stopFerry(ferry)).code, 0, ferryOutputForHumans(ferry))
  ctx.ok = true
})

test('slowloris, a 1 MiB request line and too many connections do not hold ferry up', { timeout: 60000 }, async (t) => {
  const ctx = await setUp(t, 'hostile')
  const { port, logPath, client, stream, ferry } = ctx
  const lines = generateLines(8000, { longLines: [] })
  // Lines keep flowing throughout: 200 every 50 ms.
  let written = 0
  const writer = setInterval(() => {
    if (written >= lines.length) return clearInterval(writer)
    fs.appendFileSync(logPath, fileContents(lines.slice(written, written + 200)))
    written += 200
  }, 50)
  t.after(() => clearInterval(writer))

  const rssBefore = residentBytes(ferry.pid)
  // Slowloris: 6 connections that send a header byte every 200 ms and never end the head.
  const slow = []
  for (let i = 0; i < 6; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    const s = { socket, closedAt: null, opened: Date.now() }
    socket.on('close', () => (s.closedAt = Date.now()))
    socket.on('connect', () => socket.write('GET /metrics HTTP/1.1\r\nX-Slow: '))
    s.timer = setInterval(() => socket.writable && socket.write('a'), 200)
    slow.push(s)
  }
  t.after(() => slow.forEach((s) => (clearInterval(s.timer), s.socket.destroy())))
  await sleep(300)
  // A normal scrape is answered meanwhile (6 of 16 connections are taken).
  assert.ok((await scrape(port)).has(flowSeries('ferry_read_lines_total', 'app')))

  // A 1 MiB request line: refused with 431 once the head bound (8 KiB) is reached.
  const huge = await exchange(port, 'GET /' + 'a'.repeat(1 << 20) + ' HTTP/1.1\r\n\r\n')
  assert.match(huge.text, /^HTTP\/1\.1 431 /)

  // 40 connections at once, idle: beyond the limit of 16 they are closed at once.
  const flood = []
  for (let i = 0; i < 40; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    const f = { socket, closedMs: null, opened: Date.now() }
    socket.on('close', () => (f.closedMs = Date.now() - f.opened))
    flood.push(f)
  }
  t.after(() => flood.forEach((f) => f.socket.destroy()))
  await sleep(1000)
  const closedAtOnce = flood.filter((f) => f.closedMs !== null && f.closedMs < 1000).length
  // 16 are held at most (6 slowloris, the rest of the flood); every other one is closed at once. (The
  // 1 MiB client's slot may not be free yet when the flood arrives, so not exactly 30.)
  assert.ok(closedAtOnce >= 40 - 16, `only ${closedAtOnce} of 40 connections closed at once`)
  t.diagnostic(`${closedAtOnce} of 40 flooding connections closed within 1 s`)
  const rssDuring = residentBytes(ferry.pid)

  // Held connections are dropped at their 5 s deadline: a scrape is answered again, and they are gone.
  let answered = null
  for (const deadline = Date.now() + 9000; Date.now() < deadline && !answered; ) {
    answered = await scrape(port).catch(() => null)
    if (!answered) await sleep(250)
  }
  assert.ok(answered, 'no scrape answered after the held connections\' deadline')
  assert.ok(answered.get('ferry_metrics_refused_connections_total') >= 24)
  // A slot may have been free for that scrape before the deadline: wait for the slowloris clients' own.
  const latest = Math.max(...slow.map((s) => s.opened)) + 7000
  while (slow.some((s) => s.closedAt === null) && Date.now() < latest) await sleep(100)
  for (const s of slow) assert.ok(s.closedAt !== null && s.closedAt - s.opened < 7000, 'a slowloris connection was not dropped at its deadline')
  t.diagnostic(
    `resident memory before the attack ${(rssBefore / 1048576).toFixed(1)} MiB, with 16 connections held and ` +
      `24 refused ${(rssDuring / 1048576).toFixed(1)} MiB`,
  )
  // Loose (the lines flowing meanwhile and ASan's quarantine grow it too: 4 MiB plain, 9 MiB under ASan);
  // the head bound itself is the unit tests' (http_request_head_test, metrics_server_test).
  assert.ok(rssDuring - rssBefore < 32 << 20, 'the attack grew ferry by 32 MiB or more')

  // Every line got through meanwhile.
  while (written < lines.length) await sleep(50)
  const received = await waitForRecords(client, stream, lines.length, 20000)
  const cmp = compareRecords(lines, received)
  assert.ok(cmp.ok, `${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`)
  assert.equal((await stopFerry(ferry)).code, 0, ferryOutputForHumans(ferry))
  ctx.ok = true
})

// The socket inodes ferry's descriptors hold that are listening TCP sockets (/proc/net/tcp{,6} state 0A).
function listeningTcpSockets(pid) {
  const inodes = new Set()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false }) ?? '')
    if (m) inodes.add(m[1])
  }
  const listening = []
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue
    for (const row of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/)
      if (f[3] === '0A' && inodes.has(f[9])) listening.push(f[1])
    }
  }
  return listening
}

test('metrics are off by default: nothing listens, and a port in use stops ferry run', { timeout: 60000 }, async (t) => {
  const ctx = await setUp(t, 'off', { metrics: false })
  assert.deepEqual(listeningTcpSockets(ctx.ferry.pid), [])
  assert.equal((await stopFerry(ctx.ferry)).code, 0)
  // The same config with metrics on a port another process holds: a clear error, exit non-zero.
  const holder = net.createServer()
  await new Promise((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.after(() => holder.close())
  const configPath = path.join(ctx.tmp, 'ferry.yaml')
  fs.appendFileSync(configPath, `metrics:\n  listen: 127.0.0.1:${holder.address().port}\n`)
  const check = await run(ferryBinary(), ['check', '-c', configPath])
  assert.match(check.stdout + check.stderr, new RegExp(`listen: 127\\.0\\.0\\.1:${holder.address().port}`))
  const second = startFerry(configPath)
  const exited = await Promise.race([second.exited, sleep(15000).then(() => null)])
  assert.ok(exited, 'ferry kept running with its metrics port in use')
  assert.notEqual(exited.code, 0)
  assert.match(second.output.stderr, new RegExp(`metrics\\.listen 127\\.0\\.0\\.1:${holder.address().port}: cannot listen: address already in use`))
  ctx.ok = true
})

test('a reload moves the endpoint to a new address, and one without a metrics section closes it', { timeout: 60000 }, async (t) => {
  const ctx = await setUp(t, 'reload')
  const configPath = path.join(ctx.tmp, 'ferry.yaml')
  const base = fs.readFileSync(configPath, 'utf8').replace(/metrics:\n  listen: .*\n/, '')
  const reload = () => run(ferryBinary(), ['reload', '--state-dir', ctx.stateDir])
  assert.ok([...(await scrape(ctx.port)).keys()].some((k) => k.startsWith('ferry_build_info{')))

  const moved = await freePort()
  fs.writeFileSync(configPath, base + `metrics:\n  listen: 127.0.0.1:${moved}\n`)
  await reload()
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      await scrape(moved)
      break
    } catch (err) {
      assert.ok(Date.now() < deadline, `nothing answers on the new port: ${err}\n${ferryOutputForHumans(ctx.ferry)}`)
      await sleep(50)
    }
  }
  await assert.rejects(exchange(ctx.port, 'GET /metrics HTTP/1.1\r\n\r\n', 2000), /ECONNREFUSED/)
  assert.match(ctx.ferry.output.stderr, new RegExp(`reload: metrics endpoint on 127\\.0\\.0\\.1:${moved}`))

  fs.writeFileSync(configPath, base)
  await reload()
  const closing = Date.now() + 5000
  while (listeningTcpSockets(ctx.ferry.pid).length > 0) {
    assert.ok(Date.now() < closing, 'the endpoint still listens after a reload without metrics')
    await sleep(50)
  }
  // The flow was not touched by either reload, and ferry still ships.
  fs.appendFileSync(ctx.logPath, 'after the reloads\n')
  await waitForRecords(ctx.client, ctx.stream, 1, 15000)
  assert.equal((await stopFerry(ctx.ferry)).code, 0)
  ctx.ok = true
})
