import { EntryView, readEntry, type TsParts } from '../../core/frames.js'
import { LEVELS } from '../../core/level.js'
import { stepSpan } from '../step-span.js'
import type { CompiledSpec, LinesOut, SamplesOut, ScanStats } from './block-scan.js'
import type { LineColumns } from './line-index.js'

// One block's lines scanned through its line index (line-index.ts) instead of record by record
// (block-scan.ts, for blocks written before schema 4): each line's time, stdio and message
// bounds come from the index, its level from `levels`.
// - Without line filters a metric query needs no message at all: `records` is null, and the
//   block's `data` was never read nor decoded.
// - With a `|=` needle, the needle is searched over the whole decoded block and each hit
//   mapped to its line; lines without a hit are never looked at. A hit counts only inside a
//   message (not in a record's header or attributes, not across a message's end), each line
//   once. The other filters then run on that line's message, exactly as the record walk runs
//   them.
// Only a line that passes is parsed (log queries: its time text, offset and attributes).

const NL_LEVELS = LEVELS.length
const NL = 0x0a

/** Where a line of the block is: its index, or that no later line can pass. */
const STOP = -1

export function scanIndexed (records: Buffer | null, levels: Uint8Array, cols: LineColumns, minNs: bigint, sid: number, c: CompiledSpec, clip: boolean, out: { lines?: LinesOut, samples?: SamplesOut }, stats: ScanStats): void {
  const { spec, filters, driver } = c
  const n = cols.n
  stats.lines += n
  stats.bytes += cols.bytes
  if (records === null && (filters.length > 0 || out.lines !== undefined)) throw new Error('a scan that reads messages was given none')
  const { time, msgStart, msgLen, stdio } = cols
  // The range as ns since the block's min_ts: exact, since a bound that lies within the
  // block is at most its span (≤ 2^52) away from min_ts, and one outside clips nothing.
  let lo = -Infinity
  let hi = Infinity
  if (clip) {
    const fromD = tsNs(spec.from) - minNs
    const toD = tsNs(spec.to) - minNs
    if (fromD > 0n) lo = Number(fromD)
    if (toD <= 2n ** 53n) hi = Number(toD)
  }
  const allStdio = spec.stdio.every(Boolean)
  const allLevels = spec.level.every(Boolean)
  for (const f of filters) f.reset()
  const emit = out.lines !== undefined ? lineEmitter(records!, cols, levels, out.lines) : sampleEmitter(out.samples!, c, cols, levels, sid, minNs)

  /** Whether line i passes everything but the driving needle: 1, 0, or STOP. */
  const pass = (i: number): number => {
    const t = time[i]!
    if (t < lo || t >= hi) return 0
    if (!allStdio && !spec.stdio[stdio[i]!]) return 0
    if (!allLevels && !spec.level[levels[i]!]) return 0
    const s = msgStart[i]!
    const e = s + msgLen[i]!
    for (let k = 0; k < filters.length; k++) {
      if (driver !== null && k === driver.k) continue
      const r = filters[k]!.test(records!, s, e)
      if (r === 0) return 0
      if (r === -1) return STOP
    }
    return 1
  }

  if (driver === null) {
    for (let i = 0; i < n; i++) {
      const r = pass(i)
      if (r === STOP) break
      if (r === 1) emit(i)
    }
    return
  }
  const needle = driver.needle
  const nl = needle.length
  let from = 0
  let pos = msgStart[0] ?? 0
  while (from < n) {
    const h = records!.indexOf(needle, pos)
    if (h === -1) break
    const i = cols.lineAt(h, from)
    if (i < from) { pos = msgStart[from]!; continue } // in the header before line `from`'s message
    // A hit that does not end inside line i's message (in its attributes, in the next header,
    // or across its end): no later one does either, as any later one ends later.
    if (h + nl <= msgStart[i]! + msgLen[i]!) {
      const r = pass(i)
      if (r === STOP) break
      if (r === 1) emit(i)
    }
    from = i + 1
    if (from < n) pos = msgStart[from]!
  }
}

function tsNs (t: TsParts): bigint {
  return BigInt(t.hi) * 1_000_000_000n + BigInt(t.lo)
}

/** Log queries: a passing line parsed from its record, which ends right before its header. */
function lineEmitter (records: Buffer, cols: LineColumns, levels: Uint8Array, o: LinesOut): (i: number) => void {
  const v = new EntryView()
  const t: TsParts = { hi: 0, lo: 0 }
  return (i: number) => {
    const s = cols.msgStart[i]!
    // The header holds no newline (digits, and a stdio of -, stdout or stderr, which the
    // index requires), so the newline before it ends the previous record.
    const start = records.lastIndexOf(NL, s - 2) + 1
    readEntry(records, start, v)
    if (v.msgStart !== s) throw new Error(`a block line index that puts line ${i}'s message at ${s}, not ${v.msgStart}`)
    v.tsParts(records, t)
    o.hi.push(t.hi)
    o.lo.push(t.lo)
    o.ts.push(records.toString('latin1', v.tsStart, v.tsEnd))
    o.offset.push(v.offset)
    o.line.push(records.toString('utf8', v.msgStart, v.msgStart + v.msgLen))
    o.cell.push(cols.stdio[i]! * NL_LEVELS + levels[i]!)
    o.attrs.push(v.attrLen === 0 ? null : records.toString('utf8', v.msgStart + v.msgLen, v.end))
  }
}

/** Metric queries: a passing line counted towards its steps, per (stream, cell). */
function sampleEmitter (samples: SamplesOut, c: CompiledSpec, cols: LineColumns, levels: Uint8Array, sid: number, minNs: bigint): (i: number) => void {
  const spec = c.spec
  const step = spec.step!
  const range = spec.range!
  const steps = spec.steps!
  // ns from the first step to the block's min_ts; a line's own time is that plus its delta
  // (exact while under 2^53, as block-scan.ts's nsBetween).
  const base = Number(minNs - tsNs(spec.start!))
  const accs: Array<{ lines: Float64Array, bytes: Float64Array } | undefined> = []
  const span: [number, number] = [0, 0]
  return (i: number) => {
    stepSpan(base + cols.time[i]!, step, range, steps, span)
    const kMin = span[0]
    const kEnd = span[1]
    if (kMin >= kEnd) return
    const cell = cols.stdio[i]! * NL_LEVELS + levels[i]!
    let acc = accs[cell]
    if (acc === undefined) {
      const key = sid * 64 + cell
      acc = samples.get(key)
      if (acc === undefined) {
        const made = { sid, cell, lines: new Float64Array(steps + 1), bytes: new Float64Array(steps + 1) }
        samples.set(key, made)
        acc = made
      }
      accs[cell] = acc
    }
    const bytes = cols.msgLen[i]!
    acc.lines[kMin]! += 1
    acc.lines[kEnd]! -= 1
    acc.bytes[kMin]! += bytes
    acc.bytes[kEnd]! -= bytes
  }
}
