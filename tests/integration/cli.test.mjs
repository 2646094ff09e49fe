// cli.test.mjs — the `ferry` command line as a user meets it: help, version, `check`, and `run` refusing
// a bad config or missing credentials before it does anything.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ferryBinary, startFerry, stopFerry, ferryOutputForHumans } from './lib/ferry.mjs'

// The host's own AWS set-up (variables, ~/.aws, a metadata service) must not leak in.
const HERMETIC = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' }

// prefix: a command that runs ferry (setpriv, so that permission bits apply to root too).
function ferry(args, { env, prefix = [] } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
  const argv = [...prefix, ferryBinary(), ...args]
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...clean, ...HERMETIC, ...env }, timeout: 20000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

// Root reads any file; without these capabilities permission bits apply to it as to the ferry user.
const AS_USER = process.getuid() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : []

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
    for (const cmd of ['run', 'send', 'check', 'version']) assert.match(r.stdout, new RegExp(`^  ${cmd} `, 'm'))
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
  assert.equal(missing.stderr, '/nonexistent/ferry.yaml: cannot open config file: No such file or directory (ENOENT)\n')
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

// Each of these passed `ferry check` ("valid") and then stopped `ferry run`: check must refuse what run
// refuses, with the same lines, since the unit runs `ferry check` as ExecStartPre to keep a bad config from
// starting.
test('check refuses every config run refuses before it starts, with the same errors, exit 2', () => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, 'a-file'), 'not a folder')
  const state = path.join(dir, 'state')
  const withAws = (line) => GOOD(state).replace('  region: eu-west-1\n', `  region: eu-west-1\n${line}\n`)
  const cases = [
    {
      what: 'a missing aws.ca_file',
      text: withAws('  ca_file: /nonexistent/ferry-ca.pem'),
      error: (f) => `${f}:4:12: aws.ca_file /nonexistent/ferry-ca.pem: opening: No such file or directory (ENOENT)`,
    },
    {
      what: 'an invalid aws.proxy',
      text: withAws('  proxy: socks5://127.0.0.1:1080'),
      error: (f) => `${f}:4:10: aws.proxy: proxy "socks5://127.0.0.1:1080" has the unsupported scheme "socks5" (want http:// or https://)`,
    },
    {
      what: 'an endpoint URL with a path',
      text: withAws('  kinesis_endpoint: http://127.0.0.1:4567/kinesis'),
      error: (f) => `${f}:4:21: aws.kinesis_endpoint: endpoint 'http://127.0.0.1:4567/kinesis' must not have a path (the API is served at /)`,
    },
    {
      what: 'a state_dir that cannot be created',
      text: GOOD(path.join(dir, 'a-file', 'state')),
      error: (f) => `${f}:1:12: state_dir ${dir}/a-file/state: cannot be created: ${dir}/a-file is not a folder`,
    },
  ]
  for (const { what, text, error } of cases) {
    const { file } = tempConfig(text)
    for (const cmd of ['check', 'run']) {
      const r = ferry([cmd, '-c', file], { env: { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', ALL_PROXY: '', all_proxy: '' } })
      assert.equal(r.code, 2, `${cmd} with ${what}: ${r.stderr}`)
      assert.equal(r.stdout, '', `${cmd} with ${what} prints no config`)
      assert.deepEqual(r.stderr.trim().split('\n'), [error(file)], `${cmd} with ${what}`)
    }
  }
  assert.equal(fs.existsSync(state), false, 'neither command creates state_dir for a config it refuses')
})

test('a config path that is a folder or cannot be read says why, naming the path', () => {
  const dir = tempDir()
  const folder = ferry(['check', '-c', dir])
  assert.equal(folder.code, 2)
  assert.equal(folder.stderr, `${dir}: is a directory, not a config file\n`)
  const run = ferry(['run', '-c', dir])
  assert.equal(run.code, 2)
  assert.equal(run.stderr, `${dir}: is a directory, not a config file\n`)

  const { file } = tempConfig(GOOD(path.join(dir, 'state')))
  fs.chmodSync(file, 0o200)
  for (const cmd of ['check', 'run']) {
    const r = ferry([cmd, '-c', file], { prefix: AS_USER })
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stderr, `${file}: cannot open config file: Permission denied (EACCES)\n`)
  }
})

test('a config everyone may read is warned about when it holds a secret, by check and by run', async () => {
  const dir = tempDir()
  const keys = '  region: eu-west-1\n  access_key_id: AKIDFERRYTEST\n  secret_access_key: ferry-test-secret\n  kinesis_endpoint: http://127.0.0.1:9\n'
  const { file } = tempConfig(GOOD(path.join(dir, 'state')).replace('  region: eu-west-1\n', keys))
  const warning = `${file} holds aws.secret_access_key and every user may read it (mode 0644); chmod o-r ${file} (0640 with the group ferry runs as, or 0600), or move the secret to the credentials file or the environment`

  fs.chmodSync(file, 0o644)
  const open = ferry(['check', '-c', file])
  assert.equal(open.code, 0, open.stderr)
  assert.equal(open.stderr, `warning: ${warning}\n`)
  assert.match(open.stdout, /valid; effective settings/)

  const daemon = startFerry(file, { env: HERMETIC })
  try {
    const deadline = Date.now() + 10000
    while (!/ferry started/.test(daemon.output.stderr) && daemon.exitStatus === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    const { code, stderr } = await stopFerry(daemon)
    assert.equal(code, 0, ferryOutputForHumans(daemon))
    const lines = stderr.split('\n')
    assert.equal(lines.filter((l) => l.endsWith(` warning ${warning}`)).length, 1, stderr)
  } finally {
    if (daemon.exitStatus === null) daemon.kill('SIGKILL')
  }

  fs.chmodSync(file, 0o640)
  const closed = ferry(['check', '-c', file])
  assert.equal(closed.code, 0, closed.stderr)
  assert.equal(closed.stderr, '')
})
