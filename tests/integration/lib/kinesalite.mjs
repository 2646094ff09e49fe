// lib/kinesalite.mjs — start and stop the kinesalite Kinesis emulator for a test.
//
// Role: spawns ../kinesalite-server.cjs (kinesalite bound to 127.0.0.1) as a child process with
// node, waits for its {"port":N} line and hands back the endpoint. stop() kills it and waits for
// it to be gone. The child is also killed if this process exits without calling stop() (an
// 'exit' handler), and — because the server is told to exit when its stdin closes and we hold
// that pipe — even if this process is SIGKILLed.
//
//   const k = await startKinesalite()   // { endpoint: 'http://127.0.0.1:N', port, pid, stop }
//   ...
//   await k.stop()
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SERVER_SCRIPT = fileURLToPath(new URL('../kinesalite-server.cjs', import.meta.url))
const START_TIMEOUT_MS = 20000
const KILL_GRACE_MS = 5000
const STDERR_KEEP = 64 * 1024 // keep at most this much of the emulator's stderr

// startKinesalite({ port = 0 } = {}) — port 0 lets the OS choose a free port.
export async function startKinesalite({ port = 0 } = {}) {
  const child = spawn(process.execPath, [SERVER_SCRIPT, String(port), '--exit-on-stdin-close'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })

  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s) => {
    stderr = (stderr + s).slice(-STDERR_KEEP)
  })
  child.stdin.on('error', () => {}) // EPIPE if the child is already gone; nothing to do

  // Resolves with { code, signal } once the child has exited (and been reaped).
  let exitStatus = null
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal }
      resolve(exitStatus)
    })
  })

  // Last resort: never leave an emulator behind when the test process goes away.
  const killOnExit = () => {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  process.on('exit', killOnExit)

  let actualPort
  try {
    actualPort = await waitForPortLine(child, exited, () => stderr)
  } catch (err) {
    killOnExit()
    // 'exit' may never come if the spawn itself failed, so don't wait forever.
    await Promise.race([exited, new Promise((r) => setTimeout(r, KILL_GRACE_MS).unref())])
    process.removeListener('exit', killOnExit)
    throw err
  }
  child.stdout.resume() // keep draining stdout so the child can never block on a full pipe

  let stopping = null
  async function stop() {
    if (!stopping) {
      stopping = (async () => {
        if (exitStatus === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS)
          await exited
          clearTimeout(timer)
        }
        child.stdin.destroy()
        process.removeListener('exit', killOnExit)
        return exitStatus
      })()
    }
    return stopping
  }

  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    pid: child.pid,
    stop,
    stderr: () => stderr, // for failure messages
  }
}

// Wait for the server's single stdout line {"port":N}; reject on timeout or early exit.
function waitForPortLine(child, exited, getStderr) {
  return new Promise((resolve, reject) => {
    let out = ''
    let settled = false
    const finish = () => {
      settled = true
      clearTimeout(timer)
      child.stdout.removeListener('data', onData)
      child.removeListener('error', onError)
    }
    const fail = (why) => {
      if (settled) return
      finish()
      reject(new Error(`kinesalite did not start: ${why}\n--- kinesalite stderr ---\n${getStderr()}`))
    }
    const onData = (s) => {
      out += s
      const nl = out.indexOf('\n')
      if (nl < 0) return
      const line = out.slice(0, nl)
      let port
      try {
        port = JSON.parse(line).port
      } catch {}
      if (!Number.isInteger(port) || port <= 0) return fail(`unexpected stdout line ${JSON.stringify(line)}`)
      finish()
      resolve(port)
    }
    const onError = (err) => fail(`spawn failed: ${err.message}`)
    const timer = setTimeout(() => fail(`no {"port":N} line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS)
    // If it dies first, give its stderr a moment to be read fully before reporting.
    exited.then(({ code, signal }) => setTimeout(() => fail(`exited early (code ${code}, signal ${signal})`), 50))
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', onData)
    child.on('error', onError)
  })
}
