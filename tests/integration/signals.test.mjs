// signals.test.mjs — what `ferry run` does with the signals an init system and an operator send.
//
// Role: issue 14 §1.4 and the asynchronous start-up (§3):
//   - SIGHUP (what `systemctl reload` sends) reloads an unchanged config: ferry logs it, keeps running and
//     shipping (reload.test.mjs tests reloads that change something), and a later SIGTERM stops it with
//     exit status 0 and every line delivered once;
//   - while ferry is still resolving its AWS credentials (a credential_process that takes its time),
//     SIGHUP is logged and refused (ferry is still starting), and SIGTERM stops it at once and cleanly: exit status 0, and the
//     credential_process it started is killed, not left behind.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { writeConfig, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { fileContents, compareRecords, describeMismatch } from './lib/lines.mjs'
import { startPutRecordsEndpoint } from './lib/put_records_endpoint.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-signals-'))
  temps.push(tmp)
  return tmp
}

async function waitUntil(predicate, timeoutMs, what, ferry) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${ferryOutputForHumans(ferry)}`)
    await sleep(50)
  }
}

function lines(tag, count) {
  return Array.from({ length: count }, (_, i) => Buffer.from(`${tag} ${i}`))
}

function alive(pid) {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A zombie waiting for init is as good as gone.
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

test('SIGHUP is logged and changes nothing: ferry keeps shipping and stops cleanly on SIGTERM', { timeout: 60000 }, async () => {
  const ep = await startPutRecordsEndpoint()
  const tmp = tempDir()
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, '')
  const configPath = path.join(tmp, 'ferry.yaml')
  writeConfig(configPath, { stateDir: path.join(tmp, 'state'), endpoint: ep.endpoint, stream: 's', files: [logPath] })
  const ferry = startFerry(configPath)
  try {
    await waitUntil(() => ferry.output.stderr.includes('ferry started'), 10000, '"ferry started"', ferry)
    const first = lines('before SIGHUP', 100)
    fs.appendFileSync(logPath, fileContents(first))
    await waitUntil(() => ep.accepted.length >= first.length, 15000, 'the first lines', ferry)

    ferry.kill('SIGHUP')
    await waitUntil(() => /SIGHUP.*reload/.test(ferry.output.stderr), 5000, 'the SIGHUP log line', ferry)
    ferry.kill('SIGHUP')
    await sleep(300)
    assert.equal(ferry.exitStatus, null, `ferry must survive SIGHUP\n${ferryOutputForHumans(ferry)}`)
    assert.equal(ferry.output.stderr.match(/SIGHUP/g).length, 2, 'one line per SIGHUP')

    const second = lines('after SIGHUP', 100)
    fs.appendFileSync(logPath, fileContents(second))
    await waitUntil(() => ep.accepted.length >= first.length + second.length, 15000, 'the lines written after SIGHUP', ferry)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))
    assert.match(stopped.stderr, /ferry stopped/)
    const cmp = compareRecords([...first, ...second], ep.accepted.map((data) => ({ data })))
    assert.ok(cmp.ok, `${describeMismatch(cmp)}\n${ferryOutputForHumans(ferry)}`)
  } finally {
    if (ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})

test('while credentials are being resolved, SIGHUP is harmless and SIGTERM stops ferry cleanly', { timeout: 60000 }, async () => {
  const ep = await startPutRecordsEndpoint()
  const tmp = tempDir()
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, '')
  const configPath = path.join(tmp, 'ferry.yaml')
  const stateDir = path.join(tmp, 'state')
  writeConfig(configPath, { stateDir, endpoint: ep.endpoint, stream: 's', files: [logPath] })
  // No keys in the config: the credential chain runs the profile's credential_process, which is slow.
  fs.writeFileSync(configPath, fs.readFileSync(configPath, 'utf8').replace(/^ {2}(access_key_id|secret_access_key):.*\n/gm, ''))
  const pidFile = path.join(tmp, 'helper.pid')
  const helper = path.join(tmp, 'slow-helper.sh')
  fs.writeFileSync(helper, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`, { mode: 0o755 })
  const awsConfig = path.join(tmp, 'aws-config')
  fs.writeFileSync(awsConfig, `[default]\ncredential_process = ${helper}\n`)
  const ferry = startFerry(configPath, {
    env: {
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  })
  try {
    await waitUntil(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 10000, 'the credential_process to start', ferry)
    const helperPid = Number(fs.readFileSync(pidFile, 'utf8').trim())
    assert.ok(alive(helperPid))

    ferry.kill('SIGHUP')
    await waitUntil(() => /SIGHUP.*reload/.test(ferry.output.stderr), 5000, 'the SIGHUP log line', ferry)
    await sleep(200)
    assert.equal(ferry.exitStatus, null, `ferry must survive SIGHUP while it resolves credentials\n${ferryOutputForHumans(ferry)}`)
    assert.ok(!ferry.output.stderr.includes('ferry started'))

    const signalled = Date.now()
    const stopped = await stopFerry(ferry, 10000)
    const took = Date.now() - signalled
    assert.equal(stopped.code, 0, `SIGTERM while resolving must stop ferry cleanly\n${ferryOutputForHumans(ferry)}`)
    assert.equal(stopped.signal, null)
    assert.ok(took < 8000, `ferry took ${took} ms to stop (the credential_process would have taken 30 s)`)
    assert.match(stopped.stderr, /signal 15: stopping before the flows started/)
    assert.match(stopped.stderr, /ferry stopped/)
    await waitUntil(() => !alive(helperPid), 3000, 'the credential_process to be killed', ferry)
    assert.equal(ep.requests, 0)
  } finally {
    if (ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})
