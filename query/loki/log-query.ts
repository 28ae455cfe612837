import type { LogStore } from '../../store/log-store.js'
import type { Direction, ReadStats, SelectedLine } from '../../store/select-params.js'
import type { LogExpr } from './ast.js'
import { categorizeLines, type CategorizedStream, type LineToCategorize } from './categorize-labels.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'
import { LineLabeler, newStats, question } from './select.js'

// A log query's answer: Loki "streams", the `limit` lines nearest the start (forward) or the
// end (backward) of [start, end), grouped by label set, each stream's values in that direction.
// The store hands lines over in time order; reading stops as soon as `limit` lines passed the
// pipeline, so what is read follows the answer, not the range.

export type { Direction }

export interface StreamResult { stream: Labels, values: Array<[string, string]> }

export interface LogQueryResult {
  /** Loki streams; with `categorize`, values carry structured metadata and parsed labels. */
  result: StreamResult[] | CategorizedStream[]
  linesProcessed: number
  bytesProcessed: number
  entriesReturned: number
  read: ReadStats
}

export interface LogQueryOptions {
  signal?: AbortSignal
  /**
   * Answer as Loki does for `X-Loki-Response-Encoding-Flags: categorize-labels`: streams keyed
   * by their stream labels only; per-line attributes, pod labels and `detected_level` as
   * structured metadata; what parsers added as parsed labels.
   */
  categorize?: boolean
}

export async function runLogQuery (store: LogStore, expr: LogExpr, org: string | undefined, startNs: bigint, endNs: bigint, limit: number, direction: Direction, opts: LogQueryOptions = {}): Promise<LogQueryResult> {
  const q = question(expr)
  const read = newStats()
  const labeler = new LineLabeler()
  const groups = new Map<string, StreamResult>()
  const keyCache = new Map<Labels, string>()
  let kept = 0
  const categorized: LineToCategorize[] = []
  const params = { matchers: expr.matchers, lineFilters: q.lineFilters, fromNs: startNs, toNs: endNs, direction, stats: read, ...(org !== undefined ? { org } : {}), ...(opts.signal !== undefined ? { signal: opts.signal } : {}) }
  if (limit > 0) {
    outer: for await (const batch of store.selectLogs(params)) {
      for (const l of batch) {
        let labels: Labels | null = labeler.of(l)
        if (q.pipeline !== null) labels = q.pipeline(l.line, labels)
        if (labels === null) continue
        if (opts.categorize === true) {
          categorized.push(toCategorize(l, labeler.of(l), labels))
          if (++kept >= limit) break outer
          continue
        }
        let key = keyCache.get(labels)
        if (key === undefined) { key = labelsKey(labels); if (keyCache.size < 100000) keyCache.set(labels, key) }
        let g = groups.get(key)
        if (g === undefined) { g = { stream: sortedLabels(labels), values: [] }; groups.set(key, g) }
        g.values.push([l.ts, l.line])
        if (++kept >= limit) break outer
      }
    }
  }
  if (opts.categorize === true) return { result: categorizeLines(categorized), linesProcessed: read.lines, bytesProcessed: read.bytes, entriesReturned: kept, read }
  const result = [...groups.entries()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0).map(([, g]) => g)
  return { result, linesProcessed: read.lines, bytesProcessed: read.bytes, entriesReturned: kept, read }
}

/** A line's labels split as Loki categorizes them: `base` is what it had before the pipeline. */
function toCategorize (l: SelectedLine, base: Labels, after: Labels): LineToCategorize {
  const { detected_level: level, ...stream } = base
  const out: LineToCategorize = { ts: l.ts, line: l.line, stream, metadata: { detected_level: level ?? l.level } }
  if (l.attrs !== undefined) out.attributes = l.attrs
  if (l.stream.labels !== undefined) out.podLabels = l.stream.labels
  if (after !== base) {
    let parsed: Labels | undefined
    for (const [k, v] of Object.entries(after)) if (base[k] !== v) (parsed ??= {})[k] = v
    if (parsed !== undefined) out.parsed = parsed
  }
  return out
}
