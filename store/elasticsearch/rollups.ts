import { createHash, randomUUID } from 'node:crypto'
import type { StreamTags } from '../../core/record.js'
import type { DropRow, UsageBucket, UsageRollupRequest, UsageRow } from '../log-store.js'
import { nsToIso } from './timestamp.js'

// Usage and stream bookkeeping written beside the records, in one bulk request after the
// records' own bulk answered.
//
// Usage: one document per (minute, org, app, set of records newly created by this write),
// `_id` = sha256 of those four, written with `create`. The records counted are exactly the
// ones Elasticsearch answered 201 for, so
//  - retrying the usage request (lost answer, 429) re-sends the same ids: 409, no double count;
//  - a forwarder retry of the whole batch finds its records 409 (not new) and writes no usage
//    for them; records that only now get 201 form a different set, hence a different id.
// The one window left is a crash (or a lost answer to the records' bulk request) between the
// records' 201 and the usage document: those records are then never counted, an under-count,
// never an over-count. `usage()` sums the documents with a composite aggregation.

export interface UsageAcc { org: string, app: string, lines: number, bytes: number, ids: string[] }

export function usageOps (index: string, minute: number, acc: Iterable<UsageAcc>): string[] {
  const out: string[] = []
  for (const u of acc) {
    if (u.lines === 0) continue
    const h = createHash('sha256')
    h.update(`${minute}\0${u.org}\0${u.app}\0`)
    for (const id of u.ids) h.update(id + '\n')
    const id = `u-${minute}-${h.digest('hex').slice(0, 40)}`
    out.push('{"create":{"_index":' + JSON.stringify(index) + ',"_id":"' + id + '"}}\n' +
      JSON.stringify({ minute, org: u.org, app: u.app, lines: u.lines, bytes: u.bytes }) + '\n')
  }
  return out
}

/** Drops have no record ids: one random id per row, fixed before the first try. */
export function dropOps (index: string, minute: number, rows: DropRow[]): string[] {
  return rows.map((r) => '{"create":{"_index":' + JSON.stringify(index) + ',"_id":"d-' + randomUUID() + '"}}\n' +
    JSON.stringify({ minute, org: r.org, app: r.app, reason: r.reason, dropped_lines: r.lines, dropped_bytes: r.bytes }) + '\n')
}

export interface StreamAcc { tags: StreamTags, firstNs: string, lastNs: string, lines: number, bytes: number }

// Streams: one document per stream (`_id` = stream id) in a small index, upserted with the
// new lines and bytes (batched per stream and interval by search-engine/stream-book.ts). Reading streams from it is one small search, where an aggregation
// over the records would scan every record of the selection. Tags are refreshed on every
// write (the tenant directory or kubelet may refine them). lines/bytes are informational: a
// retried update after a lost answer may add twice.
const UPDATE_SCRIPT = 'ctx._source.lines += params.lines; ctx._source.bytes += params.bytes; ' +
  'if (ctx._source.last_ts_ns == null || Long.parseLong(params.last) > Long.parseLong(ctx._source.last_ts_ns)) { ctx._source.last_ts_ns = params.last; ctx._source.last_ts = params.lastIso } ' +
  'for (e in params.tags.entrySet()) { ctx._source[e.getKey()] = e.getValue() }'

export function streamOps (index: string, acc: Iterable<StreamAcc>): string[] {
  const out: string[] = []
  for (const s of acc) {
    const tags = { ...s.tags } as Record<string, unknown>
    const upsert = { ...tags, first_seen: nsToIso(s.firstNs), first_seen_ns: s.firstNs, last_ts_ns: s.lastNs, last_ts: nsToIso(s.lastNs), lines: s.lines, bytes: s.bytes }
    out.push('{"update":{"_index":' + JSON.stringify(index) + ',"_id":' + JSON.stringify(s.tags.id) + ',"retry_on_conflict":5}}\n' +
      JSON.stringify({ script: { source: UPDATE_SCRIPT, lang: 'painless', params: { lines: s.lines, bytes: s.bytes, last: s.lastNs, lastIso: nsToIso(s.lastNs), tags } }, upsert }) + '\n')
  }
  return out
}

/** The composite aggregation usage() runs, one page (`after` from the previous page). */
export function usageQuery (fromMs: number, toMs: number, org: string | undefined, after: unknown): Record<string, unknown> {
  const filter: unknown[] = [{ range: { minute: { gte: fromMs, lt: toMs, format: 'epoch_millis' } } }]
  if (org !== undefined) filter.push({ term: { org } })
  return {
    size: 0,
    query: { bool: { filter } },
    aggs: {
      usage: {
        composite: {
          size: 1000,
          sources: [{ minute: { terms: { field: 'minute' } } }, { org: { terms: { field: 'org' } } }, { app: { terms: { field: 'app' } } }],
          ...(after ? { after } : {})
        },
        aggs: {
          lines: { sum: { field: 'lines' } },
          bytes: { sum: { field: 'bytes' } },
          dropped_lines: { sum: { field: 'dropped_lines' } },
          dropped_bytes: { sum: { field: 'dropped_bytes' } }
        }
      }
    }
  }
}

interface CompositeBucket { key: { minute: number | string, org: string, app?: string }, [k: string]: unknown }
export interface CompositeAgg { after_key?: unknown, buckets: CompositeBucket[] }

export function usageRows (agg: CompositeAgg): UsageRow[] {
  const v = (b: CompositeBucket, k: string) => Math.round(((b[k] as { value?: number } | undefined)?.value) ?? 0)
  return agg.buckets.map((b) => ({
    minute: Number(b.key.minute), org: b.key.org, app: b.key.app ?? '',
    lines: v(b, 'lines'), bytes: v(b, 'bytes'), droppedLines: v(b, 'dropped_lines'), droppedBytes: v(b, 'dropped_bytes')
  }))
}

/** Buckets per rollup page: a report of up to this many (bucket, org[, app]) cells is one request. */
export const ROLLUP_PAGE = 10_000

/**
 * A usage report's sums computed by the engine: a composite aggregation whose first source is
 * a `date_histogram` of `minute` at the report's step (fixed intervals start at the epoch, in
 * UTC, as UsageRollupRequest says), then `terms` of org (and app), with `sum`s under it.
 * Composite rather than nested terms so that a rollup larger than a page is paged, never cut.
 */
export function rollupQuery (req: UsageRollupRequest, after: unknown): Record<string, unknown> {
  const filter: unknown[] = [{ range: { minute: { gte: req.fromMs, lt: req.toMs, format: 'epoch_millis' } } }]
  if (req.org !== undefined) filter.push({ term: { org: req.org } })
  const sources: unknown[] = [{ minute: { date_histogram: { field: 'minute', fixed_interval: `${req.stepMs}ms` } } }, { org: { terms: { field: 'org' } } }]
  if (req.byApp) sources.push({ app: { terms: { field: 'app' } } })
  return {
    size: 0,
    query: { bool: { filter } },
    aggs: {
      usage: {
        composite: { size: ROLLUP_PAGE, sources, ...(after ? { after } : {}) },
        aggs: {
          lines: { sum: { field: 'lines' } },
          bytes: { sum: { field: 'bytes' } },
          dropped_lines: { sum: { field: 'dropped_lines' } },
          dropped_bytes: { sum: { field: 'dropped_bytes' } }
        }
      }
    }
  }
}

/** One rollup page's buckets (app '' when the rollup is per org). */
export function rollupBuckets (agg: CompositeAgg): UsageBucket[] {
  return usageRows(agg).map((r) => ({ ...r, app: r.app ?? '' }))
}
