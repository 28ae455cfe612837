import { detectLevel, levelIndex, syslogSeverityLevel } from '../core/level.js'
import type { Entry } from '../core/record.js'
import type { LogStore, StreamInfo } from './log-store.js'
import { compileLineFilters } from './line-filters.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from './select-params.js'
import { compileSelector, stdioIndex, type CompiledSelector } from './stream-filter.js'

// The store questions answered from `streams()` and `read()` alone, line by line in this
// process: the meaning every store's native answer must equal, and the way for a store that
// has no native one yet.

type Reader = Pick<LogStore, 'streams' | 'read'>

interface Hit { stream: StreamInfo, e: Entry, level: string, stdio: number }

async function * hits (store: Reader, p: SelectParams, sel: CompiledSelector): AsyncIterable<Hit> {
  if (sel.equals === null) return
  const streams = (await store.streams(sel.equals)).filter((s) => BigInt(s.lastTsNs) >= p.fromNs && sel.matches(s))
  if (streams.length === 0) return
  const filters = compileLineFilters(p.lineFilters)
  for await (const chunk of store.read({ selector: { streamIds: streams.map((s) => s.id) }, fromNs: p.fromNs, toNs: p.toNs - 1n })) {
    p.signal?.throwIfAborted()
    for (const e of chunk.entries) {
      const si = stdioIndex(e[3])
      if (!sel.stdio[si]) continue
      const severity = e[4]?.severity
      const level = severity !== undefined ? syslogSeverityLevel(severity) : detectLevel(e[2])
      if (!sel.level[levelIndex(level)]) continue
      const b = Buffer.from(e[2])
      if (!filters.every((f) => { f.reset(); return f.test(b, 0, b.length) === 1 })) continue
      yield { stream: chunk.stream, e, level, stdio: si }
    }
  }
}

export async function * genericSelectLogs (store: Reader, p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
  const sel = compileSelector(p.matchers, p.org)
  const all: Array<SelectedLine & { n: bigint }> = []
  for await (const h of hits(store, p, sel)) {
    const l: SelectedLine & { n: bigint } = { stream: h.stream, ts: h.e[0], offset: h.e[1], line: h.e[2], stdio: h.e[3], level: h.level, n: BigInt(h.e[0]) }
    if (h.e[4] !== undefined) l.attrs = h.e[4]
    all.push(l)
  }
  const cmp = (a: typeof all[number], b: typeof all[number]) => a.n !== b.n ? (a.n < b.n ? -1 : 1) : a.stream.id !== b.stream.id ? (a.stream.id < b.stream.id ? -1 : 1) : a.offset - b.offset
  all.sort(p.direction === 'forward' ? cmp : (a, b) => cmp(b, a))
  if (all.length > 0) yield all
}

export async function genericSelectSamples (store: Reader, p: SampleParams): Promise<SampleVariant[]> {
  const sel = compileSelector(p.matchers, p.org)
  const out = new Map<string, SampleVariant>()
  const step = p.stepNs
  for await (const h of hits(store, p, sel)) {
    const d = BigInt(h.e[0]) - p.startNs
    // Steps k with d <= k·step < d + range.
    let kMin = d <= 0n ? 0n : (d + step - 1n) / step
    let kEnd = d + p.rangeNs <= 0n ? 0n : (d + p.rangeNs + step - 1n) / step
    if (kEnd > BigInt(p.steps)) kEnd = BigInt(p.steps)
    if (kMin < 0n) kMin = 0n
    if (kMin >= kEnd) continue
    const key = `${h.stream.id}\0${h.stdio}\0${h.level}`
    let v = out.get(key)
    if (v === undefined) {
      v = { stream: h.stream, stdio: h.e[3], level: h.level, lines: new Float64Array(p.steps + 1), bytes: new Float64Array(p.steps + 1) }
      out.set(key, v)
    }
    const bytes = Buffer.byteLength(h.e[2])
    v.lines[Number(kMin)]! += 1
    v.lines[Number(kEnd)]! -= 1
    v.bytes[Number(kMin)]! += bytes
    v.bytes[Number(kEnd)]! -= bytes
  }
  return [...out.values()]
}

export async function genericVariants (store: Reader, p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
  const sel = compileSelector(p.matchers, p.org)
  const out = new Map<string, VariantTotals>()
  for await (const h of hits(store, { ...p, lineFilters: [] }, sel)) {
    const key = `${h.stream.id}\0${h.stdio}\0${h.level}`
    const v = out.get(key)
    const bytes = Buffer.byteLength(h.e[2])
    if (v === undefined) out.set(key, { stream: h.stream, stdio: h.e[3], level: h.level, lines: 1, bytes })
    else { v.lines++; v.bytes += bytes }
  }
  return [...out.values()]
}

