import type { LogStore } from '../../store/log-store.js'
import type { LogExpr } from './ast.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'
import { scan, select, type Line } from './select.js'

// A log query's answer: Loki "streams", the `limit` lines nearest the start (forward) or the
// end (backward) of [start, end), grouped by label set, each stream's values in that direction.

export type Direction = 'forward' | 'backward'

export interface StreamResult { stream: Labels, values: Array<[string, string]> }

export interface LogQueryResult {
  result: StreamResult[]
  linesProcessed: number
  bytesProcessed: number
  entriesReturned: number
}

function compareTs (a: string, b: string): number {
  // Decimal ns strings of positive times: longer is later; same length compares as text.
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}

/** The first window read from the end (backward) or the start (forward); each next one is twice as long. */
const FIRST_WINDOW_NS = 60_000_000_000n

export async function runLogQuery (store: LogStore, expr: LogExpr, org: string | undefined, startNs: bigint, endNs: bigint, limit: number, direction: Direction): Promise<LogQueryResult> {
  const sel = await select(store, expr, org, startNs)
  // Keep at most `limit` candidates: collect, and trim to the best `limit` whenever twice that many.
  let kept: Line[] = []
  const order = direction === 'forward' ? (a: Line, b: Line) => compareTs(a.ts, b.ts) : (a: Line, b: Line) => compareTs(b.ts, a.ts)
  const trim = () => { kept.sort(order); if (kept.length > limit) kept = kept.slice(0, limit) }
  const stats = { linesProcessed: 0, bytesProcessed: 0 }
  // Read time windows outward from the end (backward) or the start (forward), growing, and stop
  // once `limit` lines are found: every later window is further from where the answer starts,
  // so the cost follows the answer, not the range (the store skips blocks outside a window).
  let width = FIRST_WINDOW_NS
  let lo = direction === 'backward' ? endNs : startNs
  let hi = lo
  while (kept.length < limit && (direction === 'backward' ? lo > startNs : hi < endNs)) {
    if (direction === 'backward') { hi = lo; lo = hi - width < startNs ? startNs : hi - width } else { lo = hi; hi = lo + width > endNs ? endNs : lo + width }
    const s = await scan(store, sel, lo, hi - 1n, (_s, lines) => {
      for (const l of lines) kept.push(l)
      if (kept.length >= 2 * limit + 1000) trim()
    })
    stats.linesProcessed += s.linesProcessed
    stats.bytesProcessed += s.bytesProcessed
    width *= 2n
  }
  trim()
  const groups = new Map<string, StreamResult>()
  const keyCache = new Map<Labels, string>()
  for (const l of kept) {
    let key = keyCache.get(l.labels)
    if (key === undefined) { key = labelsKey(l.labels); keyCache.set(l.labels, key) }
    let g = groups.get(key)
    if (g === undefined) { g = { stream: sortedLabels(l.labels), values: [] }; groups.set(key, g) }
    g.values.push([l.ts, l.line])
  }
  const result = [...groups.entries()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0).map(([, g]) => g)
  return { result, ...stats, entriesReturned: kept.length }
}
