// lib/lines.mjs — tricky log lines to ship, and a byte-exact comparison of what arrived.
//
// Role: test data and verdicts shared by the integration tests and the demo.
//   generateLines(count, opts) -> Buffer[]  deterministic, unique, non-empty lines (no '\n'/'\r'):
//       JSON with nested quotes and escapes, leading/trailing/multiple spaces and tabs, quotes and
//       backslashes, non-ASCII UTF-8 (accents, CJK, emoji incl. ZWJ sequences and flags,
//       combining marks), ANSI colour escapes, short and medium lines, a few ~100 KiB lines, and
//       families of lines that differ only in trailing characters (catches trimming).
//   compareRecords(expected, records) -> { ok, missing, duplicated, unexpected }  as multisets of
//       byte strings; describeMismatch(result) formats the first few of each for a failure message.
//   preview(buf) -> short printable form of a line.

// Small seeded PRNG (mulberry32) so a failing run can be reproduced exactly.
export function rng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'request', 'upstream', 'timeout', 'retry', 'ok']
const UNICODE = [
  'Ünïcödé façade crème brûlée',
  'Ærøskøbing Łódź Ñandú',
  '日本語のログメッセージ',
  '中文日志：错误（超时）',
  '한국어 로그',
  'Ελληνικά κείμενα',
  'русский текст',
  'עברית',
  'العربية',
  '🚀🔥✅',
  '👩‍💻 👨‍👩‍👧‍👦', // ZWJ sequences
  '🇩🇪🇯🇵🏳️‍🌈', // flags
  'e\u0301 n\u0303 a\u030a', // combining marks
  '𠜎𠜱𠝹 (CJK ext B, 4-byte)',
  '\ufffd replacement char, \u00a0 nbsp, \u200b zwsp',
]
const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR']

// Default sizes in bytes of the long lines (spread evenly through the file); the even-numbered
// ones are ASCII, the odd-numbered ones are full of multi-byte characters.
const DEFAULT_LONG_LINES = [102399, 102400, 102401, 100 * 1024, 98765]

export function generateLines(count, { seed = 20240601, longLines = DEFAULT_LONG_LINES } = {}) {
  const r = rng(seed)
  const pick = (arr) => arr[Math.floor(r() * arr.length)]
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1))
  const ws = () => Array.from({ length: int(1, 5) }, () => (r() < 0.5 ? ' ' : '\t')).join('')
  const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ')

  // Where the long lines go: evenly spread through the file (at the first index at or after each).
  const longAt = longLines.map((bytes, k) => ({ bytes, k, at: Math.floor(((k + 1) * count) / (longLines.length + 1)) }))

  const lines = []
  const push = (s) => {
    if (lines.length < count) lines.push(s)
  }
  for (let round = 0; lines.length < count; round++) {
    const n = lines.length
    const seq = `seq=${String(n).padStart(6, '0')}`
    if (longAt.length && n >= longAt[0].at) {
      const { bytes, k } = longAt.shift()
      push(longLine(`${seq} long line ${k}: `, k % 2 === 0 ? ['a', 'b', 'c', ' '] : ['ä', '日', '🚀', 'x', ' ', '"', '\\'], bytes))
      continue
    }
    switch (round % 10) {
      case 0: // JSON with nested quotes and escapes
        push(
          JSON.stringify({
            seq: n,
            level: pick(LEVELS),
            msg: `user said "hello \\"${pick(WORDS)}\\""`,
            path: 'C:\\Program Files\\ferry\\log.txt',
            tab: 'a\tb',
            newline: 'first\nsecond', // escaped as \n by JSON, so still one line
            unicode: pick(UNICODE),
            nested: { quote: '"', backslash: '\\', json: JSON.stringify({ inner: `v"${int(0, 999)}"` }) },
            arr: [int(0, 1e6), 'two', null, true, 3.5e-7],
          }),
        )
        break
      case 1: // leading, trailing and repeated spaces and tabs
        push(`${ws()}${seq}${ws()}${words(int(1, 4)).replace(/ /g, () => ws())}${ws()}`)
        break
      case 2: // double quotes and backslashes, ending in a backslash
        push(`${seq} msg="a \\"quoted\\" ${pick(WORDS)}" path=C:\\dir\\file re=^\\d+\\s*$ unc=\\\\server\\share tail=\\`)
        break
      case 3: // non-ASCII UTF-8
        push(`${seq} ${pick(UNICODE)} ${pick(UNICODE)} ${words(2)}`)
        break
      case 4: // an ordinary application log line
        push(`2024-06-01T12:${String(int(0, 59)).padStart(2, '0')}:07.${int(100, 999)}Z ${pick(LEVELS)} [worker-${int(1, 8)}] ${seq} ${words(int(2, 8))} took=${int(1, 5000)}ms`)
        break
      case 5: // very short
        push(r() < 0.5 ? String(n) : `x${n}`)
        break
      case 6: {
        // A family of lines identical except for trailing characters (they share the seq of the
        // first one): an agent that trims or normalises line ends would turn them into duplicates.
        const base = `${seq} trailing-variants ${pick(WORDS)}`
        for (const suffix of ['', ' ', '  ', '\t', ' \t ', '.', '..', '\\']) push(base + suffix)
        break
      }
      case 7: // terminal colour escapes and shell/YAML-ish punctuation
        push(`\u001b[31mERROR\u001b[0m ${seq} {}[]<>&|;$\`'!#%^*~ key: value - item # not a comment '${pick(WORDS)}'`)
        break
      case 8: // medium lines of varied size, around common buffer sizes
        push(longLine(`${seq} medium `, ['m', 'n', ' ', 'é'], pick([1000, 4095, 4096, 4097, 8191, 8192, 8193, int(100, 9000)])))
        break
      default: // plain words
        push(`${seq} ${words(int(1, 12))}`)
    }
  }

  const buffers = lines.map((s) => Buffer.from(s, 'utf8'))
  // The properties the tests rely on.
  const seen = new Set()
  for (const b of buffers) {
    if (b.length === 0) throw new Error('generateLines: empty line')
    if (b.includes(0x0a) || b.includes(0x0d)) throw new Error('generateLines: line contains \\n or \\r')
    const key = b.toString('base64')
    if (seen.has(key)) throw new Error(`generateLines: duplicate line ${preview(b)}`)
    seen.add(key)
  }
  return buffers
}

// prefix + characters cycled from `chars`, padded with ASCII to exactly `bytes` UTF-8 bytes.
function longLine(prefix, chars, bytes) {
  const parts = [prefix]
  let size = Buffer.byteLength(prefix)
  for (let i = 0; ; i++) {
    const c = chars[i % chars.length]
    const cb = Buffer.byteLength(c)
    if (size + cb > bytes) break
    parts.push(c)
    size += cb
  }
  parts.push('z'.repeat(bytes - size))
  return parts.join('')
}

// File contents for `lines`: each line followed by '\n'.
export function fileContents(lines) {
  return Buffer.concat(lines.flatMap((b) => [b, Buffer.from('\n')]))
}

// Compare expected lines (Buffers) with received records ({ data: Buffer }) as multisets of byte
// strings. missing: expected but absent (or fewer times); duplicated: expected but received more
// often; unexpected: received but never expected. Each entry is { data, expected, received }.
export function compareRecords(expected, records) {
  const want = new Map()
  for (const b of expected) want.set(b.toString('base64'), (want.get(b.toString('base64')) || 0) + 1)
  const got = new Map()
  for (const r of records) got.set(r.data.toString('base64'), (got.get(r.data.toString('base64')) || 0) + 1)
  const missing = []
  const duplicated = []
  const unexpected = []
  for (const [key, n] of want) {
    const m = got.get(key) || 0
    if (m < n) missing.push({ data: Buffer.from(key, 'base64'), expected: n, received: m })
    if (m > n) duplicated.push({ data: Buffer.from(key, 'base64'), expected: n, received: m })
  }
  for (const [key, m] of got) {
    if (!want.has(key)) unexpected.push({ data: Buffer.from(key, 'base64'), expected: 0, received: m })
  }
  return { ok: !missing.length && !duplicated.length && !unexpected.length, missing, duplicated, unexpected }
}

// Human-readable account of a compareRecords() result: counts and the first `n` of each kind.
export function describeMismatch({ missing, duplicated, unexpected }, n = 5) {
  const out = []
  const section = (title, items) => {
    if (!items.length) return
    out.push(`${title}: ${items.length}`)
    for (const it of items.slice(0, n)) out.push(`  expected ${it.expected}x, received ${it.received}x: ${preview(it.data)}`)
    if (items.length > n) out.push(`  ... and ${items.length - n} more`)
  }
  section('missing lines', missing)
  section('duplicated lines', duplicated)
  section('unexpected records (not a line of the file)', unexpected)
  return out.join('\n') || 'no differences'
}

// A short, printable, unambiguous rendering of a line: JSON-quoted UTF-8, cut to maxChars;
// bytes that are not valid UTF-8 are shown in hex as well.
export function preview(buf, maxChars = 120) {
  const s = buf.toString('utf8')
  const shown = s.length > maxChars ? s.slice(0, maxChars) + '…' : s
  let text = `${JSON.stringify(shown)} (${buf.length} bytes)`
  if (!Buffer.from(s, 'utf8').equals(buf)) {
    const hex = buf.subarray(0, maxChars / 2).toString('hex')
    text += ` [not UTF-8: hex ${hex}${buf.length > maxChars / 2 ? '…' : ''}]`
  }
  return text
}
