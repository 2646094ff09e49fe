// external_plugins.test.mjs — an external plugin (plugins/external, the C ABI of ferry/plugin.h) in a
// running ferry: the example filter built with ferry drops, rewrites and fails records of a Firehose flow
// exactly as its options say (the failed ones in the dead-letter file, with the plugin's reason), and
// `ferry check` and `ferry run` refuse the same plugin built for another ABI version, naming the entry.
//
// The plugins are built beside the ferry binary (build/plugins/); FERRY_EXAMPLE_PLUGIN_DIR overrides that.
// Run: FERRY_BIN=/path/to/build/ferry node --test tests/integration/external_plugins.test.mjs
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { ferryBinary, yamlQuote, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'
import { startFirehoseEndpoint } from './lib/firehose_endpoint.mjs'

const run = promisify(execFile)
const CREDENTIALS = { accessKeyId: 'AKIDEXTERNALTEST', secretAccessKey: 'external-test-secret' }
const REGION = 'eu-west-1'
const STREAM = 'external-logs'
const WAIT_MS = 30000

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function pluginDir() {
  return process.env.FERRY_EXAMPLE_PLUGIN_DIR || path.join(path.dirname(ferryBinary()), 'plugins')
}

// A Firehose flow reading the log through `plugin` (the YAML of one plugins: item, indented by 6).
function setup(endpoint, lines, plugin) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-external-'))
  temps.push(tmp)
  const logPath = path.join(tmp, 'app.log')
  fs.writeFileSync(logPath, lines.map((l) => l + '\n').join(''))
  const stateDir = path.join(tmp, 'state')
  const configPath = path.join(tmp, 'ferry.yaml')
  fs.writeFileSync(
    configPath,
    [
      `state_dir: ${yamlQuote(stateDir)}`,
      `aws:`,
      `  region: ${REGION}`,
      `  access_key_id: ${CREDENTIALS.accessKeyId}`,
      `  secret_access_key: ${CREDENTIALS.secretAccessKey}`,
      `  firehose_endpoint: ${yamlQuote(endpoint)}`,
      `flows:`,
      `  - name: app`,
      `    files: [${yamlQuote(logPath)}]`,
      `    start_at: beginning`,
      `    plugins:`,
      ...plugin.map((l) => `      ${l}`),
      `    firehose:`,
      `      delivery_stream: ${STREAM}`,
      `      max_age: 200ms`,
    ].join('\n') + '\n',
    { mode: 0o600 },
  )
  return { tmp, stateDir, configPath }
}

test('the example plugin drops, rewrites and fails records as its options say, in a running ferry', { timeout: 60000 }, async (t) => {
  // 600 lines: every 5th to drop, every 7th (not dropped) to fail, the rest upper-cased.
  const lines = []
  for (let i = 0; i < 600; i++) {
    if (i % 5 === 1) lines.push(`line ${i} health-check drop me`)
    else if (i % 7 === 2) lines.push(`line ${i} FAILME please`)
    else lines.push(`line ${i} mixed Case text é`)
  }
  const dropped = lines.filter((l) => l.includes('health-check'))
  const failed = lines.filter((l) => !l.includes('health-check') && l.includes('FAILME'))
  const kept = lines.filter((l) => !dropped.includes(l) && !failed.includes(l)).map((l) => l.toUpperCase().replace('É', 'é'))

  const ep = await startFirehoseEndpoint({ credentials: CREDENTIALS, region: REGION, deliveryStreams: [STREAM] })
  let ferry
  try {
    const plugin = path.join(pluginDir(), 'libferry_example_filter.so')
    const { stateDir, configPath } = setup(ep.endpoint, lines, [
      `- external:`,
      `    path: ${yamlQuote(plugin)}`,
      `    options: { drop_containing: health-check, fail_containing: FAILME, uppercase: true }`,
      `    on_error: dead_letter`,
    ])
    const checked = spawnSync(ferryBinary(), ['check', '-c', configPath], { encoding: 'utf8' })
    assert.equal(checked.status, 0, checked.stderr)

    ferry = startFerry(configPath)
    const deadFile = path.join(stateDir, 'dead-letter', 'app.jsonl')
    const letters = () => (fs.existsSync(deadFile) ? fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean) : [])
    const deadline = Date.now() + WAIT_MS
    while (ep.lines().length < kept.length || letters().length < failed.length) {
      if (ferry.exitStatus) assert.fail(`ferry exited on its own\n${ferryOutputForHumans(ferry)}`)
      if (Date.now() > deadline) assert.fail(`timed out: ${ep.lines().length} lines, ${letters().length} dead letters\n${ferryOutputForHumans(ferry)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const report = JSON.parse((await run(ferryBinary(), ['status', '--state-dir', stateDir, '--json'])).stdout)
    const stopped = await stopFerry(ferry)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferry))

    assert.deepEqual(ep.lines().sort(), [...kept].sort(), 'the stored lines are the kept ones, upper-cased, once each')
    assert.deepEqual(ep.violations, [])
    const dead = letters().map((l) => JSON.parse(l))
    assert.deepEqual(dead.map((l) => l.data).sort(), [...failed].sort())
    for (const l of dead) {
      assert.equal(l.destination, 'plugin external')
      assert.equal(l.error_message, 'contains FAILME')
    }
    const [stage] = report.flows[0].plugins
    assert.equal(stage.name, 'external')
    assert.deepEqual([stage.records_in, stage.dropped, stage.errored, stage.dead_lettered, stage.replaced],
      [lines.length, dropped.length, failed.length, failed.length, kept.length])
    t.diagnostic(`${kept.length} upper-cased, ${dropped.length} dropped, ${failed.length} dead-lettered`)
  } finally {
    if (ferry && ferry.exitStatus === null) await stopFerry(ferry).catch(() => {})
    await ep.stop()
  }
})

test('ferry check and ferry run refuse a plugin built for another ABI, naming the entry', { timeout: 30000 }, async () => {
  const plugin = path.join(pluginDir(), 'libferry_example_filter_abi2.so')
  const { stateDir, configPath } = setup('http://127.0.0.1:9', ['a line'], [`- grep: { exclude: x }`, `- external: { path: ${yamlQuote(plugin)} }`])
  const expected = `${configPath}:13:9: flows[0].plugins[1].external: ${plugin} was built for plugin ABI 2; ` +
    `this ferry loads ABI 1 (rebuild it against this ferry's ferry/plugin.h)`
  for (const cmd of ['check', 'run']) {
    const r = spawnSync(ferryBinary(), [cmd, '-c', configPath], { encoding: 'utf8', timeout: 20000 })
    assert.equal(r.status, 2, `${cmd}: ${r.stdout}${r.stderr}`)
    assert.ok(r.stderr.includes(expected), `${cmd}: ${r.stderr}`)
  }
  assert.equal(fs.existsSync(stateDir), false, 'run must not start with a plugin it cannot load')
})
