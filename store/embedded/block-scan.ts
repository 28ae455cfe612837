import { detectLevelBytes, levelIndex, LEVELS, syslogSeverityLevel } from '../../core/level.js'
import { EntryView, readEntry, type TsParts } from '../../core/frames.js'
import type { LineFilter } from '../select-params.js'
import { compileLineFilters, type BytesFilter } from '../line-filters.js'
import { nsBetween, stepSpan } from '../step-span.js'

// One block's lines, scanned where they lie: the E records (core/frames.ts) decoded from the
// block, walked in place with one reused view, tested against the time range, the allowed
// stdio values and levels, and the line filters on the message bytes. Only a line that passes
// becomes a string (log queries) or a count (metric queries). Runs in the scan workers.

const NL_LEVELS = LEVELS.length
const E = 0x45

/** What a scan keeps of each line, and where to count it. */
export interface ScanSpec {
  /** [from, to) as TsParts. */
  from: TsParts
  to: TsParts
  /** Allowed stdio values (STDIOS order) and levels (LEVELS order). */
  stdio: boolean[]
  level: boolean[]
  filters: LineFilter[]
  mode: 'lines' | 'samples'
  /** Samples: steps t = start + k·step, k < steps, each over (t - range, t]; step and range in ns. */
  start?: TsParts
  step?: number
  steps?: number
  range?: number
}

/** The lines of one block that passed, as parallel arrays (cheap to send between threads). */
export interface LinesOut {
  sid: number
  hi: number[]
  lo: number[]
  ts: string[]
  offset: number[]
  line: string[]
  /** stdio index × LEVELS.length + level index. */
  cell: number[]
  attrs: Array<string | null>
}

/** Metric counts: per (stream, cell), difference arrays of steps + 1 cells. */
export type SamplesOut = Map<number, { sid: number, cell: number, lines: Float64Array, bytes: Float64Array }>

export interface ScanStats { lines: number, bytes: number }

export interface CompiledSpec {
  spec: ScanSpec
  filters: BytesFilter[]
  /**
   * The `|=` needle a scan through a line index searches the whole block for (the longest: the
   * fewest hits), and its place among the filters; null when no filter is a non-empty `|=`.
   */
  driver: { k: number, needle: Buffer } | null
}

export function compileSpec (spec: ScanSpec): CompiledSpec {
  let driver: CompiledSpec['driver'] = null
  spec.filters.forEach((f, k) => {
    if (f.op !== '|=' || f.value === '') return
    const needle = Buffer.from(f.value)
    if (driver === null || needle.length > driver.needle.length) driver = { k, needle }
  })
  return { spec, filters: compileLineFilters(spec.filters), driver }
}

/**
 * Scan one block's records. `levels`: the level index of each line as the writer stored it,
 * or null for blocks written before levels were kept (then found here, the same way).
 * `clip`: whether the block reaches outside [from, to) (else no line's time is compared).
 */
export function scanBlock (records: Buffer, levels: Uint8Array | null, sid: number, c: CompiledSpec, clip: boolean, out: { lines?: LinesOut, samples?: SamplesOut }, stats: ScanStats): void {
  const { spec, filters } = c
  const v = new EntryView()
  const t: TsParts = { hi: 0, lo: 0 }
  const allStdio = spec.stdio.every(Boolean)
  const allLevels = spec.level.every(Boolean)
  for (const f of filters) f.reset()
  let i = -1
  let pos = 0
  while (pos < records.length) {
    if (records[pos] !== E) throw new Error(`a block whose record at byte ${pos} does not start with "E"`)
    pos = readEntry(records, pos, v)
    i++
    stats.lines++
    stats.bytes += v.msgLen
    if (clip) {
      v.tsParts(records, t)
      if (before(t, spec.from) || !before(t, spec.to)) continue
    }
    let si = 0
    if (v.stdioEnd - v.stdioStart === 6) si = records[v.stdioStart + 3] === 0x6f /* stdOut */ ? 1 : 2
    if (!allStdio && !spec.stdio[si]) continue
    const li = levels !== null ? levels[i]! : lineLevel(records, v)
    if (!allLevels && !spec.level[li]) continue
    let pass = true
    for (let k = 0; k < filters.length; k++) {
      const r = filters[k]!.test(records, v.msgStart, v.msgStart + v.msgLen)
      if (r === 0) { pass = false; break }
      if (r === -1) { pos = records.length; pass = false; break } // no later line can pass
    }
    if (!pass) continue
    if (out.lines !== undefined) {
      if (!clip) v.tsParts(records, t)
      const o = out.lines
      o.hi.push(t.hi)
      o.lo.push(t.lo)
      o.ts.push(records.toString('latin1', v.tsStart, v.tsEnd))
      o.offset.push(v.offset)
      o.line.push(records.toString('utf8', v.msgStart, v.msgStart + v.msgLen))
      o.cell.push(si * NL_LEVELS + li)
      o.attrs.push(v.attrLen === 0 ? null : records.toString('utf8', v.msgStart + v.msgLen, v.end))
    } else if (out.samples !== undefined) {
      if (!clip) v.tsParts(records, t)
      addSample(out.samples, spec, sid, si * NL_LEVELS + li, t, v.msgLen)
    }
  }
}

/** The level of a line whose block kept none: its `severity` attribute, else its words. */
function lineLevel (records: Buffer, v: EntryView): number {
  if (v.attrLen > 0) {
    const attrs = JSON.parse(records.toString('utf8', v.msgStart + v.msgLen, v.end)) as Record<string, string>
    if (attrs.severity !== undefined) return levelIndex(syslogSeverityLevel(attrs.severity))
  }
  return levelIndex(detectLevelBytes(records, v.msgStart, v.msgStart + v.msgLen))
}

export function before (a: TsParts, b: TsParts): boolean {
  return a.hi < b.hi || (a.hi === b.hi && a.lo < b.lo)
}


/** stepSpan's answer for the line at hand, reused line after line. */
const SPAN: [number, number] = [0, 0]

function addSample (out: SamplesOut, spec: ScanSpec, sid: number, cell: number, t: TsParts, bytes: number): void {
  stepSpan(nsBetween(spec.start!, t), spec.step!, spec.range!, spec.steps!, SPAN)
  const kMin = SPAN[0]
  const kEnd = SPAN[1]
  if (kMin >= kEnd) return
  const key = sid * 64 + cell
  let acc = out.get(key)
  if (acc === undefined) {
    acc = { sid, cell, lines: new Float64Array(spec.steps! + 1), bytes: new Float64Array(spec.steps! + 1) }
    out.set(key, acc)
  }
  acc.lines[kMin]! += 1
  acc.lines[kEnd]! -= 1
  acc.bytes[kMin]! += bytes
  acc.bytes[kEnd]! -= bytes
}
