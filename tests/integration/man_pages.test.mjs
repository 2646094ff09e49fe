// man_pages.test.mjs — man/ferry.1 against what the binary says of itself, and both pages through groff.
// The subcommands and flags come from `ferry --help`, `ferry send --help` and each subcommand's usage line
// (printed on a bad argument); the page must give each subcommand a SYNOPSIS line, a COMMANDS entry and an
// EXIT STATUS entry, and each flag must be in its subcommand's SYNOPSIS and the term of a COMMANDS or OPTIONS
// entry. The other way round, a subcommand or flag the SYNOPSIS names that the binary does not is stale.
// Every environment variable the agent's sources name (a string literal like "AWS_REGION") is in ENVIRONMENT.
// (The keys of ferry.yaml(5) are compared in the unit tests, tests/unit/man_page_keys_test.cpp.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { ferryBinary } from './lib/ferry.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const MAN_DIR = path.join(ROOT, 'man')

function ferry(args) {
  const r = spawnSync(ferryBinary(), args, { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const FLAG = /(?<![\w-])--?[a-z][a-z-]*/g
const flagsIn = (text) => new Set(text.match(FLAG) ?? [])

// `ferry --help`: "  NAME [flags...]   description" lines; the part before the wide gap is the usage.
function helpCommands() {
  const r = ferry(['--help'])
  assert.equal(r.code, 0, r.stderr)
  const commands = new Map()
  for (const line of r.stdout.split('\n')) {
    const m = /^ {2}([a-z]+)\b(.*)$/.exec(line)
    if (!m) continue
    const usage = m[2].split(/ {2,}/)[0]
    const flags = commands.get(m[1]) ?? new Set()
    for (const f of flagsIn(usage)) flags.add(f)
    commands.set(m[1], flags)
  }
  return commands
}

// Each subcommand's own usage: `send --help`, the others' "(usage: ferry X ...)" on a bad argument.
function ownUsage(command) {
  if (command === 'send') {
    const r = ferry(['send', '--help'])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.split('\n\n')[0]
  }
  const r = ferry([command, '--no-such-flag'])
  assert.equal(r.code, 2, `ferry ${command} --no-such-flag: ${r.stderr}`)
  const m = /usage: (ferry [^)]*)\)/.exec(r.stderr)
  assert.ok(m, `ferry ${command} --no-such-flag prints no usage: ${r.stderr}`)
  return m[1]
}

// The page's source as text: escapes and font changes taken out, request names and quotes dropped.
const plain = (line) =>
  line
    .replace(/\\-/g, '-')
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\&/g, '')
    .replace(/^\.[A-Z]{1,2} ?/, '')
    .replace(/"/g, '')

function sections(page) {
  const out = new Map()
  let name = ''
  for (const line of page.split('\n')) {
    if (line.startsWith('.SH ')) {
      name = line.slice(4).replace(/"/g, '')
      out.set(name, [])
    } else if (name) out.get(name).push(line)
  }
  return out
}

// The terms of a section's .TP entries, as plain text.
const terms = (lines) => lines.flatMap((line, i) => (line === '.TP' && i + 1 < lines.length ? [plain(lines[i + 1])] : []))

// SYNOPSIS: one entry per .br-separated block, keyed by the subcommand after "ferry".
function synopsis(lines) {
  const blocks = []
  let block = []
  for (const line of [...lines, '.br']) {
    if (line === '.br') {
      if (block.length) blocks.push(block.map(plain).join(' ').replace(/\s+/g, ' ').trim())
      block = []
    } else block.push(line)
  }
  const out = new Map()
  for (const text of blocks) {
    const m = /^ferry ([a-z]+)/.exec(text)
    assert.ok(m, `a SYNOPSIS block that is not "ferry COMMAND ...": ${text}`)
    out.set(m[1], (out.get(m[1]) ?? '') + ' ' + text)
  }
  return out
}

test('ferry.1 has a SYNOPSIS line, a COMMANDS entry and an EXIT STATUS entry for every subcommand, with every flag', () => {
  const page = fs.readFileSync(path.join(MAN_DIR, 'ferry.1'), 'utf8')
  const sect = sections(page)
  for (const name of ['SYNOPSIS', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'SIGNALS', 'ENVIRONMENT', 'FILES', 'EXAMPLES', 'SEE ALSO'])
    assert.ok(sect.has(name), `ferry.1 has no ${name} section`)
  const documented = synopsis(sect.get('SYNOPSIS'))
  const commandTerms = terms(sect.get('COMMANDS'))
  const flagTerms = [...commandTerms, ...terms(sect.get('OPTIONS'))].join(' ')
  const exitTerms = terms(sect.get('EXIT STATUS')).join(', ')

  const commands = helpCommands()
  for (const c of ['run', 'send', 'check', 'status', 'top', 'reload', 'version', 'help'])
    assert.ok(commands.has(c), `ferry --help does not list ${c}: the parsing of the help is off`)
  const problems = []
  for (const [command, helpFlags] of commands) {
    const flags = new Set(helpFlags)
    if (!['version', 'help'].includes(command)) for (const f of flagsIn(ownUsage(command))) flags.add(f)
    if (!documented.has(command)) problems.push(`${command}: no SYNOPSIS line`)
    if (!commandTerms.some((t) => t.split(' ')[0] === command)) problems.push(`${command}: no COMMANDS entry`)
    if (!exitTerms.split(/[ ,]+/).includes(command)) problems.push(`${command}: no EXIT STATUS entry`)
    const inSynopsis = flagsIn(documented.get(command) ?? '')
    for (const f of flags) {
      if (!inSynopsis.has(f)) problems.push(`${command} ${f}: not in the SYNOPSIS of ${command}`)
      if (!flagsIn(flagTerms).has(f)) problems.push(`${command} ${f}: no COMMANDS or OPTIONS entry`)
    }
    for (const f of inSynopsis) if (!flags.has(f)) problems.push(`${command} ${f}: in the SYNOPSIS, unknown to ferry ${command}`)
  }
  for (const command of documented.keys()) if (!commands.has(command)) problems.push(`${command}: in the SYNOPSIS, not a subcommand`)
  assert.deepEqual(problems, [])
})

test('groff renders both man pages without a warning', () => {
  for (const page of ['ferry.1', 'ferry.yaml.5']) {
    const r = spawnSync('groff', ['-man', '-ww', '-z', path.join(MAN_DIR, page)], { encoding: 'utf8', timeout: 20000 })
    assert.equal(r.error, undefined, `groff: ${r.error}`)
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '', `${page}: groff warns`)
  }
})

// The variables ferry reads: the string literals of agent/ that look like one. "AWS_ENDPOINT_URL_" is the
// prefix of the per-service names, so a name counts as documented when a documented name starts with it.
function variablesRead() {
  const names = new Set()
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (/\.(cpp|h)$/.test(entry.name))
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/"(AWS_[A-Z0-9_]+|(?:HTTPS?|ALL|NO)_PROXY|(?:https?|all|no)_proxy|NOTIFY_SOCKET|WATCHDOG_[A-Z]+)"/g))
          names.add(m[1])
    }
  }
  walk(path.join(ROOT, 'agent'))
  return names
}

test('ferry.1 ENVIRONMENT names every variable the agent reads', () => {
  const env = sections(fs.readFileSync(path.join(MAN_DIR, 'ferry.1'), 'utf8')).get('ENVIRONMENT').map(plain).join(' ')
  const documented = new Set(env.match(/\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b/g))
  const read = variablesRead()
  assert.ok(read.has('AWS_REGION') && read.size > 10, `the sources' variables were not found: ${[...read]}`)
  const missing = [...read].filter((v) => ![...documented].some((d) => d === v || d.toUpperCase() === v.toUpperCase() || (v.endsWith('_') && d.startsWith(v))))
  assert.deepEqual(missing, [])
})
