// proxy.test.mjs — ferry through a real HTTP proxy (Debian's tinyproxy), chosen the way the docs say.
//
// Role: integration tests of proxy selection and use. The proxy comes from aws.proxy, else HTTPS_PROXY /
// HTTP_PROXY by the endpoint's scheme (lower-case variants and ALL_PROXY too, see the unit tests); NO_PROXY
// hosts go direct. http:// endpoints are forwarded by the proxy; https:// ones are tunnelled with CONNECT and
// still verified end to end (aws.ca_file). tinyproxy's log (LogLevel Info) shows every request it
// forwarded, so each test knows whether the proxy was used. Everything listens on 127.0.0.1; tinyproxy runs
// in the foreground (-d) and is stopped by its pid.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans, yamlQuote } from './lib/ferry.mjs'
import { generateLines, fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'
import { makeTestCa } from './lib/test_ca.mjs'

const TINYPROXY = '/usr/bin/tinyproxy'
const temps = []
const proxies = []
let ca
let serverCert

before(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-proxy-ca-'))
  temps.push(dir)
  ca = makeTestCa(dir)
  serverCert = ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] })
})

after(async () => {
  for (const proxy of proxies) await proxy.stop()
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

// Proxy variables of the test's own environment must not leak into ferry's; each test sets its own.
const CLEAN_ENV = {
  HTTPS_PROXY: '',
  https_proxy: '',
  HTTP_PROXY: '',
  http_proxy: '',
  ALL_PROXY: '',
  all_proxy: '',
  NO_PROXY: '',
  no_proxy: '',
}
// Nothing listens on port 1: a proxy there refuses every connection.
const DEAD_PROXY = 'http://127.0.0.1:1'

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n` + (ferry ? ferryOutputForHumans(ferry) : ''))
    await new Promise((r) => setTimeout(r, 50))
  }
}

// Starts tinyproxy on `port` (a free one by default). basicAuth: [user, password] it then demands.
// proxy.url, proxy.log() (its log so far), proxy.requests() (request lines it received: "POST http://...",
// "CONNECT host:port"), proxy.stop().
async function startTinyproxy({ port, basicAuth } = {}) {
  port = port || (await freePort())
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-tinyproxy-'))
  temps.push(dir)
  const logFile = path.join(dir, 'tinyproxy.log')
  const conf = path.join(dir, 'tinyproxy.conf')
  // No ConnectPort lines: CONNECT is allowed to every port (tinyproxy.conf(5)).
  const lines = [`Port ${port}`, 'Listen 127.0.0.1', `LogFile "${logFile}"`, 'LogLevel Info', 'MaxClients 50', 'Timeout 60']
  if (basicAuth) lines.push(`BasicAuth ${basicAuth[0]} ${basicAuth[1]}`)
  fs.writeFileSync(conf, lines.join('\n') + '\n')
  const child = spawn(TINYPROXY, ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.once('close', resolve))
  const log = () => {
    try {
      return fs.readFileSync(logFile, 'utf8')
    } catch {
      return ''
    }
  }
  const proxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    log,
    requests: () => [...log().matchAll(/Request \(file descriptor \d+\): (\S+ \S+)/g)].map((m) => m[1]),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      process.kill(child.pid, 'SIGTERM')
      let timer
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))])
      clearTimeout(timer) // a pending timer would hold the test process open
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    },
  }
  proxies.push(proxy)
  await waitUntil(() => /Starting main loop/.test(log() + output) || child.exitCode !== null, 10000, 'tinyproxy to start')
  if (child.exitCode !== null) throw new Error(`tinyproxy exited at start:\n${output}\n${log()}`)
  return proxy
}

// Writes `count` lines and a config for them; aws adds keys to the aws section.
function setup(endpoint, count, aws = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-proxy-'))
  temps.push(tmp)
  const lines = generateLines(count, { longLines: [] })
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, fileContents(lines))
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint, stream: 's', files: [logPath] })
  const extra = Object.entries(aws).map(([k, v]) => `  ${k}: ${yamlQuote(v)}\n`).join('')
  fs.writeFileSync(configPath, fs.readFileSync(configPath, 'utf8').replace('aws:\n', `aws:\n${extra}`))
  return { lines, configPath }
}

// Runs ferry until every line has arrived at ep, stops it, checks it exited cleanly and each line arrived
// once; returns its stderr.
async function deliverAll({ ep, lines, configPath, env }) {
  const ferry = startFerry(configPath, { env: { ...CLEAN_ENV, ...env } })
  try {
    await waitUntil(() => ep.accepted.length >= lines.length, 30000, 'all lines', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const result = compareRecords(lines, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    return stderr
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
  }
}

// The PutRecords requests the proxy forwarded to ep (http://) or tunnelled to it (CONNECT).
function proxiedTo(proxy, ep) {
  const { host } = new URL(ep.endpoint)
  return proxy.requests().filter((r) => r === `CONNECT ${host}` || r.startsWith(`POST http://${host}/`))
}

test('an http:// endpoint through HTTP_PROXY: the proxy forwards every request', async () => {
  const proxy = await startTinyproxy()
  const ep = await startPutRecordsEndpoint()
  try {
    const { lines, configPath } = setup(ep.endpoint, 1000)
    // HTTPS_PROXY is for https:// endpoints only: a dead one must not matter here.
    await deliverAll({ ep, lines, configPath, env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: DEAD_PROXY } })
    const forwarded = proxiedTo(proxy, ep)
    assert.ok(forwarded.length >= 1, 'tinyproxy forwarded nothing:\n' + proxy.log())
    assert.ok(forwarded.length >= ep.requests, `tinyproxy forwarded ${forwarded.length} of ${ep.requests} requests`)
  } finally {
    await ep.stop()
    await proxy.stop()
  }
})

test('aws.proxy wins over the variables, and its password is sent to the proxy but never logged', async () => {
  const proxy = await startTinyproxy({ basicAuth: ['ferry', 'pr0xy-s3cret'] })
  const ep = await startPutRecordsEndpoint()
  try {
    const { lines, configPath } = setup(ep.endpoint, 1000, { proxy: `http://ferry:pr0xy-s3cret@127.0.0.1:${proxy.port}` })
    const stderr = await deliverAll({ ep, lines, configPath, env: { HTTP_PROXY: DEAD_PROXY, http_proxy: DEAD_PROXY } })
    assert.ok(proxiedTo(proxy, ep).length >= 1, 'tinyproxy forwarded nothing:\n' + proxy.log())
    assert.doesNotMatch(stderr, /pr0xy-s3cret/)
  } finally {
    await ep.stop()
    await proxy.stop()
  }
})

test('an https:// endpoint through HTTPS_PROXY: a CONNECT tunnel, the certificate still checked', async () => {
  const proxy = await startTinyproxy()
  const ep = await startPutRecordsEndpoint({ https: { key: serverCert.key, cert: serverCert.cert } })
  try {
    const { lines, configPath } = setup(ep.endpoint, 1000, { ca_file: ca.caFile })
    await deliverAll({ ep, lines, configPath, env: { https_proxy: proxy.url, HTTP_PROXY: DEAD_PROXY } })
    const tunnels = proxiedTo(proxy, ep)
    assert.ok(tunnels.length >= 1, 'tinyproxy saw no CONNECT:\n' + proxy.log())
    assert.ok(tunnels.every((r) => r.startsWith('CONNECT ')), tunnels.join('\n'))
  } finally {
    await ep.stop()
    await proxy.stop()
  }
})

test('NO_PROXY=127.0.0.1 bypasses the proxy: it sees nothing, every line arrives', async () => {
  const proxy = await startTinyproxy()
  const ep = await startPutRecordsEndpoint()
  try {
    const { lines, configPath } = setup(ep.endpoint, 1000)
    await deliverAll({
      ep,
      lines,
      configPath,
      env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ALL_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' },
    })
    assert.deepEqual(proxy.requests(), [])
  } finally {
    await ep.stop()
    await proxy.stop()
  }
})

test('a proxy that is down: errors name it, and every line arrives once it is back', async () => {
  const port = await freePort()
  const ep = await startPutRecordsEndpoint()
  const { lines, configPath } = setup(ep.endpoint, 1000, { proxy: `127.0.0.1:${port}` })
  const ferry = startFerry(configPath, { env: CLEAN_ENV })
  let proxy
  try {
    await waitUntil(() => new RegExp(`127\\.0\\.0\\.1 port ${port}`).test(ferry.output.stderr), 20000, 'the proxy error', ferry)
    assert.equal(ep.requests, 0)
    proxy = await startTinyproxy({ port })
    await waitUntil(() => ep.accepted.length >= lines.length, 60000, 'all lines once the proxy is up', ferry)
    const { code, stderr } = await stopFerry(ferry)
    assert.equal(code, 0, stderr)
    const result = compareRecords(lines, ep.accepted.map((data) => ({ data })))
    assert.ok(result.ok, describeMismatch(result) + '\n' + ferryOutputForHumans(ferry))
    assert.ok(proxiedTo(proxy, ep).length >= 1, 'tinyproxy forwarded nothing:\n' + proxy.log())
  } finally {
    if (ferry.exitStatus === null) ferry.kill('SIGKILL')
    await ep.stop()
    await proxy?.stop()
  }
})
