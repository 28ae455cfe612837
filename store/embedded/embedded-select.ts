import type Database from 'better-sqlite3'
import type { TsParts } from '../../core/frames.js'
import { LEVELS } from '../../core/level.js'
import type { Attributes } from '../../core/record.js'
import type { StreamInfo, StreamSelector } from '../log-store.js'
import type { ReadStats, SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from '../select-params.js'
import { compileSelector, STDIOS, type CompiledSelector } from '../stream-filter.js'
import { requiredNeedles } from '../line-filters.js'
import { BlockPlanner, compareParts, parts, type PlannedBlock, type PlanStream } from './block-plan.js'
import { decodeSummary, eachMinute, MINUTE_NS } from './block-index.js'
import { before, type ScanSpec } from './block-scan.js'
import { nsBetween, stepSpan } from '../step-span.js'
import type { ScanPool } from './scan-pool.js'
import type { ScanReply } from './scan-worker.js'

// The embedded store's answers to a query (store/select-params.ts):
// - log queries walk the selected streams' blocks in time order (newest first backward), scan
//   them in the worker pool a few tasks ahead, and hand lines on as soon as no block still
//   unread can hold an earlier one: the reader stops when it has its lines, so what is read
//   follows the answer, not the range;
// - metric queries count blocks from their summaries when a whole block falls into the same
//   steps and no line filter applies, and scan the others in the pool, all cores at once;
// - label questions are answered from summaries alone.

const NL = LEVELS.length
const MAX_CHUNK = 16
/**
 * With a needle most blocks are ruled out by their bloom without being read, so a task may
 * take many more of them for the same work (the hop to a worker and back is then what costs).
 */
const MAX_CHUNK_BLOOMED = 256

interface Line extends SelectedLine { hi: number, lo: number }

export type StreamRows = (equals: StreamSelector) => PlanStream[]

export class EmbeddedSelect {
  private readonly planner: BlockPlanner

  constructor (db: Database.Database, private readonly pool: ScanPool, private readonly streamsOf: StreamRows) {
    this.planner = new BlockPlanner(db)
  }

  private streams (sel: CompiledSelector, fromNs: bigint): PlanStream[] {
    if (sel.equals === null || !sel.stdio.some(Boolean) || !sel.level.some(Boolean)) return []
    return this.streamsOf(sel.equals).filter((s) => BigInt(s.info.lastTsNs) >= fromNs && sel.matches(s.info))
  }

  async * selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
    const sel = compileSelector(p.matchers, p.org)
    const streams = this.streams(sel, p.fromNs)
    if (streams.length === 0 || p.toNs <= p.fromNs) return
    const backward = p.direction === 'backward'
    const blocks = this.planner.plan(streams, p.fromNs, p.toNs, false)
    // Backward: by newest line first; forward: by oldest line first.
    blocks.sort(backward ? (a, b) => compareParts(b.max, a.max) || b.sid - a.sid : (a, b) => compareParts(a.min, b.min) || a.sid - b.sid)
    const from = parts(p.fromNs)
    const to = parts(p.toNs)
    const spec: ScanSpec = { from, to, stdio: sel.stdio, level: sel.level, filters: p.lineFilters, mode: 'lines' }
    const byId = new Map(streams.map((s) => [s.sid, s.info]))
    const drop = new AbortController()
    const inflight: Array<{ reply: Promise<ScanReply>, end: number }> = []
    const maxChunk = requiredNeedles(p.lineFilters).length > 0 ? MAX_CHUNK_BLOOMED : MAX_CHUNK
    let next = 0
    let chunk = 1
    let pending: Line[] = []
    const order = backward ? (a: Line, b: Line) => -compareLines(a, b) : compareLines
    try {
      for (;;) {
        p.signal?.throwIfAborted()
        while (inflight.length < 2 * this.pool.size && next < blocks.length) {
          const part = blocks.slice(next, next + chunk)
          next += part.length
          chunk = Math.min(2 * chunk, maxChunk)
          const reply = this.pool.run({ blocks: part.map((b) => taskBlock(b, clipped(b, from, to))), spec }, p.signal, drop.signal)
          reply.catch(() => {}) // awaited in order below; a later one may fail first
          inflight.push({ reply, end: next })
        }
        const head = inflight.shift()
        if (head === undefined) break
        const r = await head.reply
        addStats(p, r)
        for (const out of r.lines ?? []) {
          const info = byId.get(out.sid)!
          for (let i = 0; i < out.ts.length; i++) {
            const cell = out.cell[i]!
            const a = out.attrs[i]
            const line: Line = { stream: info, ts: out.ts[i]!, offset: out.offset[i]!, line: out.line[i]!, stdio: STDIOS[Math.floor(cell / NL)]!, level: LEVELS[cell % NL]!, hi: out.hi[i]!, lo: out.lo[i]! }
            if (a !== null) line.attrs = JSON.parse(a) as Attributes
            pending.push(line)
          }
        }
        // Lines beyond the next unread block's bound are final: no unread block can precede them.
        const bound = head.end < blocks.length ? (backward ? blocks[head.end]!.max : blocks[head.end]!.min) : null
        if (bound === null) continue
        const ready: Line[] = []
        const rest: Line[] = []
        for (const l of pending) {
          const t = { hi: l.hi, lo: l.lo }
          if (backward ? before(bound, t) : before(t, bound)) ready.push(l)
          else rest.push(l)
        }
        pending = rest
        if (ready.length > 0) yield ready.sort(order)
      }
      if (pending.length > 0) yield pending.sort(order)
    } finally {
      drop.abort()
    }
  }

  async selectSamples (p: SampleParams): Promise<SampleVariant[]> {
    const sel = compileSelector(p.matchers, p.org)
    const streams = this.streams(sel, p.fromNs)
    if (streams.length === 0 || p.toNs <= p.fromNs) return []
    const noFilters = p.lineFilters.length === 0
    const blocks = this.planner.plan(streams, p.fromNs, p.toNs, noFilters)
    const from = parts(p.fromNs)
    const to = parts(p.toNs)
    const start = parts(p.startNs)
    const step = Number(p.stepNs)
    const range = Number(p.rangeNs)
    const spec: ScanSpec = { from, to, stdio: sel.stdio, level: sel.level, filters: p.lineFilters, mode: 'samples', start, step, steps: p.steps, range }
    const out = new Map<number, SampleVariant>()
    const variant = (sid: number, stream: StreamInfo, cell: number): SampleVariant => {
      const key = sid * 64 + cell
      let v = out.get(key)
      if (v === undefined) {
        v = { stream, stdio: STDIOS[Math.floor(cell / NL)]!, level: LEVELS[cell % NL]!, lines: new Float64Array(p.steps + 1), bytes: new Float64Array(p.steps + 1) }
        out.set(key, v)
      }
      return v
    }
    const byMinute = wholeMinutes(p)
    const scan: PlannedBlock[] = []
    for (const b of blocks) {
      // Steps, windows and range on whole minutes: a block counts from its minutes, each of
      // which lies wholly inside or outside every window (block-index.ts).
      if (noFilters && byMinute !== null && b.minutes !== null) {
        addMinutes(b, sel, byMinute, p, variant)
        continue
      }
      // A block inside the range whose first and last lines count towards the same steps is
      // counted from its summary: every line between them counts towards those steps too.
      if (noFilters && b.summary !== null && !clipped(b, from, to)) {
        const lo = stepSpan(nsBetween(start, b.min), step, range, p.steps)
        const hi = stepSpan(nsBetween(start, b.max), step, range, p.steps)
        if (lo[0] === hi[0] && lo[1] === hi[1]) {
          if (lo[0] < lo[1]) addSummary(b, sel, lo[0], lo[1], variant)
          continue
        }
      }
      scan.push(b)
    }
    const replies = []
    for (let i = 0; i < scan.length; i += MAX_CHUNK * 2) {
      const part = scan.slice(i, i + MAX_CHUNK * 2)
      replies.push(this.pool.run({ blocks: part.map((b) => taskBlock(b, clipped(b, from, to))), spec }, p.signal))
    }
    const byId = new Map(streams.map((s) => [s.sid, s.info]))
    for (const reply of replies) reply.catch(() => {})
    for (const reply of replies) {
      const r = await reply
      addStats(p, r)
      for (const s of r.samples ?? []) {
        const v = variant(s.sid, byId.get(s.sid)!, s.cell)
        for (let k = 0; k <= p.steps; k++) { v.lines[k]! += s.lines[k]!; v.bytes[k]! += s.bytes[k]! }
      }
    }
    return [...out.values()]
  }

  async variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
    const sel = compileSelector(p.matchers, p.org)
    const streams = this.streams(sel, p.fromNs)
    if (streams.length === 0 || p.toNs <= p.fromNs) return []
    const blocks = this.planner.plan(streams, p.fromNs, p.toNs, true)
    const out = new Map<number, VariantTotals>()
    const add = (sid: number, stream: StreamInfo, cell: number, lines: number, bytes: number) => {
      const key = sid * 64 + cell
      const v = out.get(key)
      if (v === undefined) out.set(key, { stream, stdio: STDIOS[Math.floor(cell / NL)]!, level: LEVELS[cell % NL]!, lines, bytes })
      else { v.lines += lines; v.bytes += bytes }
    }
    const from = parts(p.fromNs)
    const to = parts(p.toNs)
    // Blocks inside the range count from their summaries; those that reach outside it (and
    // those written before summaries were kept) are scanned for their lines in the range, so
    // that totals are exact at the range's edges.
    const old: PlannedBlock[] = []
    for (const b of blocks) {
      if (b.summary === null || clipped(b, from, to)) { old.push(b); continue }
      const cells = decodeSummary(b.summary)
      for (let c = 0; c < cells.length / 2; c++) {
        if (cells[2 * c] === 0 || !sel.stdio[Math.floor(c / NL)] || !sel.level[c % NL]) continue
        add(b.sid, b.stream, c, cells[2 * c]!, cells[2 * c + 1]!)
      }
    }
    if (old.length > 0) {
      const span = p.toNs - p.fromNs
      const spec: ScanSpec = { from, to, stdio: sel.stdio, level: sel.level, filters: [], mode: 'samples', start: parts(p.toNs - 1n), step: 1, steps: 1, range: Number(span) }
      const byId = new Map(streams.map((s) => [s.sid, s.info]))
      const replies = []
      for (let i = 0; i < old.length; i += MAX_CHUNK * 2) {
        replies.push(this.pool.run({ blocks: old.slice(i, i + MAX_CHUNK * 2).map((b) => taskBlock(b, true)), spec }, p.signal))
      }
      for (const reply of replies) reply.catch(() => {})
      for (const reply of replies) {
        const r = await reply
        addStats(p, r)
        for (const s of r.samples ?? []) add(s.sid, byId.get(s.sid)!, s.cell, s.lines[0]!, s.bytes[0]!)
      }
    }
    return [...out.values()].filter((v) => v.lines > 0)
  }
}

/** The task tuple of a planned block (scan-worker.ts ScanTask). */
function taskBlock (b: PlannedBlock, clip: boolean): [number, number, number, number, number, number] {
  return [b.sid, b.firstOffset, clip ? 1 : 0, b.min.hi, b.min.lo, b.lines]
}

const MINUTE = BigInt(MINUTE_NS)

/**
 * When the first step, the step, the window and the range [from, to) all fall on whole
 * minutes, the range as minutes (from − 1 and to − 1: the range holds the lines of minutes
 * first + 1 … last); else null.
 */
function wholeMinutes (p: SampleParams): { first: number, last: number } | null {
  const on = (ns: bigint) => ns % MINUTE === 0n
  if (!on(p.startNs) || !on(p.stepNs) || !on(p.rangeNs) || !on(p.fromNs - 1n) || !on(p.toNs - 1n) || p.fromNs < 1n) return null
  return { first: Number((p.fromNs - 1n) / MINUTE), last: Number((p.toNs - 1n) / MINUTE) }
}

/** Counts a block from its minutes: minute m's lines count as a line at m · 60 s would. */
function addMinutes (b: PlannedBlock, sel: CompiledSelector, range: { first: number, last: number }, p: SampleParams, variant: (sid: number, s: StreamInfo, cell: number) => SampleVariant): void {
  const startMin = Number(p.startNs / MINUTE)
  const stepMin = Number(p.stepNs / MINUTE)
  const rangeMin = Number(p.rangeNs / MINUTE)
  eachMinute(b.minutes!, (m, cells) => {
    if (m <= range.first || m > range.last) return
    const [kMin, kEnd] = stepSpan(m - startMin, stepMin, rangeMin, p.steps, SPAN)
    if (kMin < kEnd) addCells(b, sel, cells, kMin, kEnd, variant)
  })
}

const SPAN: [number, number] = [0, 0]

function addStats (p: { stats?: ReadStats }, r: ScanReply): void {
  if (p.stats === undefined) return
  p.stats.lines += r.stats.lines
  p.stats.bytes += r.stats.bytes
  p.stats.blocks += r.stats.blocks
  p.stats.skipped += r.stats.skipped
}

/** Whether a block reaches outside [from, to), so that its lines' times must be compared. */
function clipped (b: PlannedBlock, from: TsParts, to: TsParts): boolean {
  return before(b.min, from) || !before(b.max, to)
}

function addSummary (b: PlannedBlock, sel: CompiledSelector, kMin: number, kEnd: number, variant: (sid: number, s: StreamInfo, cell: number) => SampleVariant): void {
  addCells(b, sel, decodeSummary(b.summary!), kMin, kEnd, variant)
}

/** Adds a block's cells (lines, bytes per stdio × level) the selector allows to steps [kMin, kEnd). */
function addCells (b: PlannedBlock, sel: CompiledSelector, cells: Float64Array, kMin: number, kEnd: number, variant: (sid: number, s: StreamInfo, cell: number) => SampleVariant): void {
  for (let c = 0; c < cells.length / 2; c++) {
    const lines = cells[2 * c]!
    if (lines === 0 || !sel.stdio[Math.floor(c / NL)] || !sel.level[c % NL]) continue
    const v = variant(b.sid, b.stream, c)
    v.lines[kMin]! += lines
    v.lines[kEnd]! -= lines
    v.bytes[kMin]! += cells[2 * c + 1]!
    v.bytes[kEnd]! -= cells[2 * c + 1]!
  }
}

/** Time, then stream id, then offset: the order equal times are given in. */
function compareLines (a: Line, b: Line): number {
  if (a.hi !== b.hi) return a.hi - b.hi
  if (a.lo !== b.lo) return a.lo - b.lo
  if (a.stream.id !== b.stream.id) return a.stream.id < b.stream.id ? -1 : 1
  return a.offset - b.offset
}
