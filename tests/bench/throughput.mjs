// throughput.mjs — benchmark: how fast ferry ships one large log file, and what that costs, per destination.
//
// Generates a log file (seeded, so every run reads the same bytes), then per scenario starts the fast local
// endpoint (lib/fast_endpoint.mjs, a process of its own; HTTPS for the -https scenarios, with a certificate
// of a throwaway CA that ferry trusts through aws.ca_file) and `ferry run` (or, for the send-* scenarios,
// `ferry send` under /usr/bin/time, its wall time ending when it exits) from a cold start (fresh
// state_dir, start_at: beginning), samples ferry's RssAnon and RssFile (/proc/<pid>/status) every 10 ms
// while it runs, waits until the endpoint has counted every line, reads ferry's CPU time
// (/proc/<pid>/stat utime+stime) and peak RSS (VmHWM) before stopping it, and the endpoint's CPU time.
// Prints an aligned table and one line `JSON: {...}` (tests/bench/README.md explains the columns). It is a
// measurement, not a test: nothing is asserted beyond every line arriving.
//
// Run from the repo root:
//   node tests/bench/throughput.mjs [--lines N] [--line-bytes B] [--format json|text]
//                                   [--scenarios a,b,...] [--repeat N] [--timeout S] [--json FILE]
//                                   [--set KEY=VALUE]... [--plugins NAME]
// FERRY_BIN defaults to build/ferry. Scenarios: the keys of SCENARIOS below (default: all). --set adds or
// overrides a config key (see ferryConfig). --plugins: a chain of PLUGIN_CHAINS below.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { startFerry, stopFerry, ferryOutputForHumans, yamlQuote } from '../integration/lib/ferry.mjs'
import { makeTestCa } from '../integration/lib/test_ca.mjs'
import { startFastEndpoint } from './lib/fast_endpoint.mjs'

// tls: the endpoint serves HTTPS (the same work plus TLS on both sides).
const SCENARIOS = {
  'kinesis-agg-json': { kinesis: { aggregate: true, protocol: 'json' } },
  'kinesis-agg-cbor': { kinesis: { aggregate: true, protocol: 'cbor' } },
  // Every request written to the disk spool ahead of sending (spool.mode: always) and sent from there.
  'kinesis-agg-spooled': { kinesis: { aggregate: true, protocol: 'json' }, spool: 'always' },
  'kinesis-raw-json': { kinesis: { aggregate: false, protocol: 'json' } },
  'kinesis-raw-cbor': { kinesis: { aggregate: false, protocol: 'cbor' } },
  firehose: { firehose: {} },
  'kinesis-agg-json-https': { kinesis: { aggregate: true, protocol: 'json' }, tls: true },
  'kinesis-agg-cbor-https': { kinesis: { aggregate: true, protocol: 'cbor' }, tls: true },
  'firehose-https': { firehose: {}, tls: true },
  // `ferry send -c` with the same flow, of the file named, or of the same bytes on its standard input (a
  // pipe the benchmark writes); the run ends when ferry send exits.
  'send-kinesis-agg-json': { kinesis: { aggregate: true, protocol: 'json' }, send: 'file' },
  'send-kinesis-agg-json-stdin': { kinesis: { aggregate: true, protocol: 'json' }, send: 'stdin' },
}
// --plugins NAME: the flow runs this chain. `example` is DESIGN.md §12's (grep drops the health checks; the
// lines the endpoint must count are the others), for --format text (nginx combined lines).
const PLUGIN_CHAINS = {
  example: {
    yaml: "[{grep: {exclude: 'GET /health'}}, {redact: {patterns: [email, credit_card, aws_access_key_id], replace: '[REDACTED]'}}, " +
      "{parse: {format: apache_combined}}, {add: {fields: {hostname: '${hostname}', file: '${file}'}, timestamp: time, record_id: id}}]",
    dropped: (line) => line.includes('"GET /health '),
  },
  // A Firehose transformation function that returns every record unchanged (tests/lambda/), behind each
  // wrapper (the build copies them next to ferry): what the lambda protocol and the wrapper cost.
  'lambda-python': { yaml: (binDir) => lambdaChain(binDir, 'ferry-lambda-python', 'passthrough.py:lambda_handler') },
  'lambda-node': { yaml: (binDir) => lambdaChain(binDir, 'ferry-lambda-node', 'passthrough_async.js:handler') },
  'lambda-node-callback': { yaml: (binDir) => lambdaChain(binDir, 'ferry-lambda-node', 'passthrough_callback.js:handler') },
}
const HANDLERS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'lambda')
// The Python wrapper runs under the interpreter python3 resolves to: a shim (pyenv) would add its own start
// to the plugin's CPU time.
function lambdaChain(binDir, wrapper, handler) {
  const python = wrapper.endsWith('python')
    ? [execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()]
    : []
  const argv = [...python, path.join(binDir, wrapper), path.join(HANDLERS_DIR, handler)]
  return `[{lambda: {command: [${argv.map(yamlQuote).join(', ')}]}}]`
}
const SEED = 20261126
const PROGRESS_EVERY_MS = 10000
const ENDPOINT_BOUND = 0.8 // an endpoint busy this share of a core or more is what limits the run
const MEMORY_SAMPLE_MS = 10
// --set sections that go into the flow rather than at the top level.
const FLOW_SECTIONS = ['flow', 'kinesis', 'firehose']
// No proxy from the environment for ferry: every request must go straight to the endpoint on 127.0.0.1.
const NO_PROXY_ENV = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', ALL_PROXY: '', all_proxy: '' }
const MB = 1e6
const MIB = 1024 * 1024

function parseOptions() {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' },
      'line-bytes': { type: 'string', default: '200' },
      format: { type: 'string', default: 'json' },
      scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') },
      repeat: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '600' },
      json: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      plugins: { type: 'string' },
    },
  })
  const positive = (name) => {
    const n = Number(values[name])
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${values[name]}`)
    return n
  }
  const scenarios = values.scenarios.split(',').filter(Boolean)
  for (const s of scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  if (values.plugins !== undefined && !PLUGIN_CHAINS[values.plugins]) {
    throw new Error(`--plugins ${values.plugins}: known chains: ${Object.keys(PLUGIN_CHAINS).join(', ')}`)
  }
  if (!['json', 'text'].includes(values.format)) throw new Error(`--format must be json or text, not ${values.format}`)
  const sets = values.set.map((text) => {
    const m = text.match(/^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)=(.+)$/)
    if (!m || /[\r\n]/.test(m[2])) throw new Error(`--set takes KEY=VALUE (a dotted key, a one-line YAML value), not ${text}`)
    if (FLOW_SECTIONS.includes(m[1])) throw new Error(`--set ${text}: name a key inside ${m[1]} (${m[1]}.KEY=VALUE)`)
    return { key: m[1], value: m[2] }
  })
  return {
    lines: positive('lines'),
    lineBytes: positive('line-bytes'),
    format: values.format,
    scenarios,
    repeat: positive('repeat'),
    timeoutMs: positive('timeout') * 1000,
    jsonFile: values.json,
    sets,
    plugins: values.plugins,
  }
}

// ---- the log file ----

// mulberry32: a small seeded PRNG, so the generated file is the same on every run.
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
  'Go-http-client/1.1',
]
const PATHS = [
  (rand) => `/api/v1/items/${Math.floor(rand() * 100000)}`,
  (rand) => `/api/v1/users/${Math.floor(rand() * 100000)}`,
  (rand) => `/api/v1/orders/${Math.floor(rand() * 100000)}`,
  (rand) => `/static/js/app.${Math.floor(rand() * 0xffffff).toString(16)}.js`,
  () => '/health',
  () => '/login',
]
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 404, 500]
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const START_MS = Date.UTC(2026, 10, 26, 12, 0, 0)

// One web request as a log line (without its newline) whose user agent is cut or padded (from `filler`) so
// the line with its newline is `lineBytes` long, when the other fields leave room.
function logLine(rand, ms, format, lineBytes, filler) {
  const pick = (list) => list[Math.floor(rand() * list.length)]
  const ip = `${pick(['192.0.2', '198.51.100', '203.0.113'])}.${1 + Math.floor(rand() * 254)}`
  const urlPath = pick(PATHS)(rand)
  const method = pick(METHODS)
  const status = pick(STATUSES)
  const bytes = Math.floor(rand() * 20000)
  const tookMs = Math.floor(rand() * rand() * 500)
  const agent = pick(USER_AGENTS)
  const render = (ua) => {
    if (format === 'json') {
      const ts = new Date(ms).toISOString()
      return `{"ts":"${ts}","ip":"${ip}","method":"${method}","path":"${urlPath}","status":${status},"bytes":${bytes},"ua":"${ua}","took_ms":${tookMs}}`
    }
    const d = new Date(ms)
    const two = (n) => String(n).padStart(2, '0')
    const when = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
    return `${ip} - - [${when}] "${method} ${urlPath} HTTP/1.1" ${status} ${bytes} "-" "${ua}" ${tookMs}`
  }
  const room = Math.max(0, lineBytes - 1 - render('').length)
  if (room <= agent.length) return render(agent.slice(0, room))
  const start = Math.floor(rand() * (filler.length - room))
  return render(agent + ' ' + filler.slice(start, start + room - agent.length - 1))
}

// Writes the log file; returns its size in bytes and how many of its lines `dropped` says a plugin drops.
function generateLog(file, { lines, lineBytes, format, dropped = () => false }) {
  const rand = random(SEED)
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  let filler = ''
  while (filler.length < 2 * lineBytes + 4096) filler += alphabet[Math.floor(rand() * alphabet.length)]
  const fd = fs.openSync(file, 'w')
  let size = 0
  let drops = 0
  let chunk = ''
  let ms = START_MS
  for (let i = 0; i < lines; i++) {
    ms += Math.floor(rand() * 5)
    const line = logLine(rand, ms, format, lineBytes, filler)
    if (dropped(line)) drops++
    chunk += line + '\n'
    if (chunk.length >= MIB || i === lines - 1) {
      size += fs.writeSync(fd, chunk)
      chunk = ''
    }
  }
  fs.closeSync(fd)
  return { size, drops }
}

// ---- ferry ----

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// A config tree as YAML lines: maps as blocks, lists of maps as block sequences, other lists as flow
// sequences. Leaves are YAML text already (paths quoted by the caller, --set values as given).
function yamlLines(map, indent = '') {
  const lines = []
  for (const [key, value] of Object.entries(map)) {
    if (Array.isArray(value) && value.every(isMap)) {
      lines.push(`${indent}${key}:`)
      for (const item of value) {
        const [first, ...rest] = yamlLines(item, indent + '    ')
        lines.push(`${indent}  - ${first.trimStart()}`, ...rest)
      }
    } else if (Array.isArray(value)) lines.push(`${indent}${key}: [${value.join(', ')}]`)
    else if (isMap(value)) lines.push(`${indent}${key}:`, ...yamlLines(value, indent + '  '))
    else lines.push(`${indent}${key}: ${value}`)
  }
  return lines
}

// The config of one run. Each --set goes, by its first key: flow.X into the flow, kinesis.X and firehose.X
// into the flow's destination (skipped when the scenario has the other one), anything else from the top
// (so spool.mode or aws.request_timeout reach their sections). A key already there is overridden in place.
function ferryConfig({ stateDir, endpoint, caFile, logFile, scenario, sets }) {
  const { kinesis, spool } = SCENARIOS[scenario]
  const flow = {
    name: 'bench',
    files: [yamlQuote(logFile)],
    start_at: 'beginning',
    ...(kinesis
      ? { kinesis: { stream: 'bench', aggregate: kinesis.aggregate, protocol: kinesis.protocol, rate_limit: 0 } }
      : { firehose: { delivery_stream: 'bench' } }),
  }
  const config = {
    state_dir: yamlQuote(stateDir),
    log_level: 'warn',
    ...(spool ? { spool: { mode: spool } } : {}),
    aws: {
      region: 'us-east-1',
      access_key_id: 'AKIDBENCH',
      secret_access_key: 'bench-secret',
      ...(caFile ? { ca_file: yamlQuote(caFile) } : {}),
      kinesis_endpoint: endpoint,
      firehose_endpoint: endpoint,
    },
    flows: [flow],
  }
  for (const { key, value } of sets) {
    const [first, ...rest] = key.split('.')
    const inFlow = FLOW_SECTIONS.includes(first)
    if (inFlow && first !== 'flow' && !flow[first]) continue // kinesis.X in a Firehose scenario, or the reverse
    let map = !inFlow ? config : first === 'flow' ? flow : flow[first]
    const keys = inFlow ? rest : [first, ...rest]
    for (const k of keys.slice(0, -1)) {
      map[k] ??= {}
      if (!isMap(map[k])) throw new Error(`--set ${key}: ${k} is a value, not a section`)
      map = map[k]
    }
    map[keys.at(-1)] = value
  }
  const { flows, ...top } = config // flows last, after any top-level key --set added
  return yamlLines({ ...top, flows }).join('\n') + '\n'
}

function checkConfig(bin, configPath, sets) {
  try {
    execFileSync(bin, ['check', '-c', configPath], { stdio: 'pipe' })
  } catch (err) {
    const why = sets.length ? 'a bad --set, or ' : ''
    throw new Error(`ferry check -c ${configPath} failed (${why}is ${bin} older than the tree? ninja -C build ferry):\n${err.stdout}${err.stderr}`)
  }
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))

// User plus system CPU seconds of a process (all its threads) so far.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS // utime, stime
}

function peakRssKiB(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m)[1])
}

// User plus system CPU seconds of a process's children and their children (a lambda plugin's processes),
// those running now.
function descendantsCpuSeconds(pid) {
  const parents = new Map()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {} // gone meanwhile
  }
  let total = 0
  const isDescendant = (p) => {
    for (let q = parents.get(p); q !== undefined && q > 1; q = parents.get(q)) if (q === pid) return true
    return false
  }
  for (const p of parents.keys()) {
    if (!isDescendant(p)) continue
    try {
      total += cpuSeconds(p)
    } catch {}
  }
  return total
}

// Samples a process's RssAnon every MEMORY_SAMPLE_MS until stop(), which takes a last sample and returns the
// peak (KiB) with the RssFile of the sample that had it. VmHWM also counts the shared libraries' pages mapped
// from the page cache; RssAnon is what the process allocated itself. The kernel keeps no peak of it, hence
// the sampling, which can miss a spike shorter than the interval.
function sampleMemory(pid) {
  let peak = { anonKiB: 0, fileKiB: 0 }
  const sample = () => {
    let status
    try {
      status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ESRCH') return // gone: the samples so far stand
      throw err
    }
    const anon = status.match(/^RssAnon:\s+(\d+)/m)
    if (!anon) return // exited, not yet reaped (a zombie has no memory lines)
    const anonKiB = Number(anon[1])
    if (anonKiB > peak.anonKiB) peak = { anonKiB, fileKiB: Number(status.match(/^RssFile:\s+(\d+)/m)[1]) }
  }
  sample()
  let timer = setInterval(sample, MEMORY_SAMPLE_MS)
  return {
    stop() {
      if (timer) {
        clearInterval(timer)
        timer = null
        sample()
      }
      return peak
    },
  }
}

// Every number of a result to at most 3 decimals, for a readable JSON line.
function roundNumbers(result) {
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]))
}

// ---- one run ----

// Resolves with the endpoint's counts once it has seen every line; rejects if ferry or the endpoint exits
// first, the endpoint refuses a request, or the timeout passes. Reports progress on stderr while it waits.
async function waitForAllLines({ ferry, endpoint, label, lines, timeoutMs }) {
  const started = Date.now()
  let settled = false
  const progress = setInterval(async () => {
    const c = await endpoint.counts()
    if (!settled) console.error(`  ${label}: ${c.lines} of ${lines} lines after ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }, PROGRESS_EVERY_MS)
  let timer
  try {
    return await Promise.race([
      endpoint.done,
      endpoint.refused.then((reason) => {
        throw new Error(`the endpoint refused a request (${reason})\n${ferryOutputForHumans(ferry)}`)
      }),
      ferry.exited.then((s) => {
        throw new Error(`ferry exited (code ${s.code}, signal ${s.signal}) before every line arrived\n${ferryOutputForHumans(ferry)}`)
      }),
      endpoint.exited.then((s) => {
        throw new Error(`the endpoint exited (code ${s.code}, signal ${s.signal}) before every line arrived`)
      }),
      new Promise((resolve, reject) => {
        timer = setTimeout(async () => {
          const c = await endpoint.counts()
          reject(new Error(`only ${c.lines} of ${lines} lines arrived in ${timeoutMs / 1000} s\n${ferryOutputForHumans(ferry)}`))
        }, timeoutMs)
      }),
    ])
  } finally {
    settled = true
    clearInterval(progress)
    clearTimeout(timer)
  }
}

// The pid of the one child of pid (ferry under /usr/bin/time), once it has been started.
async function childPid(pid) {
  for (let i = 0; i < 500; i++) {
    try {
      const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
      if (children) return Number(children.split(' ')[0])
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  throw new Error(`no child of ${pid} appeared`)
}

// `ferry send` under /usr/bin/time, which reports its CPU time and peak RSS once it has exited.
async function runSendOnce({ bin, scenario, run, workDir, logFile, logBytes, options }) {
  const runDir = fs.mkdtempSync(path.join(workDir, `${scenario}-${run}-`))
  const endpoint = await startFastEndpoint({ expectedLines: options.expectedLines, tls: null })
  let memory = null
  let child = null
  try {
    const endpointCpu0 = cpuSeconds(endpoint.pid)
    const configPath = path.join(runDir, 'ferry.yaml')
    fs.writeFileSync(configPath, ferryConfig({ stateDir: path.join(runDir, 'state'), endpoint: endpoint.url, logFile, scenario, sets: options.sets }))
    checkConfig(bin, configPath, options.sets)
    const stdin = SCENARIOS[scenario].send === 'stdin'
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
    const spawnedAt = Date.now()
    child = spawn('/usr/bin/time', ['-f', 'FERRY_TIME %U %S %M', bin, 'send', '-c', configPath, '--progress', 'never', stdin ? '-' : logFile],
      { env: { ...env, ...NO_PROXY_ENV }, stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (t) => { stderr += t })
    const exited = new Promise((resolve) => child.once('close', (code) => resolve({ code, exitedAt: Date.now() })))
    if (stdin) fs.createReadStream(logFile).pipe(child.stdin)
    memory = sampleMemory(await childPid(child.pid))
    const { code, exitedAt } = await exited
    const peakAnon = memory.stop()
    const timed = stderr.match(/FERRY_TIME ([\d.]+) ([\d.]+) (\d+)/)
    if (code !== 0 || !timed) throw new Error(`ferry send exited with ${code}:\n${stderr}`)
    const done = await endpoint.counts()
    const endpointCpu = cpuSeconds(endpoint.pid) - endpointCpu0
    const ferryCpu = Number(timed[1]) + Number(timed[2])
    const wall = (exitedAt - spawnedAt) / 1000
    return roundNumbers({
      scenario,
      run,
      lines: options.lines,
      log_mb: logBytes / MB,
      wall_s: wall,
      lines_per_s: options.lines / wall,
      mb_per_s: logBytes / MB / wall,
      ferry_cpu_s: ferryCpu,
      cpu_s_per_gb: ferryCpu / (logBytes / 1e9),
      lines_per_cpu_s: options.lines / ferryCpu,
      peak_rss_mib: Number(timed[3]) / 1024,
      peak_anon_mib: peakAnon.anonKiB / 1024,
      rss_file_mib: peakAnon.fileKiB / 1024,
      requests: done.requests,
      records: done.records,
      payload_mb: done.payloadBytes / MB,
      endpoint_cpu_s: endpointCpu,
      idle_s: done.idleMs / 1000,
      first_request_s: (done.firstAt - spawnedAt) / 1000,
      half_lines_s: (done.halfAt - spawnedAt) / 1000,
      lines_received: done.lines,
      endpoint_errors: done.errors,
      connections: done.connections,
    })
  } finally {
    memory?.stop()
    if (child && child.exitCode === null) child.kill('SIGKILL')
    await endpoint.stop()
    fs.rmSync(runDir, { recursive: true, force: true })
  }
}

// tls: { keyFile, certFile, caFile } of the endpoint's certificate, for the scenarios over HTTPS.
async function runOnce({ bin, scenario, run, workDir, logFile, logBytes, tls, options }) {
  const runDir = fs.mkdtempSync(path.join(workDir, `${scenario}-${run}-`))
  const overTls = SCENARIOS[scenario].tls
  const endpoint = await startFastEndpoint({ expectedLines: options.expectedLines, tls: overTls ? tls : null })
  let ferry = null
  let memory = null
  try {
    const endpointCpu0 = cpuSeconds(endpoint.pid)
    const configPath = path.join(runDir, 'ferry.yaml')
    const stateDir = path.join(runDir, 'state')
    const caFile = overTls ? tls.caFile : null
    fs.writeFileSync(configPath, ferryConfig({ stateDir, endpoint: endpoint.url, caFile, logFile, scenario, sets: options.sets }))
    checkConfig(bin, configPath, options.sets)
    const spawnedAt = Date.now()
    ferry = startFerry(configPath, { env: NO_PROXY_ENV })
    memory = sampleMemory(ferry.pid)
    const label = `${scenario} run ${run}`
    const done = await waitForAllLines({ ferry, endpoint, label, lines: options.expectedLines, timeoutMs: options.timeoutMs })
    const ferryCpu = cpuSeconds(ferry.pid)
    const pluginCpu = descendantsCpuSeconds(ferry.pid)
    const peakRss = peakRssKiB(ferry.pid)
    const peakAnon = memory.stop() // at the same time as VmHWM: the shutdown is not measured
    const endpointCpu = cpuSeconds(endpoint.pid) - endpointCpu0
    const { code, signal } = await stopFerry(ferry)
    if (code !== 0) throw new Error(`ferry exited with code ${code} (signal ${signal}) on SIGTERM\n${ferryOutputForHumans(ferry)}`)
    const final = await endpoint.counts() // after ferry has stopped: lines sent twice would show here
    const wall = (done.doneAt - spawnedAt) / 1000
    return roundNumbers({
      scenario,
      run,
      lines: options.lines,
      log_mb: logBytes / MB,
      wall_s: wall,
      lines_per_s: options.lines / wall,
      mb_per_s: logBytes / MB / wall,
      ferry_cpu_s: ferryCpu,
      cpu_s_per_gb: ferryCpu / (logBytes / 1e9),
      lines_per_cpu_s: options.lines / ferryCpu,
      peak_rss_mib: peakRss / 1024,
      peak_anon_mib: peakAnon.anonKiB / 1024,
      rss_file_mib: peakAnon.fileKiB / 1024,
      requests: final.requests,
      records: final.records,
      payload_mb: final.payloadBytes / MB,
      endpoint_cpu_s: endpointCpu,
      plugin_cpu_s: pluginCpu,
      idle_s: done.idleMs / 1000,
      first_request_s: (done.firstAt - spawnedAt) / 1000,
      half_lines_s: (done.halfAt - spawnedAt) / 1000,
      lines_received: final.lines,
      endpoint_errors: final.errors,
      connections: final.connections,
    })
  } finally {
    memory?.stop()
    if (ferry?.exitStatus === null) ferry.kill('SIGKILL')
    await endpoint.stop()
    fs.rmSync(runDir, { recursive: true, force: true })
  }
}

// ---- output ----

const COLUMNS = [
  ['scenario', 'scenario', (v) => v],
  ['run', 'run', (v) => String(v)],
  ['lines', 'lines', (v) => String(v)],
  ['log_mb', 'MB', (v) => v.toFixed(1)],
  ['wall_s', 'wall s', (v) => v.toFixed(2)],
  ['lines_per_s', 'lines/s', (v) => Math.round(v).toString()],
  ['mb_per_s', 'MB/s', (v) => v.toFixed(1)],
  ['ferry_cpu_s', 'ferry CPU s', (v) => v.toFixed(2)],
  ['cpu_s_per_gb', 'CPU-s/GB', (v) => v.toFixed(1)],
  ['lines_per_cpu_s', 'lines/CPU-s', (v) => Math.round(v).toString()],
  ['peak_rss_mib', 'RSS MiB', (v) => v.toFixed(1)],
  ['peak_anon_mib', 'anon MiB', (v) => v.toFixed(1)],
  ['rss_file_mib', 'file MiB', (v) => v.toFixed(1)],
  ['requests', 'requests', (v) => String(Math.round(v))],
  ['records', 'records', (v) => String(Math.round(v))],
  ['payload_mb', 'payload MB', (v) => v.toFixed(1)],
  ['endpoint_cpu_s', 'endpoint CPU s', (v) => v.toFixed(2)],
  ['plugin_cpu_s', 'plugin CPU s', (v) => v.toFixed(2)],
  ['idle_s', 'idle s', (v) => v.toFixed(2)],
]

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// Per scenario, the median of every numeric result over its runs.
function medians(results) {
  return [...new Set(results.map((r) => r.scenario))].map((scenario) => {
    const runs = results.filter((r) => r.scenario === scenario)
    const row = { scenario, run: 'median' }
    for (const key of Object.keys(runs[0])) if (typeof runs[0][key] === 'number' && key !== 'run') row[key] = median(runs.map((r) => r[key]))
    return roundNumbers(row)
  })
}

function table(rows) {
  const cells = [COLUMNS.map(([, title]) => title), ...rows.map((row) => COLUMNS.map(([key, , format]) => format(row[key])))]
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i].length)))
  return cells.map((line) => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n')
}

// ---- main ----

const options = parseOptions()
const bin = path.resolve(process.env.FERRY_BIN || 'build/ferry')
process.env.FERRY_BIN = bin // for startFerry
const version = execFileSync(bin, ['version'], { encoding: 'utf8' }).trim()
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-throughput-'))
process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

const logFile = path.join(workDir, `web.${options.format}.log`)
const chain = options.plugins ? PLUGIN_CHAINS[options.plugins] : null
const { size: logBytes, drops } = generateLog(logFile, { ...options, dropped: chain?.dropped })
// What the endpoint must count: every line but those the plugins drop.
options.expectedLines = options.lines - drops
if (chain) options.sets.push({ key: 'flow.plugins', value: typeof chain.yaml === 'function' ? chain.yaml(path.dirname(bin)) : chain.yaml })
console.error(`${version}: ${options.lines} ${options.format} lines, ${(logBytes / MB).toFixed(1)} MB, in ${logFile}` +
  (chain ? `; plugins ${options.plugins} (${drops} lines dropped by them)` : ''))
// One throwaway CA and endpoint certificate for every HTTPS run; only ferry's aws.ca_file trusts it.
let tls = null
if (options.scenarios.some((s) => SCENARIOS[s].tls)) {
  const ca = makeTestCa(path.join(workDir, 'ca'))
  const { keyFile, certFile } = ca.issue('endpoint', { dns: ['localhost'], ip: ['127.0.0.1'] })
  tls = { caFile: ca.caFile, keyFile, certFile }
}

const results = []
for (const scenario of options.scenarios) {
  for (let run = 1; run <= options.repeat; run++) {
    const once = SCENARIOS[scenario].send ? runSendOnce : runOnce
    const result = await once({ bin, scenario, run, workDir, logFile, logBytes, tls, options })
    if (result.lines_received !== options.expectedLines || result.endpoint_errors) {
      console.error(`  ${scenario} run ${run}: the endpoint counted ${result.lines_received} lines and ${result.endpoint_errors} refused requests`)
    }
    results.push(result)
  }
}

const summary = options.repeat > 1 ? medians(results) : []
const rows = options.repeat > 1 ? options.scenarios.flatMap((s) => [...results.filter((r) => r.scenario === s), summary.find((m) => m.scenario === s)]) : results
const setText = options.sets.map(({ key, value }) => `${key}=${value}`)
console.log(
  `ferry throughput: ${version}, ${options.lines} ${options.format} lines of ${options.lineBytes} bytes, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}` +
    (setText.length ? `, --set ${setText.join(' ')}` : ''),
)
console.log(table(rows))
for (const r of results.filter((r) => r.endpoint_cpu_s >= ENDPOINT_BOUND * r.wall_s)) {
  console.log(`note: ${r.scenario} run ${r.run}: the endpoint was busy ${Math.round((100 * r.endpoint_cpu_s) / r.wall_s)}% of a core: its rates are bound by the endpoint, not by ferry`)
}
const report = {
  benchmark: 'throughput',
  ferry: version,
  lines: options.lines,
  line_bytes: options.lineBytes,
  format: options.format,
  log_bytes: logBytes,
  cpus: os.cpus().length,
  set: setText,
  results,
  medians: summary,
}
if (options.jsonFile) {
  fs.writeFileSync(options.jsonFile, JSON.stringify(report, null, 2) + '\n')
  console.log(`JSON written to ${options.jsonFile}`)
} else {
  console.log(`JSON: ${JSON.stringify(report)}`)
}
