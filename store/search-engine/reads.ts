import type { EngineConfig } from '../../core/config/elasticsearch.js'
import type { StreamInfo } from '../log-store.js'
import { hitToEntry } from '../elasticsearch/reader.js'
import { isoToNs } from '../elasticsearch/timestamp.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from '../select-params.js'
import type { EngineClient } from './engine-client.js'
import { engineSearch } from './search.js'
import { REC, STREAMS, lineLevel, nsToIsoClamped } from './fields.js'
import { lineTest, prefilter } from './line-filter.js'
import { compileSelector, perLineFilter, streamsQuery, type CompiledSelector } from './selector.js'
import { toStreamInfo } from '../elasticsearch/streams-query.js'

// The three questions of store/select-params.ts, asked of Elasticsearch or OpenSearch.
//
// Requests per question (tests count them through EngineClient.stats):
//  - every question: one search of the streams index per 10 000 streams the selector's
//    pushed-down matchers keep (usually one);
//  - selectLogs: one search per page of `readPageSize` hits, sorted by time, then
//    search_after; no page is asked for before the consumer wants more lines;
//  - selectSamples: one aggregation per page of variants (composite), where the answer is
//    exact in the engine (no line filter, or only substring filters on a mapped wildcard
//    subfield; start, step and range in whole milliseconds); otherwise the lines are paged
//    as for selectLogs and counted here;
//  - variants: one aggregation per 1 000 variants.
// Every request carries the query's AbortSignal; a failed request fails the whole answer
// (search.ts: after a few retries of 429, 503 and failed shards).

/** Streams read per page of the streams index (the default index.max_result_window). */
const STREAMS_PAGE = 10000
/** Terms per `terms` clause, under the engines' default index.max_terms_count (65 536). */
const TERMS_CHUNK = 60000
/** Buckets per aggregation response, under the default search.max_buckets (65 535). */
const MAX_BUCKETS = 60000
/** Fine buckets per variant beyond which counting lines here is cheaper than aggregating. */
const MAX_FINE_BUCKETS = 20000
const VARIANTS_PAGE = 1000

type Sort = Array<Record<string, unknown>>

/** The order of selectLogs: time, then the nanoseconds within the millisecond, stream id, offset. */
export function logSort (direction: 'forward' | 'backward'): Sort {
  const order = direction === 'forward' ? 'asc' : 'desc'
  return [
    // Sort values in milliseconds: a JSON number keeps those exact, nanoseconds it would not.
    { [REC.ts]: { order, numeric_type: 'date' } },
    { [REC.tsSubMs]: { order, missing: 0 } },
    { [REC.streamId]: { order } },
    { [REC.offset]: { order } }
  ]
}

const SOURCE = ['@timestamp', 'log.offset', 'message', 'stream', 'daytwo.stream_id', 'log.level', 'log.syslog.facility.name', 'log.syslog.severity.name', 'log.syslog.msgid', 'log.syslog.structured_data']

interface Hit { _source?: Record<string, unknown>, sort?: unknown[] }
interface SearchResponse { hits: { hits: Hit[] }, aggregations?: Record<string, any> }

export interface ReaderOptions {
  /** Whether every backing index maps message's wildcard subfield (line filters are exact there). */
  wildcardMapped: () => boolean
}

export class SearchReader {
  constructor (private readonly engine: EngineClient, private readonly cfg: EngineConfig, private readonly opts: ReaderOptions) {}

  /** How late a stream document's last_ts may be: the flush interval, and a minute for clocks. */
  private get slackNs (): bigint {
    return BigInt(this.cfg.streamsFlushMs + 60000) * 1_000_000n
  }

  private async search (index: string, body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<SearchResponse | null> {
    return await engineSearch<SearchResponse>(this.engine, `/${encodeURIComponent(index)}/_search`, body, { signal, missingOk: true })
  }

  /** The streams a selector matches over the range, by id (exact: labels tested here). */
  async streamsFor (sel: CompiledSelector, fromNs: bigint, toNs: bigint, signal?: AbortSignal): Promise<Map<string, StreamInfo>> {
    const out = new Map<string, StreamInfo>()
    if (sel.empty) return out
    const query = streamsQuery(sel, fromNs, toNs, this.slackNs)
    let after: unknown[] | undefined
    for (;;) {
      const r = await this.search(this.cfg.streamsIndex, {
        size: STREAMS_PAGE,
        query,
        sort: [{ [STREAMS.firstSeen]: 'asc' }, { [STREAMS.id]: 'asc' }],
        track_total_hits: false,
        ...(after ? { search_after: after } : {})
      }, signal)
      const hits = r?.hits.hits ?? []
      for (const h of hits) {
        const s = toStreamInfo(h._source ?? {})
        if (sel.matches(s)) out.set(s.id, s)
      }
      if (hits.length < STREAMS_PAGE) return out
      after = hits[hits.length - 1]!.sort
    }
  }

  /** The records clauses for a question: its streams, time range, per-line labels and filters. */
  private recordsQuery (ids: string[], sel: CompiledSelector, range: Record<string, string>, pre: { filter: unknown[], mustNot: unknown[] }): Record<string, unknown> {
    const idClause = ids.length <= TERMS_CHUNK
      ? { terms: { [REC.streamId]: ids } }
      : { bool: { should: chunk(ids, TERMS_CHUNK).map((c) => ({ terms: { [REC.streamId]: c } })), minimum_should_match: 1 } }
    const filter = [idClause, { range: { [REC.ts]: { ...range, format: 'strict_date_optional_time_nanos' } } }, ...perLineFilter(sel), ...pre.filter]
    return { bool: { filter, ...(pre.mustNot.length > 0 ? { must_not: pre.mustNot } : {}) } }
  }

  async * selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
    if (p.fromNs >= p.toNs) return
    const sel = compileSelector(p.matchers, p.org)
    const streams = await this.streamsFor(sel, p.fromNs, p.toNs, p.signal)
    if (streams.size === 0) return
    const pre = prefilter(p.lineFilters, this.opts.wildcardMapped())
    const exact = lineTest(p.lineFilters)
    const query = this.recordsQuery([...streams.keys()], sel, { gte: nsToIsoClamped(p.fromNs), lt: nsToIsoClamped(p.toNs) }, pre)
    const sort = logSort(p.direction)
    const size = this.cfg.readPageSize
    const stdio = new Set(sel.stdio)
    const levels = new Set<string>(sel.levels)
    let after: unknown[] | undefined
    for (;;) {
      const r = await this.search(this.cfg.dataStream, { size, query, sort, _source: SOURCE, track_total_hits: false, ...(after ? { search_after: after } : {}) }, p.signal)
      const hits = r?.hits.hits ?? []
      const out: SelectedLine[] = []
      for (const h of hits) {
        const src = h._source ?? {}
        const stream = streams.get(String(src['daytwo.stream_id'] ?? ''))
        if (stream === undefined) continue
        const e = hitToEntry(h)
        const ts = BigInt(e[0])
        if (ts < p.fromNs || ts >= p.toNs) continue
        const level = typeof src['log.level'] === 'string' ? src['log.level'] : lineLevel(e)
        if (!stdio.has(e[3]) || !levels.has(level)) continue
        if (exact !== null && !exact(e[2])) continue
        const line: SelectedLine = { stream, ts: e[0], offset: e[1], line: e[2], stdio: e[3], level }
        if (e[4] !== undefined) line.attrs = e[4]
        out.push(line)
      }
      if (out.length > 0) yield out
      if (hits.length < size) return
      after = hits[hits.length - 1]!.sort
    }
  }

  async selectSamples (p: SampleParams): Promise<SampleVariant[]> {
    if (p.steps <= 0 || p.stepNs <= 0n || p.rangeNs <= 0n) return []
    const sel = compileSelector(p.matchers, p.org)
    const lo = p.startNs - p.rangeNs
    const hi = p.startNs + BigInt(p.steps - 1) * p.stepNs
    const fromNs = p.fromNs > lo ? p.fromNs : lo + 1n
    const toNs = p.toNs < hi + 1n ? p.toNs : hi + 1n
    if (fromNs >= toNs) return []
    const streams = await this.streamsFor(sel, fromNs, toNs, p.signal)
    if (streams.size === 0) return []
    const pre = prefilter(p.lineFilters, this.opts.wildcardMapped())
    const MS = 1_000_000n
    const aligned = p.startNs % MS === 0n && p.stepNs % MS === 0n && p.rangeNs % MS === 0n
    const g = aligned ? gcd(p.stepNs, p.rangeNs) / MS : 0n
    const fine = aligned ? Number((hi - lo) / MS / g) : Infinity
    const range = { gte: nsToIsoClamped(fromNs), lt: nsToIsoClamped(toNs) }
    if (pre.exact && aligned && fine <= MAX_FINE_BUCKETS) {
      return await this.samplesByAggregation(p, sel, streams, pre, range, Number(g), fine)
    }
    return await this.samplesByScan(p, sel, streams, pre, range)
  }

  private async samplesByAggregation (p: SampleParams, sel: CompiledSelector, streams: Map<string, StreamInfo>, pre: { filter: unknown[], mustNot: unknown[] }, range: Record<string, string>, g: number, fine: number): Promise<SampleVariant[]> {
    const MS = 1_000_000n
    const start = Number(p.startNs / MS)
    const step = Number(p.stepNs / MS)
    const rangeMs = Number(p.rangeNs / MS)
    const query = this.recordsQuery([...streams.keys()], sel, range, pre)
    const pageSize = Math.max(1, Math.min(1000, Math.floor(MAX_BUCKETS / (fine + 2))))
    // A line at t is in (a, b] (whole ms) exactly when ceil(t / 1 ms) is in [a + 1, b + 1):
    // fine buckets of g ms on that field, shifted by one, end on every step and window edge.
    const offset = ((start + 1) % g + g) % g
    const out = new Map<string, SampleVariant>()
    await this.composite(query, pageSize, {
      h: { histogram: { field: REC.tsCeilMs, interval: g, offset, min_doc_count: 1 }, aggs: { b: { sum: { field: REC.bytes } } } }
    }, p.signal, (key, bucket) => {
      const v = this.variant(out, streams, key, p.steps)
      if (v === null) return
      for (const hb of (bucket.h?.buckets ?? []) as Array<{ key: number, doc_count: number, b?: { value?: number } }>) {
        const end = Math.round(hb.key) - 1 + g
        const k0 = Math.max(0, Math.ceil((end - start) / step))
        const k1 = Math.min(p.steps - 1, Math.floor((end - g + rangeMs - start) / step))
        if (k0 > k1) continue
        const bytes = hb.b?.value ?? 0
        v.lines[k0]! += hb.doc_count
        v.lines[k1 + 1]! -= hb.doc_count
        v.bytes[k0]! += bytes
        v.bytes[k1 + 1]! -= bytes
      }
    })
    return [...out.values()]
  }

  private async samplesByScan (p: SampleParams, sel: CompiledSelector, streams: Map<string, StreamInfo>, pre: { filter: unknown[], mustNot: unknown[] }, range: Record<string, string>): Promise<SampleVariant[]> {
    const query = this.recordsQuery([...streams.keys()], sel, range, pre)
    const exact = lineTest(p.lineFilters)
    const stdio = new Set(sel.stdio)
    const levels = new Set<string>(sel.levels)
    const out = new Map<string, SampleVariant>()
    const size = this.cfg.readPageSize
    const source = ['@timestamp', 'stream', 'daytwo.stream_id', 'log.level', 'daytwo.bytes', ...(exact !== null ? ['message'] : []), 'log.syslog.severity.name']
    const fromNs = BigInt(isoToNs(range.gte!))
    const toNs = BigInt(isoToNs(range.lt!))
    let after: unknown[] | undefined
    for (;;) {
      const r = await this.search(this.cfg.dataStream, { size, query, sort: logSort('forward'), _source: source, track_total_hits: false, ...(after ? { search_after: after } : {}) }, p.signal)
      const hits = r?.hits.hits ?? []
      for (const h of hits) {
        const src = h._source ?? {}
        const ts = BigInt(isoToNs(String(src['@timestamp'])))
        if (ts < fromNs || ts >= toNs) continue
        const message = String(src.message ?? '')
        const sd = typeof src.stream === 'string' ? src.stream : ''
        const level = typeof src['log.level'] === 'string' ? src['log.level'] : lineLevel(hitToEntry(h))
        if (!stdio.has(sd) || !levels.has(level)) continue
        if (exact !== null && !exact(message)) continue
        const v = this.variant(out, streams, { sid: String(src['daytwo.stream_id'] ?? ''), stdio: sd, level }, p.steps)
        if (v === null) continue
        const d = ts - p.startNs
        const k0 = d <= 0n ? 0 : Number((d + p.stepNs - 1n) / p.stepNs)
        const n = ts + p.rangeNs - p.startNs
        if (n <= 0n) continue
        const k1 = Math.min(p.steps - 1, Number((n + p.stepNs - 1n) / p.stepNs) - 1)
        if (k0 > k1) continue
        const bytes = typeof src['daytwo.bytes'] === 'number' ? src['daytwo.bytes'] : Buffer.byteLength(message)
        v.lines[k0]! += 1
        v.lines[k1 + 1]! -= 1
        v.bytes[k0]! += bytes
        v.bytes[k1 + 1]! -= bytes
      }
      if (hits.length < size) break
      after = hits[hits.length - 1]!.sort
    }
    return [...out.values()]
  }

  private variant (out: Map<string, SampleVariant>, streams: Map<string, StreamInfo>, key: Record<string, unknown>, steps: number): SampleVariant | null {
    const sid = String(key.sid ?? '')
    const stream = streams.get(sid)
    if (stream === undefined) return null
    const stdio = typeof key.stdio === 'string' ? key.stdio : ''
    const level = typeof key.level === 'string' ? key.level : 'unknown'
    const k = sid + '\0' + stdio + '\0' + level
    let v = out.get(k)
    if (v === undefined) {
      v = { stream, stdio, level, lines: new Float64Array(steps + 1), bytes: new Float64Array(steps + 1) }
      out.set(k, v)
    }
    return v
  }

  async variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
    if (p.fromNs >= p.toNs) return []
    const sel = compileSelector(p.matchers, p.org)
    const streams = await this.streamsFor(sel, p.fromNs, p.toNs, p.signal)
    if (streams.size === 0) return []
    const query = this.recordsQuery([...streams.keys()], sel, { gte: nsToIsoClamped(p.fromNs), lt: nsToIsoClamped(p.toNs) }, { filter: [], mustNot: [] })
    const out: VariantTotals[] = []
    await this.composite(query, VARIANTS_PAGE, { b: { sum: { field: REC.bytes } } }, p.signal, (key, bucket) => {
      const stream = streams.get(String(key.sid ?? ''))
      if (stream === undefined) return
      out.push({
        stream,
        stdio: typeof key.stdio === 'string' ? key.stdio : '',
        level: typeof key.level === 'string' ? key.level : 'unknown',
        lines: bucket.doc_count,
        bytes: Math.round(bucket.b?.value ?? 0)
      })
    })
    return out
  }

  /** A composite aggregation over (stream id, stdio, level), every page. */
  private async composite (query: Record<string, unknown>, size: number, aggs: Record<string, unknown>, signal: AbortSignal | undefined, each: (key: Record<string, unknown>, bucket: any) => void): Promise<void> {
    let after: unknown
    for (;;) {
      const r = await this.search(this.cfg.dataStream, {
        size: 0,
        query,
        track_total_hits: false,
        aggs: {
          v: {
            composite: {
              size,
              sources: [
                { sid: { terms: { field: REC.streamId } } },
                { stdio: { terms: { field: REC.stdio, missing_bucket: true } } },
                { level: { terms: { field: REC.level, missing_bucket: true } } }
              ],
              ...(after !== undefined ? { after } : {})
            },
            aggs
          }
        }
      }, signal)
      const agg = r?.aggregations?.v as { after_key?: unknown, buckets: Array<{ key: Record<string, unknown>, doc_count: number }> } | undefined
      if (!agg) return
      for (const b of agg.buckets) each(b.key, b)
      if (agg.buckets.length < size || agg.after_key === undefined) return
      after = agg.after_key
    }
  }
}

function gcd (a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

function chunk<T> (xs: T[], n: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}
