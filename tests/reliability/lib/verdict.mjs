// lib/verdict.mjs — what arrived against what was written, as multisets of lines.
//
// Role: the writer reports the sequence numbers it wrote (first..last, every one of them once); the
// endpoint holds the records ferry delivered. verdict() counts, for every line written, how often it
// arrived, and says which were lost (0 times), duplicated (2+ times) and which records are not a line
// that was written (torn, merged, altered or foreign records). Lines are rebuilt from their sequence
// numbers (lib/lines.mjs), so a record counts only if it is byte for byte the line of its seq.
//
//   const v = verdict({ first, last }, records)   // records: Buffers or { data: Buffer }
//   v.written, v.received, v.delivered (distinct lines that arrived), v.lost, v.duplicated (distinct
//   lines that arrived 2+ times), v.extraCopies (records beyond the first copy of each line),
//   v.unexpected, v.lostRuns / v.duplicatedRuns ([from, to] seq ranges, at most MAX_RUNS kept;
//   v.lostRunCount / v.duplicatedRunCount count them all), v.duplicatedSamples ([{ seq, copies }]),
//   v.unexpectedSamples (Buffers), v.ok (nothing lost, duplicated or unexpected)
//   describeVerdict(v, n) -> text with the counts and the first n of each kind
//   countSeqs({ first, last }, buffers) -> Uint32Array of how often each line occurs in some bytes
//       (e.g. the log files on disk), for telling ferry's losses from losses of the files themselves
import { lineFor, parseSeq, preview } from './lines.mjs'

const MAX_RUNS = 1000
const MAX_SAMPLES = 20

// Runs of consecutive indexes whose count satisfies pred, as [first + i, first + j] ranges.
function runs(counts, first, pred) {
  const out = []
  let count = 0
  let start = -1
  for (let i = 0; i <= counts.length; i++) {
    const hit = i < counts.length && pred(counts[i])
    if (hit && start < 0) start = i
    if (!hit && start >= 0) {
      count++
      if (out.length < MAX_RUNS) out.push([first + start, first + i - 1])
      start = -1
    }
  }
  return { runs: out, count }
}

export function verdict({ first, last }, records, { lineOf = lineFor } = {}) {
  if (!Number.isInteger(first) || !Number.isInteger(last)) throw new Error('verdict: first and last must be integers')
  const written = last >= first ? last - first + 1 : 0
  const counts = new Uint32Array(written)
  let received = 0
  let unexpected = 0
  const unexpectedSamples = []
  for (const r of records) {
    const data = Buffer.isBuffer(r) ? r : r.data
    received++
    const seq = parseSeq(data)
    if (seq < first || seq > last || !data.equals(Buffer.from(lineOf(seq), 'utf8'))) {
      unexpected++
      if (unexpectedSamples.length < MAX_SAMPLES) unexpectedSamples.push(data)
      continue
    }
    counts[seq - first]++
  }
  let lost = 0
  let delivered = 0
  let duplicated = 0
  let extraCopies = 0
  const duplicatedSamples = []
  for (let i = 0; i < written; i++) {
    const c = counts[i]
    if (c === 0) lost++
    else delivered++
    if (c > 1) {
      duplicated++
      extraCopies += c - 1
      if (duplicatedSamples.length < MAX_SAMPLES) duplicatedSamples.push({ seq: first + i, copies: c })
    }
  }
  const lostRuns = runs(counts, first, (c) => c === 0)
  const duplicatedRuns = runs(counts, first, (c) => c > 1)
  return {
    first,
    last,
    written,
    received,
    delivered,
    lost,
    lostRuns: lostRuns.runs,
    lostRunCount: lostRuns.count,
    duplicated,
    extraCopies,
    duplicatedRuns: duplicatedRuns.runs,
    duplicatedRunCount: duplicatedRuns.count,
    duplicatedSamples,
    unexpected,
    unexpectedSamples,
    counts,
    ok: lost === 0 && duplicated === 0 && unexpected === 0,
  }
}

const fmtRun = ([a, b]) => (a === b ? `${a}` : `${a}-${b} (${b - a + 1})`)

export function describeVerdict(v, n = 5) {
  const out = [
    `written ${v.written} lines (seq ${v.first}..${v.last}), received ${v.received} records: ` +
      `lost ${v.lost}, duplicated ${v.duplicated} (${v.extraCopies} extra copies), unexpected ${v.unexpected}`,
  ]
  if (v.lost) {
    out.push(`  lost lines in ${v.lostRunCount} run(s), first: ${v.lostRuns.slice(0, n).map(fmtRun).join(', ')}`)
    for (const [a] of v.lostRuns.slice(0, Math.min(n, 3))) out.push(`    e.g. ${preview(lineFor(a))}`)
  }
  if (v.duplicated) {
    out.push(`  duplicated lines in ${v.duplicatedRunCount} run(s), first: ${v.duplicatedRuns.slice(0, n).map(fmtRun).join(', ')}`)
    for (const { seq, copies } of v.duplicatedSamples.slice(0, Math.min(n, 3))) out.push(`    ${copies}x ${preview(lineFor(seq))}`)
  }
  if (v.unexpected) {
    out.push(`  unexpected records (not a line that was written), first:`)
    for (const b of v.unexpectedSamples.slice(0, n)) out.push(`    ${preview(b)}`)
  }
  return out.join('\n')
}

// How often each line first..last occurs, as a whole line, in `buffers` (file contents).
export function countSeqs({ first, last }, buffers) {
  const counts = new Uint32Array(Math.max(0, last - first + 1))
  for (const buf of buffers) {
    let start = 0
    for (;;) {
      const nl = buf.indexOf(0x0a, start)
      const end = nl < 0 ? buf.length : nl
      if (end > start) {
        const line = buf.subarray(start, end)
        const seq = parseSeq(line)
        if (seq >= first && seq <= last && line.equals(Buffer.from(lineFor(seq), 'utf8'))) counts[seq - first]++
      }
      if (nl < 0) break
      start = nl + 1
    }
  }
  return counts
}
