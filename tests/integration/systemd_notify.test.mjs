// systemd_notify.test.mjs — `ferry run` under systemd's notify protocol (Type=notify), with the socket
// played by the test: a unix datagram socket bound by a small python3 reader (node has no AF_UNIX
// datagrams), which prints each datagram with the time it came.
//
// Role: proves what systemd would see: READY=1 once the flows have started, a STATUS= summary line,
// WATCHDOG=1 every half of WATCHDOG_USEC from the event loop (and none while the process is stopped with
// SIGSTOP, as a stuck loop would send none; they resume on SIGCONT), RELOADING=1 and READY=1 around a
// reload (SIGHUP), and STOPPING=1 on SIGTERM before a
// clean exit. WATCHDOG_USEC is 400 ms here, so the test takes a few seconds.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'

import { yamlQuote, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'

const CREDENTIALS = { accessKeyId: 'AKIDNOTIFYTEST', secretAccessKey: 'notify-test-secret' }
const REGION = 'eu-west-1'
const STREAM = 'notify-logs'
const WATCHDOG_MS = 400

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

const READER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"ready": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.monotonic() * 1000, "message": data.decode("utf-8", "replace")}), flush=True)
`

// The reader: .messages grows as datagrams come ({ t: ms, message }); resolves once it is bound.
async function startNotifySocket(socketPath) {
  const child = spawn('python3', ['-c', READER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] })
  const messages = []
  let ready
  const bound = new Promise((resolve) => (ready = resolve))
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line)
    if (m.ready) ready()
    else messages.push(m)
  })
  await bound
  return { messages, stop: () => child.kill('SIGKILL') }
}

async function waitFor(what, pred, ferry, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (ferry.exitStatus) assert.fail(`ferry exited while waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pings = (messages) => messages.filter((m) => m.message === 'WATCHDOG=1')

test('READY=1 after start, STATUS= lines, watchdog pings from the loop, STOPPING=1 on SIGTERM', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-notify-'))
  temps.push(tmp)
  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  const socketPath = path.join(tmp, 'notify.sock')
  const notify = await startNotifySocket(socketPath)
  let ferry
  try {
    const logPath = path.join(tmp, 'app.log')
    fs.writeFileSync(logPath, 'one\ntwo\n')
    const configPath = path.join(tmp, 'ferry.yaml')
    fs.writeFileSync(
      configPath,
      [
        `state_dir: ${yamlQuote(path.join(tmp, 'state'))}`,
        `aws:`,
        `  region: ${REGION}`,
        `  access_key_id: ${CREDENTIALS.accessKeyId}`,
        `  secret_access_key: ${CREDENTIALS.secretAccessKey}`,
        `  firehose_endpoint: ${yamlQuote(ep.endpoint)}`,
        `flows:`,
        `  - name: notify`,
        `    files: [${yamlQuote(logPath)}]`,
        `    start_at: beginning`,
        `    firehose: { delivery_stream: ${STREAM} }`,
      ].join('\n') + '\n',
    )
    ferry = startFerry(configPath, { env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: String(WATCHDOG_MS * 1000) } })
    const { messages } = notify

    await waitFor('READY=1', () => messages.some((m) => m.message === 'READY=1'), ferry)
    // Ready means the flows run: their start is logged first.
    assert.match(ferry.output.stderr, /ferry started: 1 flow\(s\)/)
    await waitFor('a STATUS= line', () => messages.some((m) => m.message.startsWith('STATUS=')), ferry)
    const status = messages.find((m) => m.message.startsWith('STATUS=')).message
    assert.match(status, /^STATUS=1 flow; [0-9.]+k? lines\/s read; [0-9.]+ [kMGT]?B behind; spool [0-9.]+ [kMGT]?B$/)
    // Every datagram is one assignment of the protocol's (RELOADING comes with MONOTONIC_USEC).
    for (const m of messages) assert.match(m.message, /^(READY=1|STATUS=.*|WATCHDOG=1)$/)

    // Pings every WATCHDOG_MS / 2.
    const before = pings(messages).length
    await sleep(2000)
    const window = pings(messages).slice(before)
    t.diagnostic(`${window.length} pings in 2 s`)
    assert.ok(window.length >= 6 && window.length <= 12, `${window.length} watchdog pings in 2 s, expected about 10`)
    const gaps = window.slice(1).map((m, i) => m.t - window[i].t)
    gaps.sort((a, b) => a - b)
    const median = gaps[Math.floor(gaps.length / 2)]
    assert.ok(median >= 150 && median <= 300, `median gap between pings ${median} ms, expected ${WATCHDOG_MS / 2}`)

    // A stopped process (as a stuck loop) sends no pings; systemd would time out after WATCHDOG_USEC.
    process.kill(ferry.pid, 'SIGSTOP')
    await sleep(100) // a ping already on its way
    const stoppedAt = pings(messages).length
    await sleep(1200)
    const whileStopped = pings(messages).length - stoppedAt
    process.kill(ferry.pid, 'SIGCONT')
    assert.equal(whileStopped, 0, 'pings while the process was stopped')
    const resumedFrom = pings(messages).length
    await waitFor('pings after SIGCONT', () => pings(messages).length >= resumedFrom + 2, ferry, 5000)

    // A reload (SIGHUP) is framed by RELOADING=1 with the monotonic time, as systemd 253 wants, and READY=1.
    const reloadFrom = messages.length
    process.kill(ferry.pid, 'SIGHUP')
    await waitFor('READY=1 after the reload', () => messages.slice(reloadFrom).some((m) => m.message === 'READY=1'), ferry, 10000)
    const reloading = messages.slice(reloadFrom).filter((m) => m.message.startsWith('RELOADING=1'))
    assert.equal(reloading.length, 1, JSON.stringify(messages.slice(reloadFrom)))
    assert.match(reloading[0].message, /^RELOADING=1\nMONOTONIC_USEC=\d+$/)
    const monotonicUs = Number(reloading[0].message.split('=').pop())
    assert.ok(Math.abs(monotonicUs / 1000 - reloading[0].t) < 1000, 'MONOTONIC_USEC is CLOCK_MONOTONIC now')
    assert.ok(
      messages.indexOf(reloading[0]) < messages.findLastIndex((m) => m.message === 'READY=1'),
      'READY=1 comes after RELOADING=1',
    )

    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    await waitFor('STOPPING=1', () => messages.some((m) => m.message === 'STOPPING=1'), { exitStatus: null }, 2000)
    const ready = messages.findIndex((m) => m.message === 'READY=1')
    const stopping = messages.findIndex((m) => m.message === 'STOPPING=1')
    assert.ok(ready < stopping)
    assert.equal(messages.filter((m) => m.message === 'READY=1').length, 2) // at start and after the reload
  } finally {
    if (ferry && ferry.exitStatus === null) {
      process.kill(ferry.pid, 'SIGCONT')
      await stopFerry(ferry).catch(() => {})
    }
    notify.stop()
    await ep.stop()
  }
})
