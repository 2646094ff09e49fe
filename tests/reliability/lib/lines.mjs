// lib/lines.mjs — the reliability tests' log lines: one per sequence number, rebuilt on demand.
//
// Role: the writer (lib/writer.mjs) appends lineFor(first), lineFor(first + 1), ...; the verdict
// (lib/verdict.mjs) rebuilds the same lines from the sequence numbers alone, so nothing has to remember
// the 600,000 lines of a 30 s run and no side file is needed.
//
//   lineFor(seq) -> string   "<seq, 10 digits> <100-220 bytes of varied text>" (no '\n' or '\r');
//                             a pure function of seq: the same line in every process and every run
//   parseSeq(buf) -> number   the sequence number a record starts with, or -1 if it does not start
//                             with 10 digits and a space
//   preview(buf) -> string    a short printable rendering of a record for failure messages
//
// Every line is distinct (the seq prefix), and the text varies in length (so line ends fall at every
// offset of a read buffer), words, numbers, quotes, brackets, backslashes, tabs and some non-ASCII UTF-8.

// A small seeded PRNG (mulberry32), so a line depends on nothing but its seq.
import { rng } from '../../integration/lib/lines.mjs'

export const SEQ_DIGITS = 10


const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR']
const COMPONENTS = ['http', 'db', 'cache', 'auth', 'queue', 'billing', 'search', 'gc']
const WORDS = [
  'request', 'upstream', 'timeout', 'retry', 'cache', 'miss', 'hit', 'user', 'session', 'token',
  'shard', 'stream', 'flush', 'commit', 'offset', 'rotate', 'inode', 'latency', 'worker', 'queue',
  'lease', 'checkpoint', 'socket', 'handshake', 'payload', 'backoff', 'ok', 'failed', 'accepted', 'the',
]
const KEYS = ['status', 'took_ms', 'bytes', 'attempt', 'user_id', 'shard', 'port', 'rows', 'code']
const ODD = [
  '"quoted \\"inner\\" text"', "'single quoted'", '[bracketed]', '{"json":{"k":[1,2,3]}}', 'C:\\temp\\x.log',
  'a=b&c=d%20e', '<tag attr="v"/>', 'tab\tseparated', '$HOME/${VAR}', '#hash', '100%', 'x|y;z',
]
const UTF8 = ['café', 'naïve', 'Łódź', '日本語', 'größe', 'Ωμέγα', '🚀', 'ñandú', 'Ærø', '中文日志']
const ODD_BYTES = ODD.map((s) => Buffer.byteLength(s))
const UTF8_BYTES = UTF8.map((s) => Buffer.byteLength(s))

export function lineFor(seq) {
  const r = rng(Math.imul(seq, 0x9e3779b1) ^ 0x5bd1e995)
  const pick = (arr) => arr[Math.floor(r() * arr.length)]
  const target = 100 + Math.floor(r() * 101) // bytes of text after the prefix
  let text = `${pick(LEVELS)} [${pick(COMPONENTS)}-${1 + Math.floor(r() * 16)}]`
  let bytes = text.length // ASCII so far
  while (bytes < target) {
    const k = r()
    let tok
    let tokBytes
    if (k < 0.45) {
      tok = pick(WORDS)
      tokBytes = tok.length
    } else if (k < 0.7) {
      tok = `${pick(KEYS)}=${Math.floor(r() * 100000)}`
      tokBytes = tok.length
    } else if (k < 0.8) {
      tok = `id=${Math.floor(r() * 0xffffffff).toString(16).padStart(8, '0')}`
      tokBytes = tok.length
    } else if (k < 0.92) {
      const i = Math.floor(r() * ODD.length)
      tok = ODD[i]
      tokBytes = ODD_BYTES[i]
    } else {
      const i = Math.floor(r() * UTF8.length)
      tok = UTF8[i]
      tokBytes = UTF8_BYTES[i]
    }
    text += ' ' + tok
    bytes += 1 + tokBytes
  }
  return `${String(seq).padStart(SEQ_DIGITS, '0')} ${text}`
}

export function parseSeq(buf) {
  if (buf.length < SEQ_DIGITS + 1 || buf[SEQ_DIGITS] !== 0x20) return -1
  let n = 0
  for (let i = 0; i < SEQ_DIGITS; i++) {
    const c = buf[i]
    if (c < 0x30 || c > 0x39) return -1
    n = n * 10 + (c - 0x30)
  }
  return n
}

export function preview(buf, maxChars = 100) {
  const s = Buffer.isBuffer(buf) ? buf.toString('utf8') : String(buf)
  const shown = s.length > maxChars ? s.slice(0, maxChars) + '…' : s
  return `${JSON.stringify(shown)} (${Buffer.isBuffer(buf) ? buf.length : Buffer.byteLength(s)} bytes)`
}
