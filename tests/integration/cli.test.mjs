// cli.test.mjs — the `ferry` command line as a user meets it: help, version, `check`, and `run` refusing
// a bad config or missing credentials before it does anything.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryBinary } from './lib/ferry.mjs'

function ferry(args, { env } = {}) {
  // The host's own AWS set-up (variables, ~/.aws, a metadata service) must not leak in.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const hermetic = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' }
  const r = spawnSync(ferryBinary(), args, { encoding: 'utf8', env: { ...clean, ...hermetic, ...env }, timeout: 20000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const temps = []
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-'))
  temps.push(dir)
  return dir
}

function tempConfig(text) {
  const dir = tempDir()
  const file = path.join(dir, 'ferry.yaml')
  fs.writeFileSync(file, text)
  return { dir, file }
}

const GOOD = (stateDir) => `state_dir: ${stateDir}
aws:
  region: eu-west-1
flows:
  - name: app
    files: ["/tmp/does-not-matter-*.log"]
    kinesis:
      stream: app-logs
`

test('--help lists every subcommand; version prints the version', () => {
  for (const flag of ['--help', 'help', '-h']) {
    const r = ferry([flag])
    assert.equal(r.code, 0)
    for (const cmd of ['run', 'check', 'version']) assert.match(r.stdout, new RegExp(`^  ${cmd} `, 'm'))
  }
  const v = ferry(['version'])
  assert.equal(v.code, 0)
  assert.match(v.stdout, /^ferry \d+\.\d+\.\d+\n$/)
  assert.equal(ferry([]).code, 2)
  const bad = ferry(['frobnicate'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown command 'frobnicate'/)
})

test('check prints the effective config of a good file and hides secrets', () => {
  const dir = tempDir()
  const withKeys = tempConfig(
    GOOD(path.join(dir, 'state')).replace('  region: eu-west-1\n', '  region: eu-west-1\n  access_key_id: AKIAIOSFODNN7EXAMPLE\n  secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n'),
  )
  const r = ferry(['check', '-c', withKeys.file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /start_at: end/)
  assert.match(r.stdout, /max_age: 1s/)
  assert.match(r.stdout, /access_key_id: "\*{16}MPLE"/)
  assert.doesNotMatch(r.stdout, /AKIAIOSFODNN7EXAMPLE/)
  assert.doesNotMatch(r.stdout, /wJalrXUtnFEMI/)
  const keys = ferry(['check', '--keys'])
  assert.equal(keys.code, 0)
  for (const key of ['state_dir', 'aws.kinesis_endpoint', 'flows[].files', 'flows[].start_at', 'flows[].kinesis.stream'])
    assert.match(keys.stdout, new RegExp(`^${key.replace(/[[\].]/g, '\\$&')} `, 'm'))
})

test('a bad config is refused with every error located by file:line:column, before anything is done', () => {
  const stateDir = path.join(os.tmpdir(), `ferry-cli-never-${process.pid}`)
  const { file } = tempConfig(`state_dir: ${stateDir}
aws:
  region: eu-west-1
  kinesis_endpiont: http://127.0.0.1:1
flows:
  - name: app
    files: "/var/log/app.log"
    start_at: middle
    kinesis:
      stream: [a, b]
      max_age: soon
`)
  for (const cmd of ['check', 'run']) {
    const r = ferry([cmd, '-c', file])
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`)
    const errors = r.stderr.trim().split('\n')
    assert.deepEqual(errors, [
      `${file}:4:3: aws.kinesis_endpiont: unknown key (known keys here: region, access_key_id, secret_access_key, session_token, profile, role_arn, external_id, role_session_name, use_fips, imds_v1_fallback, kinesis_endpoint, firehose_endpoint, sts_endpoint, ca_file, proxy, no_proxy, connect_timeout, request_timeout)`,
      `${file}:8:15: flows[0].start_at: 'middle' is not one of: end, beginning`,
      `${file}:10:15: flows[0].kinesis.stream: expected a string, found a list`,
      `${file}:11:16: flows[0].kinesis.max_age: 'soon' is not a duration (a whole number with a unit: ms, s, m, h)`,
    ])
  }
  assert.equal(fs.existsSync(stateDir), false, 'run must not create state_dir for a bad config')
  const missing = ferry(['check', '-c', '/nonexistent/ferry.yaml'])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /\/nonexistent\/ferry\.yaml: cannot open config file/)
  const flag = ferry(['run', '--bogus'])
  assert.equal(flag.code, 2)
  assert.match(flag.stderr, /unknown argument '--bogus'/)
})

test('run without credentials names the providers it tried and exits non-zero', () => {
  const dir = tempDir()
  const { file } = tempConfig(GOOD(path.join(dir, 'state')))
  const r = ferry(['run', '-c', file])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /no AWS credentials found; tried: config \(aws\.access_key_id is not set\), environment \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\), web identity \(AWS_WEB_IDENTITY_TOKEN_FILE is not set\), profile default \(\/nonexistent\/config and \/nonexistent\/credentials have no such profile\), ECS container \(.*\), EC2 instance metadata \(AWS_EC2_METADATA_DISABLED is true\)/)
  const noRegion = tempConfig(GOOD(path.join(dir, 'state')).replace('  region: eu-west-1\n', ''))
  const r2 = ferry(['run', '-c', noRegion.file], { env: { AWS_ACCESS_KEY_ID: 'AKIDX', AWS_SECRET_ACCESS_KEY: 'x' } })
  assert.equal(r2.code, 2, r2.stderr)
  assert.match(r2.stderr, /no AWS region: set aws\.region in the config, AWS_REGION or AWS_DEFAULT_REGION, or region in profile default; the EC2 instance metadata service had none \(AWS_EC2_METADATA_DISABLED is true\)/)
})
