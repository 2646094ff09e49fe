// agent_json.test.mjs — an unmodified Kinesis Agent agent.json, as `ferry check` and `ferry run` take it.
//
// First: every example configuration under tests/data/agent-json passes `ferry check -c`, and so does what
// `ferry check --convert` prints for it; every broken one fails with exit 2 and an error naming the file,
// the line and the key.
//
// Then end to end: the Kinesis Agent's own example config (configuration/example/agent.json: a CSVTOJSON
// flow read from the end of its file and a LOGTOJSON COMMONAPACHELOG flow read from the start), with only
// its file patterns, kinesis.endpoint (kinesalite) and kinesis.region changed, runs under `ferry run`:
// every line arrives once, as the agent would have sent it (one record per line, compact JSON with the
// agent's field names, ending with one newline as the agent's converters end it), and the lines LOGTOJSON
// cannot parse are dropped, as the agent drops them.
//
// Run: FERRY_BIN=/path/to/ferry node --test tests/integration/agent_json.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startKinesalite } from './lib/kinesalite.mjs'
import { makeClient, createStream, readAll, waitForRecords } from './lib/kinesis.mjs'
import { ferryBinary, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'

const DATA = fileURLToPath(new URL('../data/agent-json/', import.meta.url))
const WAIT_MS = 20000

function ferry(args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const r = spawnSync(ferryBinary(), args, { encoding: 'utf8', env: { ...env, AWS_REGION: 'us-east-1' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('the example agent.json files and their --convert output pass ferry check; broken ones name line and key', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-agent-json-'))
  try {
    const stateDir = path.join(tmp, 'state')
    const examples = fs.readdirSync(DATA).filter((f) => f.endsWith('.json'))
    assert.ok(examples.length >= 5, `examples: ${examples}`)
    for (const name of examples) {
      const file = path.join(DATA, name)
      const checked = ferry(['check', '-c', file, '--state-dir', stateDir])
      assert.equal(checked.code, 0, `${name}: ${checked.stderr}`)
      assert.match(checked.stdout, /valid; effective settings/)
      const converted = ferry(['check', '--convert', file])
      assert.equal(converted.code, 0, `${name} --convert: ${converted.stderr}`)
      const yaml = path.join(tmp, name.replace(/\.json$/, '.yaml'))
      fs.writeFileSync(yaml, converted.stdout, { mode: 0o600 })
      const again = ferry(['check', '-c', yaml, '--state-dir', stateDir])
      assert.equal(again.code, 0, `${name} converted: ${again.stderr}\n${converted.stdout}`)
      // The same flows, whichever file ferry read.
      const flows = (out) => out.slice(out.indexOf('\nflows:'))
      assert.equal(flows(again.stdout), flows(checked.stdout), name)
    }
    for (const name of fs.readdirSync(path.join(DATA, 'broken'))) {
      const file = path.join(DATA, 'broken', name)
      const r = ferry(['check', '-c', file, '--state-dir', stateDir])
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: (flows|\\w)`, 'm'), name)
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})

test("the Kinesis Agent's example agent.json runs end to end: every line once", { timeout: 60000 }, async (t) => {
  ferryBinary()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-agent-json-run-'))
  let passed = false
  let kinesalite, ferryChild
  try {
    kinesalite = await startKinesalite()
    const client = makeClient(kinesalite.endpoint)
    const agent = JSON.parse(fs.readFileSync(path.join(DATA, 'kinesis-agent-example.json'), 'utf8'))
    await createStream(client, agent.flows[0].kinesisStream, 2)
    await createStream(client, agent.flows[1].kinesisStream, 1)

    const csvLog = path.join(tmp, 'test1.log')
    const apacheLog = path.join(tmp, 'test2.log')
    agent.flows[0].filePattern = `${csvLog}*`
    agent.flows[1].filePattern = `${apacheLog}*`
    agent['kinesis.endpoint'] = kinesalite.endpoint
    agent['kinesis.region'] = 'us-east-1'
    agent.checkpointFile = path.join(tmp, 'agent-checkpoints') // warned about, not used
    const configPath = path.join(tmp, 'agent.json')
    fs.writeFileSync(configPath, JSON.stringify(agent, null, 2), { mode: 0o600 })

    // START_OF_FILE: lines already there are sent; the agent drops lines LOGTOJSON cannot parse.
    const apache = []
    let text = ''
    for (let i = 0; i < 600; i++) {
      const line = `10.0.${i >> 8}.${i & 255} - user${i} [05/Dec/2026:07:58:${String(i % 60).padStart(2, '0')} +0000] ` +
        `"GET /item/${i} HTTP/1.1" 200 ${100 + i}`
      apache.push({ i, line })
      text += line + '\n'
      if (i % 100 === 50) text += `not an access log line ${i}\n`
    }
    fs.writeFileSync(apacheLog, text)
    fs.writeFileSync(csvLog, '') // END_OF_FILE: only what is written after the start

    ferryChild = startFerry(configPath, { args: ['--state-dir', path.join(tmp, 'state')] })
    const first = await waitForRecords(client, agent.flows[1].kinesisStream, apache.length, WAIT_MS, { intervalMs: 200 })
    assert.equal(first.length, apache.length, ferryOutputForHumans(ferryChild))

    // The CSV flow started with its file at the end; what is appended now is sent.
    const csv = []
    for (let chunk = 0; chunk < 4; chunk++) {
      let lines = ''
      for (let k = 0; k < 250; k++) {
        const i = chunk * 250 + k
        csv.push(i)
        lines += `${i}\tname ${i}\t${(i * 1.5).toFixed(1)}\n`
      }
      fs.appendFileSync(csvLog, lines)
    }
    await waitForRecords(client, agent.flows[0].kinesisStream, csv.length, WAIT_MS, { intervalMs: 200 })
    await new Promise((r) => setTimeout(r, 500)) // anything sent twice arrives too
    const stopped = await stopFerry(ferryChild)
    assert.equal(stopped.code, 0, ferryOutputForHumans(ferryChild))
    // The keys ferry treats differently were named once each.
    for (const key of ['checkpointFile', 'cloudwatch.emitMetrics', 'userDefinedCredentialsProvider.classname']) {
      assert.equal(stopped.stderr.split(`: ${key}: `).length - 1, 1, `${key} warned once\n${stopped.stderr}`)
    }

    // The agent's records: `{...}\n`, the JSON compact and the line's newline after it (record_newline).
    const records = async (stream) => (await readAll(client, stream)).map((r) => {
      const data = r.data.toString('utf8')
      assert.ok(data.endsWith('}\n'), `ends with one newline: ${JSON.stringify(data)}`)
      const rec = JSON.parse(data)
      assert.equal(data, JSON.stringify(rec) + '\n')
      return rec
    })
    const apacheRecords = await records(agent.flows[1].kinesisStream)
    assert.equal(apacheRecords.length, apache.length)
    const byIndex = new Map()
    for (const rec of apacheRecords) {
      const i = Number(/\/item\/(\d+) /.exec(rec.request)[1])
      assert.equal(byIndex.has(i), false, `line ${i} twice`)
      byIndex.set(i, rec)
    }
    for (const { i } of apache) {
      assert.deepEqual(byIndex.get(i), {
        host: `10.0.${i >> 8}.${i & 255}`, ident: null, authuser: `user${i}`,
        datetime: `05/Dec/2026:07:58:${String(i % 60).padStart(2, '0')} +0000`,
        request: `GET /item/${i} HTTP/1.1`, response: '200', bytes: String(100 + i),
      })
    }

    const csvRecords = await records(agent.flows[0].kinesisStream)
    assert.equal(csvRecords.length, csv.length)
    const ids = csvRecords.map((r) => Number(r.field1)).sort((a, b) => a - b)
    assert.deepEqual(ids, csv)
    for (const r of csvRecords) assert.deepEqual(r, { field1: r.field1, field2: `name ${r.field1}`, field3: (r.field1 * 1.5).toFixed(1) })
    t.diagnostic(`${apache.length} access-log lines and ${csv.length} CSV lines, each once`)
    passed = true
  } finally {
    if (ferryChild && ferryChild.exitStatus === null) await stopFerry(ferryChild).catch(() => {})
    if (kinesalite) await kinesalite.stop()
    if (passed) fs.rmSync(tmp, { recursive: true, force: true })
    else console.error(`kept ${tmp}`)
  }
})
