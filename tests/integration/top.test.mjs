// top.test.mjs — `ferry top`, the live view, read off a real terminal.
//
// Role: issue 18 "Seeing it live". ferry runs two flows (alpha idle, zeta busy) against kinesalite; `ferry top`
// runs in a tmux pane (a private tmux server, 120x30) and the test reads the pane's screen:
//   - both flows' rows are there, zeta's read and sent rates become non-zero, and the sort keys (2, r, s,
//     left arrow) change the marked column and the order of the rows;
//   - while it runs the pane is on the alternate screen with echo and canonical mode off; q quits with exit
//     status 0, and afterwards the alternate screen is gone and `stty -a` in the pane shows echo and icanon;
//   - it survives the daemon's restart (the screen says "not reachable", then shows the flows again) and
//     Ctrl-C quits it with the terminal restored;
//   - with no daemon, q exits 1; SIGTERM ends it with 128+15, the terminal restored;
//   - `ferry top | cat` exits 2 with one line on stderr, and so do a bad flag or interval.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryBinary, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream } from './lib/kinesis.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const TMUX_SOCKET = `ferry-top-test-${process.pid}`
const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`

let tmp, kinesalite, configPath, stateDir, ferry, writer

function tmux(...args) {
  return execFileSync('tmux', ['-L', TMUX_SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' })
}
const screen = (pane) => tmux('capture-pane', '-p', '-t', pane)
const paneFormat = (pane, format) => tmux('display-message', '-p', '-t', pane, format).trim()
const ttyModes = (pane) => execFileSync('stty', ['-a', '-F', paneFormat(pane, '#{pane_tty}')], { encoding: 'utf8' })
const hasMode = (modes, name) => new RegExp(`(^|\\s)${name}(\\s|$)`).test(modes)

// Starts `ferry top ARGS` in a new tmux session named `pane`; when it exits, the pane shows TOP-EXIT=<status>
// and `stty -a` (the shell survives Ctrl-C: it traps SIGINT, and its children get the default action back).
function startTop(pane, args) {
  const command = [ferryBinary(), 'top', ...args].map(shellQuote).join(' ')
  tmux('new-session', '-d', '-s', pane, '-x', '120', '-y', '30', `trap : INT; ${command}; echo TOP-EXIT=$?; stty -a; exec sleep 600`)
}

async function waitForScreen(pane, predicate, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  let text = ''
  for (;;) {
    text = screen(pane)
    if (predicate(text)) return text
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; the screen:\n${text}\n${ferry ? ferryOutputForHumans(ferry, 4000) : ''}`)
    }
    await sleep(100)
  }
}

// The flow rows in screen order: { name, read, sent } with the rates as numbers (NaN for "-").
function flowRows(text) {
  const rows = []
  for (const line of text.split('\n')) {
    const m = /^(alpha|zeta)\s+(\S+)\s+(\S+)\s/.exec(line)
    if (!m) continue
    const rate = (s) => parseFloat(s) * (s.endsWith('k') ? 1e3 : s.endsWith('M') ? 1e6 : 1)
    rows.push({ name: m[1], read: rate(m[2]), sent: rate(m[3]) })
  }
  return rows
}
const order = (text) => flowRows(text).map((r) => r.name).join(',')

function assertRestored(pane, status) {
  const text = screen(pane)
  assert.match(text, new RegExp(`^TOP-EXIT=${status}$`, 'm'), text)
  assert.equal(paneFormat(pane, '#{alternate_on}'), '0', 'the alternate screen is left')
  assert.equal(paneFormat(pane, '#{cursor_flag}'), '1', 'the cursor is shown again')
  // stty -a ran in the pane after ferry top exited: what the shell's next command gets.
  const after = text.slice(text.indexOf('TOP-EXIT='))
  assert.ok(hasMode(after, 'icanon') && hasMode(after, 'echo'), `icanon and echo are back:\n${after}`)
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-top-'))
  stateDir = path.join(tmp, 'state')
  kinesalite = await startKinesalite()
  await createStream(makeClient(kinesalite.endpoint), 's', 1)
  for (const name of ['alpha', 'zeta']) fs.writeFileSync(path.join(tmp, `${name}.log`), '')
  configPath = path.join(tmp, 'ferry.yaml')
  const flow = (name) => [
    `  - name: ${name}`,
    `    files: ["${path.join(tmp, `${name}.log`)}"]`,
    '    start_at: beginning',
    '    kinesis: { stream: s, max_age: 100ms }',
  ]
  fs.writeFileSync(
    configPath,
    [
      `state_dir: ${stateDir}`,
      'aws:',
      '  region: us-east-1',
      '  access_key_id: AKIDFERRYTEST',
      '  secret_access_key: ferry-test-secret',
      `  kinesis_endpoint: ${kinesalite.endpoint}`,
      'flows:',
      ...flow('alpha'),
      ...flow('zeta'),
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  ferry = await startDaemon()
  // zeta is busy the whole time: 200 lines every 100 ms.
  let n = 0
  writer = setInterval(() => {
    const lines = Array.from({ length: 200 }, () => `zeta line ${n++}`)
    fs.appendFileSync(path.join(tmp, 'zeta.log'), lines.join('\n') + '\n')
  }, 100)
})

async function startDaemon() {
  const child = startFerry(configPath)
  const deadline = Date.now() + 10000
  while (!child.output.stderr.includes('ferry started')) {
    if (child.exitStatus || Date.now() > deadline) assert.fail(`ferry did not start\n${ferryOutputForHumans(child)}`)
    await sleep(50)
  }
  return child
}

after(async () => {
  clearInterval(writer)
  try {
    tmux('kill-server')
  } catch {}
  if (ferry) await stopFerry(ferry)
  if (kinesalite) await kinesalite.stop()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

test('ferry top shows both flows with live rates, sorts by key, and q restores the terminal', async () => {
  startTop('keys', ['-c', configPath, '--interval', '250ms'])
  let text = await waitForScreen('keys', (t) => order(t) === 'alpha,zeta' && /\[FLOW\]/.test(t), 'both flows by name')
  assert.match(text, /^ferry \S+ {2}pid \d+ {2}up \S+ {2}region us-east-1 {2}memory [\d.]+ [KMG]iB/m, text)
  assert.equal(paneFormat('keys', '#{alternate_on}'), '1', 'ferry top draws on the alternate screen')
  const running = ttyModes('keys')
  assert.ok(hasMode(running, '-icanon') && hasMode(running, '-echo'), `raw-ish while running:\n${running}`)

  await waitForScreen(
    'keys',
    (t) => flowRows(t).some((r) => r.name === 'zeta' && r.read > 0 && r.sent > 0),
    "zeta's read and sent rates above zero",
  )
  tmux('send-keys', '-t', 'keys', '2')
  await waitForScreen('keys', (t) => /\[READ\/S\]/.test(t) && order(t) === 'zeta,alpha', 'sorted by read/s: zeta first')
  tmux('send-keys', '-t', 'keys', 'r')
  text = await waitForScreen('keys', (t) => /smallest first/.test(t) && order(t) === 'alpha,zeta', 'reversed: alpha first')
  tmux('send-keys', '-t', 'keys', 's')
  await waitForScreen('keys', (t) => /\[SENT\/S\]/.test(t) && /sorted by sent\/s/.test(t), 'the next column: sent/s')
  tmux('send-keys', '-t', 'keys', 'Left')
  await waitForScreen('keys', (t) => /\[READ\/S\]/.test(t), 'the left arrow: back to read/s')
  tmux('send-keys', '-t', 'keys', '?')
  await waitForScreen('keys', (t) => /^keys: q quit/m.test(t), 'the keys line')

  tmux('send-keys', '-t', 'keys', 'q')
  await waitForScreen('keys', (t) => /^TOP-EXIT=/m.test(t), 'ferry top to exit')
  assertRestored('keys', 0)
  const modes = ttyModes('keys')
  assert.ok(hasMode(modes, 'icanon') && hasMode(modes, 'echo'), modes)
})

test('ferry top keeps trying while the daemon restarts, and Ctrl-C restores the terminal', async () => {
  startTop('restart', ['--state-dir', stateDir, '--interval', '250ms'])
  await waitForScreen('restart', (t) => order(t) === 'alpha,zeta', 'both flows')
  await stopFerry(ferry)
  ferry = null
  await waitForScreen('restart', (t) => /^not reachable: .*ferry\.sock/m.test(t), '"not reachable" while ferry is down')
  ferry = await startDaemon()
  await waitForScreen('restart', (t) => order(t) === 'alpha,zeta' && !/not reachable/.test(t), 'the flows again')
  tmux('send-keys', '-t', 'restart', 'C-c')
  await waitForScreen('restart', (t) => /^TOP-EXIT=/m.test(t), 'ferry top to exit on Ctrl-C')
  assertRestored('restart', 0)
})

test('without a daemon q exits 1; SIGTERM exits 143; both restore the terminal', async () => {
  const missing = path.join(tmp, 'no-such-state')
  startTop('absent', ['--state-dir', missing])
  await waitForScreen('absent', (t) => t.includes(`not reachable: ${missing}/ferry.sock`), '"not reachable"')
  tmux('send-keys', '-t', 'absent', 'q')
  await waitForScreen('absent', (t) => /^TOP-EXIT=/m.test(t), 'ferry top to exit')
  assertRestored('absent', 1)

  startTop('term', ['--state-dir', missing])
  await waitForScreen('term', (t) => /not reachable/.test(t), '"not reachable"')
  const shell = paneFormat('term', '#{pane_pid}')
  const top = fs.readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/)[0]
  process.kill(Number(top), 'SIGTERM')
  await waitForScreen('term', (t) => /^TOP-EXIT=/m.test(t), 'ferry top to exit on SIGTERM')
  assertRestored('term', 143)
})

test('ferry top refuses when standard output is not a terminal', () => {
  const r = spawnSync(ferryBinary(), ['top', '--state-dir', stateDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'ferry top: standard output is not a terminal (for a report, use ferry status)\n')
})

test('ferry top names a bad flag or interval and exits 2', () => {
  const cases = [
    [['--interval', '5ms'], 'ferry top: --interval 5ms is out of range (100ms to 1h)\n'],
    [['--interval', 'soon'], /^ferry top: --interval: .*soon/],
    [['--interval'], 'ferry top: --interval needs a duration\n'],
    [['--bogus'], "ferry top: unknown argument '--bogus' (usage: ferry top [-c FILE | --state-dir DIR] [--interval DURATION])\n"],
    [['-c', path.join(tmp, 'none.yaml')], /^ferry top: .*none\.yaml/],
  ]
  for (const [args, message] of cases) {
    const r = spawnSync(ferryBinary(), ['top', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    if (typeof message === 'string') assert.equal(r.stderr, message)
    else assert.match(r.stderr, message)
  }
})
