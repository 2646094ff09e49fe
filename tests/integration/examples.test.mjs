// examples.test.mjs — every file in conf/examples passes `ferry check`, so a copied example starts; a new
// example is checked by being there. An agent.json also converts (`check --convert`), and its conversion
// passes `check` too. So does each config of the EXAMPLES section of man/ferry.yaml.5 (its .nf blocks).
// Hermetic: no AWS_* variable, shared file or metadata service of the host is used; AWS_REGION is set so
// that an example without aws.region still has its standard endpoints checked, as on an EC2 host, rather
// than depending on the machine. `check` does not ask for credentials and the examples' log files need not
// exist (globs that match nothing are valid); what it does need is a state_dir it may write in or create,
// which /var/lib/ferry is only for root: --state-dir gives it a temporary folder.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { ferryBinary } from './lib/ferry.mjs'

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../conf/examples')
const HERMETIC = {
  AWS_REGION: 'eu-west-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
}
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-examples-'))
after(() => fs.rmSync(state, { recursive: true, force: true }))

function ferry(args) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|HTTPS?_PROXY|ALL_PROXY|NO_PROXY)/i.test(k)))
  const r = spawnSync(ferryBinary(), args, { encoding: 'utf8', env: { ...clean, ...HERMETIC }, timeout: 20000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

// Warnings are allowed (an agent.json has keys ferry treats differently); anything else on stderr is not.
function assertValid(r, file) {
  assert.equal(r.code, 0, `ferry check -c ${file}:\n${r.stderr}`)
  assert.match(r.stdout, /^# .*: valid; effective settings with defaults:\n/)
  const other = r.stderr.split('\n').filter((l) => l && !l.startsWith('warning: '))
  assert.deepEqual(other, [], `ferry check -c ${file} printed more than warnings`)
}

const files = fs.readdirSync(EXAMPLES).filter((f) => /\.(ya?ml|json)$/.test(f)).sort()

test('conf/examples holds the five examples', () => {
  for (const f of ['nginx-to-stream.yaml', 'syslog-redact.yaml', 'waf-to-firehose.yaml', 'multiline-app.yaml', 'agent.json'])
    assert.ok(files.includes(f), `conf/examples/${f} is missing`)
})

for (const file of files) {
  test(`ferry check -c conf/examples/${file}`, () => {
    assertValid(ferry(['check', '-c', path.join(EXAMPLES, file), '--state-dir', state]), file)
  })
}

for (const file of files.filter((f) => f.endsWith('.json'))) {
  test(`ferry check --convert conf/examples/${file}, and its ferry.yaml checks`, () => {
    const r = ferry(['check', '--convert', path.join(EXAMPLES, file)])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^# ferry\.yaml converted from the Kinesis Agent config/)
    assert.match(r.stdout, /\nflows:\n/)
    const converted = path.join(state, `${file}.yaml`)
    fs.writeFileSync(converted, r.stdout)
    assertValid(ferry(['check', '-c', converted, '--state-dir', state]), converted)
  })
}

// The .nf ... .fi blocks of the page's EXAMPLES section, with troff's escapes read back.
function manExamples() {
  const page = fs.readFileSync(path.join(EXAMPLES, '../../man/ferry.yaml.5'), 'utf8')
  const section = page.slice(page.indexOf('\n.SH EXAMPLES\n'), page.indexOf('\n.SH SEE ALSO\n'))
  const blocks = [...section.matchAll(/\n\.nf\n([\s\S]*?)\n\.fi\n/g)].map((m) => m[1])
  return blocks.map((b) => b.replace(/\\-/g, '-').replace(/\\\(aq/g, "'").replace(/\\e/g, '\\') + '\n')
}

test('each config of EXAMPLES in man/ferry.yaml.5 passes ferry check', () => {
  const blocks = manExamples()
  assert.ok(blocks.length >= 2, 'man/ferry.yaml.5 has no EXAMPLES blocks (.nf ... .fi)')
  blocks.forEach((text, i) => {
    const file = path.join(state, `man-example-${i + 1}.yaml`)
    fs.writeFileSync(file, text)
    assertValid(ferry(['check', '-c', file, '--state-dir', state]), `${file}:\n${text}`)
  })
})
