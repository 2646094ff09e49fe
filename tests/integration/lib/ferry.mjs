// lib/ferry.mjs — run the ferry agent under test.
//
// Role: find the ferry binary (FERRY_BIN), write a ferry config pointing at the test's Kinesis
// endpoint, start `ferry run -c <config>` with its stdout/stderr collected for failure messages,
// and stop it with SIGTERM the way an init system would.
//
//   const child = startFerry(configPath)     // a ChildProcess plus .output / .exited / .exitStatus
//   const { code, signal, stderr } = await stopFerry(child)
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'

const OUTPUT_KEEP = 4 * 1024 * 1024 // keep at most the last 4 MiB of each of ferry's stdout and stderr
const KILL_WAIT_MS = 5000

// The ferry executable to test: $FERRY_BIN, which must name an executable file.
export function ferryBinary() {
  const bin = process.env.FERRY_BIN
  if (!bin) {
    throw new Error(
      'FERRY_BIN is not set: point it at the ferry executable to test, ' +
        'e.g. FERRY_BIN=$PWD/build/ferry node --test tests/integration/',
    )
  }
  try {
    fs.accessSync(bin, fs.constants.X_OK)
  } catch (err) {
    throw new Error(`FERRY_BIN=${bin} is not an executable file (${err.code})`)
  }
  return bin
}

// A YAML double-quoted scalar. Escapes what YAML requires plus anything that could be read as a
// line break (C0/C1 controls, DEL, U+2028/U+2029) or a BOM.
export function yamlQuote(s) {
  return (
    '"' +
    String(s).replace(/[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => {
      if (c === '\\') return '\\\\'
      if (c === '"') return '\\"'
      return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
    }) +
    '"'
  )
}

// A scalar written plain when that is unambiguous (paths, URLs, names), double-quoted otherwise.
function yamlScalar(s) {
  s = String(s)
  const plainSafe = /^[A-Za-z_/.][A-Za-z0-9_/.:@+-]*$/.test(s) && !/^(true|false|yes|no|on|off|y|n|null|~)$/i.test(s)
  return plainSafe ? s : yamlQuote(s)
}

// Write a ferry config file with one flow shipping `files` to Kinesis stream `stream`.
export function writeConfig(path, { stateDir, endpoint, stream, files, startAt = 'beginning', flowName = 'e2e' }) {
  for (const [k, v] of Object.entries({ stateDir, endpoint, stream })) {
    if (!v) throw new Error(`writeConfig: ${k} is required`)
  }
  if (!Array.isArray(files) || files.length === 0) throw new Error('writeConfig: files must be a non-empty array')
  const yaml =
    [
      `state_dir: ${yamlScalar(stateDir)}`,
      `aws:`,
      `  region: us-east-1`,
      `  access_key_id: AKIDFERRYTEST`,
      `  secret_access_key: ferry-test-secret`,
      `  kinesis_endpoint: ${yamlScalar(endpoint)}`,
      `flows:`,
      `  - name: ${yamlScalar(flowName)}`,
      `    files: [${files.map(yamlQuote).join(', ')}]`,
      `    start_at: ${yamlScalar(startAt)}`,
      `    kinesis:`,
      `      stream: ${yamlScalar(stream)}`,
    ].join('\n') + '\n'
  // Only its owner may read it: it holds (test) keys, and ferry warns about a world-readable secret.
  fs.writeFileSync(path, yaml, { mode: 0o600 })
  fs.chmodSync(path, 0o600)
  return yaml
}

// Start `ferry run -c <configPath>`. Returns the ChildProcess with, in addition:
//   .output      { stdout, stderr } — text collected so far (the last 4 MiB of each)
//   .exited      Promise<{ code, signal }> resolving when ferry has exited
//   .exitStatus  null while running, then { code, signal }
// AWS_* variables are removed from ferry's environment so that it can only use the config's
// fake credentials and endpoint, never a developer's real ones. opts.env adds variables; opts.prefix
// is a command that runs ferry (e.g. setpriv with its options).
export function startFerry(configPath, { args = [], env = {}, prefix = [] } = {}) {
  const bin = ferryBinary()
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const argv = [...prefix, bin, 'run', '-c', configPath, ...args]
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...childEnv, ...env },
  })
  child.output = { stdout: '', stderr: '' }
  for (const name of ['stdout', 'stderr']) {
    child[name].setEncoding('utf8')
    child[name].on('data', (s) => {
      child.output[name] = (child.output[name] + s).slice(-OUTPUT_KEEP)
    })
  }
  // Never leave ferry running when the test process exits without stopping it.
  const killOnExit = () => {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  process.on('exit', killOnExit)
  child.exitStatus = null
  // 'close' (not 'exit') so that the output is complete once this resolves.
  child.exited = new Promise((resolve) => {
    child.once('close', (code, signal) => {
      if (child.exitStatus) return // already reported by 'error'
      child.exitStatus = { code, signal }
      process.removeListener('exit', killOnExit)
      resolve(child.exitStatus)
    })
    child.once('error', (err) => {
      // spawn failure: no 'close' may follow
      child.output.stderr += `\n[test harness] failed to start ${bin}: ${err.message}\n`
      child.exitStatus = { code: null, signal: null, error: err }
      process.removeListener('exit', killOnExit)
      resolve(child.exitStatus)
    })
  })
  return child
}

// Stop ferry with SIGTERM and wait for it to exit. Returns { code, signal, stdout, stderr }.
// If it has not exited after timeoutMs it is SIGKILLed and this throws (with its stderr).
// If it had already exited, returns how it exited without signalling anything.
export async function stopFerry(child, timeoutMs = 30000) {
  if (child.exitStatus === null) {
    child.kill('SIGTERM')
    let timer
    const timedOut = await Promise.race([
      child.exited.then(() => false),
      new Promise((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ])
    clearTimeout(timer)
    if (timedOut) {
      child.kill('SIGKILL')
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, KILL_WAIT_MS).unref())])
      throw new Error(
        `ferry did not exit within ${timeoutMs} ms of SIGTERM and was killed with SIGKILL\n` + ferryOutputForHumans(child),
      )
    }
  }
  const { code, signal } = child.exitStatus
  return { code, signal, stdout: child.output.stdout, stderr: child.output.stderr }
}

// The tail of ferry's stderr (and stdout, if any), formatted for an assertion message.
export function ferryOutputForHumans(child, maxChars = 20000) {
  const tail = (s) => (s.length > maxChars ? `[... ${s.length - maxChars} chars before this ...]\n` + s.slice(-maxChars) : s)
  let text = `--- ferry stderr ---\n${tail(child.output.stderr)}`
  if (child.output.stdout) text += `\n--- ferry stdout ---\n${tail(child.output.stdout)}`
  return text
}

// `ferry status --state-dir stateDir` (with --json: the parsed report). A ferry just started opens its
// status socket only once its config is checked and its flows set up, so while `status` says no ferry is
// running this asks again, for up to waitMs; any other failure is thrown at once.
export async function ferryStatus(stateDir, { json = true, waitMs = 30000 } = {}) {
  const args = ['status', '--state-dir', stateDir, ...(json ? ['--json'] : [])]
  const deadline = Date.now() + waitMs
  for (;;) {
    const got = await new Promise((resolve) =>
      execFile(ferryBinary(), args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ err, stdout, stderr })),
    )
    if (!got.err) return json ? JSON.parse(got.stdout) : got.stdout
    if (!/no ferry is running/.test(got.stderr) || Date.now() > deadline) {
      throw new Error(`ferry ${args.join(' ')} failed (${got.err.code ?? got.err.signal}): ${got.stderr}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
