import type { EngineConfig } from '../../core/config/elasticsearch.js'
import { DaytwoError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import type { Entry, StreamBatch } from '../../core/record.js'
import { entryId } from '../../core/record.js'
import { validRollupStep, type DropRow, type LogStore, type ReadRequest, type StreamInfo, type StreamSelector, type UsageBucket, type UsageRequest, type UsageRollupRequest, type UsageRow, type WriteResult } from '../log-store.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from '../select-params.js'
import { BulkService, type BulkOp } from '../elasticsearch/bulk-service.js'
import { encodeDeadLetter, encodeRecord, streamTail } from '../elasticsearch/encoder.js'
import { READ_FIELDS, hitToEntry, readQuery } from '../elasticsearch/reader.js'
import { ROLLUP_PAGE, dropOps, rollupBuckets, rollupQuery, usageOps, usageQuery, usageRows, type CompositeAgg, type StreamAcc, type UsageAcc } from '../elasticsearch/rollups.js'
import { streamsFilter, streamsSearch, toStreamInfo } from '../elasticsearch/streams-query.js'
import { describe, fatal, statusOf, type EngineClient } from './engine-client.js'
import { engineSearch } from './search.js'
import { REC } from './fields.js'
import { order as rollupOrder } from '../usage-rollup.js'
import { SearchReader } from './reads.js'
import { StreamBook } from './stream-book.js'

/** What happened to the records of the writes so far (tests and metrics read it). */
export interface EsWriteStats {
  created: number
  existing: number
  deadLettered: number
  /** Refused by the dead letter too: logged, and lost. */
  lost: number
}

interface RecordRef { batch: number, entry: number }

/**
 * The LogStore over Elasticsearch or OpenSearch: records in a data stream written with bulk
 * `create` and the record id, so a retry never stores a line twice; reads asked of the engine
 * (reads.ts). store/elasticsearch/ and store/opensearch/ add what differs: the client, the
 * templates and lifecycle, and the health check.
 */
export abstract class SearchStore implements LogStore {
  abstract readonly kind: string
  readonly stats: EsWriteStats = { created: 0, existing: 0, deadLettered: 0, lost: 0 }
  readonly bulk: BulkService
  readonly reader: SearchReader
  protected readonly streamBook: StreamBook
  private readonly path: string
  /** Whether every backing index maps message's wildcard subfield (see line-filter.ts). */
  protected wildcardMapped = true

  protected constructor (readonly engine: EngineClient, protected readonly cfg: EngineConfig, protected readonly log: Logger) {
    this.bulk = new BulkService(engine, {
      url: cfg.url,
      maxBytes: cfg.bulkMaxBytes,
      maxDocs: cfg.bulkMaxDocs,
      concurrency: cfg.concurrency,
      backoff: { initialMs: cfg.retryInitialMs, maxMs: cfg.retryMaxMs },
      log
    })
    this.path = `/${encodeURIComponent(cfg.dataStream)}/_bulk`
    this.reader = new SearchReader(engine, cfg, { wildcardMapped: () => this.wildcardMapped })
    this.streamBook = new StreamBook(cfg.streamsIndex, cfg.streamsFlushMs, async (ops) => { await this.bookkeeping(ops) })
  }

  protected get product (): string {
    return this.engine.product
  }

  /**
   * Whether every backing index of the data stream maps message's wildcard subfield: those
   * made before it (an older daytwo's template) do not, and line filters there are checked
   * on the hits alone. One request, at open.
   */
  protected async checkWildcardMapping (): Promise<void> {
    try {
      const r = await this.engine.request<Record<string, { mappings?: Record<string, unknown> }>>({ method: 'GET', path: `/${encodeURIComponent(this.cfg.dataStream)}/_mapping/field/${REC.messageWildcard}` })
      this.wildcardMapped = Object.values(r).every((ix) => ix.mappings !== undefined && REC.messageWildcard in ix.mappings)
    } catch (err) {
      if (statusOf(err) === 404) { this.wildcardMapped = true; return }
      this.wildcardMapped = false
      this.log.warn({ err: describe(err) }, `${this.product.toLowerCase()}: cannot read the data stream's mapping; line filters are checked on the hits only`)
    }
  }

  async write (batches: StreamBatch[]): Promise<WriteResult> {
    const now = Date.now()
    const deadline = now + this.cfg.retryTimeoutMs
    const minute = Math.floor(now / 60000) * 60000
    const res: WriteResult = { lines: 0, bytes: 0, newLines: 0, newBytes: 0, perStream: new Map() }
    const ops: BulkOp[] = []
    const refs: RecordRef[] = []
    const sizes: number[] = []
    for (let b = 0; b < batches.length; b++) {
      const { stream, entries } = batches[b]!
      if (entries.length === 0) continue
      const tail = streamTail(stream)
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!
        const bytes = Buffer.byteLength(e[2])
        res.lines++
        res.bytes += bytes
        // A receiver's line is named by its time and record key (core/record.ts entryId): a retry
        // is refused with 409 as a forwarder's is.
        ops.push({ ndjson: encodeRecord(stream.id, tail, e, bytes, entryId(stream, e)) })
        refs.push({ batch: b, entry: i })
        sizes.push(bytes)
      }
    }
    if (ops.length === 0) return res

    const results = await this.bulk.run(this.path, ops, deadline)

    const usage = new Map<string, UsageAcc>()
    const streams = new Map<string, StreamAcc>()
    const dead: BulkOp[] = []
    const deadRefs: number[] = []
    const nowIso = new Date(now).toISOString()
    for (let k = 0; k < results.length; k++) {
      const r = results[k]!
      const { batch, entry } = refs[k]!
      const { stream, entries } = batches[batch]!
      const e = entries[entry]!
      if (r.status === 201 || r.status === 200) {
        this.stats.created++
        this.count(res, usage, streams, stream, e, sizes[k]!)
      } else if (r.status === 409) {
        this.stats.existing++
      } else {
        const id = entryId(stream, e)
        const original = ops[k]!.ndjson.slice(ops[k]!.ndjson.indexOf('\n') + 1, -1)
        dead.push({ ndjson: encodeDeadLetter(id, stream.id, original, r.status, r.error, nowIso) })
        deadRefs.push(k)
      }
    }
    if (dead.length > 0) await this.deadLetter(dead, deadRefs, results, deadline)

    const book = this.streamBook.take(streams.values())
    const all = [...usageOps(this.cfg.usageIndex, minute, usage.values()), ...book.ops]
    if (all.length > 0) await this.bookkeeping(all, deadline)
    this.streamBook.markWritten(book.ids)
    return res
  }

  private async bookkeeping (book: string[], deadline = Date.now() + this.cfg.retryTimeoutMs): Promise<void> {
    if (book.length === 0) return
    const r = await this.bulk.run('/_bulk', book.map((ndjson) => ({ ndjson })), deadline)
    r.forEach((x, i) => {
      if (x.status >= 300 && x.status !== 409) this.log.error({ status: x.status, error: x.error, op: book[i]!.slice(0, 200) }, `${this.product.toLowerCase()}: usage or stream bookkeeping refused`)
    })
  }

  /** Writes the stream documents' pending sums now (tests; close does it too). */
  async flushStreams (): Promise<void> {
    await this.streamBook.flush()
  }

  private count (res: WriteResult, usage: Map<string, UsageAcc>, streams: Map<string, StreamAcc>, stream: StreamBatch['stream'], e: Entry, bytes: number): void {
    res.newLines++
    res.newBytes += bytes
    const ps = res.perStream.get(stream.id)
    if (ps) { ps.lines++; ps.bytes += bytes } else res.perStream.set(stream.id, { lines: 1, bytes })
    const org = stream.org ?? ''
    const app = stream.app ?? ''
    const key = org + '\0' + app
    const u = usage.get(key)
    const id = entryId(stream, e)
    if (u) { u.lines++; u.bytes += bytes; u.ids.push(id) } else usage.set(key, { org, app, lines: 1, bytes, ids: [id] })
    const s = streams.get(stream.id)
    if (!s) streams.set(stream.id, { tags: stream, firstNs: e[0], lastNs: e[0], lines: 1, bytes })
    else {
      s.lines++
      s.bytes += bytes
      if (BigInt(e[0]) > BigInt(s.lastNs)) s.lastNs = e[0]
      if (BigInt(e[0]) < BigInt(s.firstNs)) s.firstNs = e[0]
    }
  }

  private async deadLetter (dead: BulkOp[], deadRefs: number[], results: Array<{ status: number, error?: unknown }>, deadline: number): Promise<void> {
    const r = await this.bulk.run(`/${encodeURIComponent(this.cfg.deadLetterDataStream)}/_bulk`, dead, deadline)
    const name = this.product.toLowerCase()
    for (let i = 0; i < r.length; i++) {
      const orig = results[deadRefs[i]!]!
      if (r[i]!.status < 300 || r[i]!.status === 409) {
        this.stats.deadLettered++
        this.log.warn({ status: orig.status, error: orig.error }, `${name}: record refused, kept in the dead letter`)
      } else {
        this.stats.lost++
        this.log.error({ status: orig.status, error: orig.error, deadLetterStatus: r[i]!.status, deadLetterError: r[i]!.error }, `${name}: record refused by the data stream and by the dead letter; it is lost`)
      }
    }
  }

  async streams (sel: StreamSelector): Promise<StreamInfo[]> {
    const filter = streamsFilter(sel)
    if (filter === null) return []
    const out: StreamInfo[] = []
    let after: unknown[] | undefined
    for (;;) {
      const page = 1000
      const r = await this.search<{ hits: { hits: Array<{ _source: Record<string, unknown>, sort: unknown[] }> } }>(this.cfg.streamsIndex, streamsSearch(filter, page, after), true)
      const hits = r?.hits.hits ?? []
      for (const h of hits) out.push(toStreamInfo(h._source))
      if (hits.length < page) return out
      after = hits[hits.length - 1]!.sort
    }
  }

  /** A search on one index (search.ts); null when the index does not exist yet (nothing written). */
  protected async search<T> (index: string, body: Record<string, unknown>, missingOk: boolean, signal?: AbortSignal): Promise<T | null> {
    return await engineSearch<T>(this.engine, `/${encodeURIComponent(index)}/_search`, body, { signal, missingOk })
  }

  /**
   * read() without a point in time: each stream sorted by offset and paged with search_after
   * (offsets are unique and only grow, so pages neither repeat nor skip lines).
   */
  async * read (req: ReadRequest): AsyncIterable<{ stream: StreamInfo, entries: Entry[] }> {
    const streams = await this.streams(req.selector)
    const size = this.cfg.readPageSize
    for (const stream of streams) {
      const query = readQuery(stream, req)
      let after: unknown[] | undefined
      for (;;) {
        const r = await this.search<{ hits: { hits: Array<{ _source?: Record<string, unknown>, sort?: unknown[] }> } }>(this.cfg.dataStream, {
          size, query, sort: [{ 'log.offset': 'asc' }], _source: READ_FIELDS, track_total_hits: false, ...(after ? { search_after: after } : {})
        }, true)
        const hits = r?.hits.hits ?? []
        if (hits.length > 0) yield { stream, entries: hits.map(hitToEntry) }
        if (hits.length < size) break
        after = hits[hits.length - 1]!.sort
      }
    }
  }

  selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
    return this.reader.selectLogs(p)
  }

  async selectSamples (p: SampleParams): Promise<SampleVariant[]> {
    return await this.reader.selectSamples(p)
  }

  async variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
    return await this.reader.variants(p)
  }

  async usage (req: UsageRequest): Promise<UsageRow[]> {
    const out: UsageRow[] = []
    let after: unknown
    for (;;) {
      const r = await this.search<{ aggregations?: { usage?: CompositeAgg } }>(this.cfg.usageIndex, usageQuery(req.fromMs, req.toMs, req.org, after), true)
      const agg = r?.aggregations?.usage
      if (!agg || agg.buckets.length === 0) break
      out.push(...usageRows(agg))
      if (agg.after_key === undefined) break
      after = agg.after_key
    }
    return out.sort((a, b) => a.minute - b.minute || a.org.localeCompare(b.org) || a.app.localeCompare(b.app))
  }

  /** One composite aggregation per ROLLUP_PAGE buckets (rollups.ts rollupQuery). */
  async usageRollup (req: UsageRollupRequest): Promise<UsageBucket[]> {
    if (!validRollupStep(req.stepMs)) throw new DaytwoError('BAD_QUERY', `usage step ${req.stepMs} ms: give whole minutes dividing a day, or whole days`)
    const out: UsageBucket[] = []
    let after: unknown
    for (;;) {
      const r = await this.search<{ aggregations?: { usage?: CompositeAgg } }>(this.cfg.usageIndex, rollupQuery(req, after), true, req.signal)
      const agg = r?.aggregations?.usage
      if (!agg || agg.buckets.length === 0) break
      out.push(...rollupBuckets(agg))
      // A short page is the last: no request to learn that the next one is empty.
      if (agg.after_key === undefined || agg.buckets.length < ROLLUP_PAGE) break
      after = agg.after_key
    }
    return out.sort(rollupOrder)
  }

  async recordDrops (rows: DropRow[]): Promise<void> {
    if (rows.length === 0) return
    const minute = Math.floor(Date.now() / 60000) * 60000
    const ops = dropOps(this.cfg.usageIndex, minute, rows).map((ndjson) => ({ ndjson }))
    const r = await this.bulk.run('/_bulk', ops, Date.now() + this.cfg.retryTimeoutMs)
    const bad = r.filter((x) => x.status >= 300 && x.status !== 409)
    if (bad.length > 0) this.log.error({ refused: bad.length, first: bad[0] }, `${this.product.toLowerCase()}: drop rollups refused`)
  }

  async check (): Promise<string | null> {
    try {
      const h = await this.engine.request<{ status: string, cluster_name: string }>({ method: 'GET', path: '/_cluster/health', querystring: { timeout: '5s' } }, { maxRetries: 0 })
      return h.status === 'red' ? `${this.product} cluster ${h.cluster_name} is red` : null
    } catch (err) {
      if (statusOf(err) === 403) {
        // No `monitor` privilege: answering at all is enough.
        try { await this.engine.request({ method: 'GET', path: '/' }); return null } catch (e) { return describe(e) }
      }
      return describe(err)
    }
  }

  async close (): Promise<void> {
    try {
      await this.streamBook.close()
    } catch (err) {
      this.log.warn({ err: describe(err) }, `${this.product.toLowerCase()}: stream documents not flushed at close`)
    }
    await this.engine.close()
  }
}

/** Opens a store: connect (the client checks the product), install templates, check mappings. */
export async function connect (engine: EngineClient, install: (() => Promise<void>) | null, log: Logger): Promise<void> {
  try {
    const info = await engine.request<{ cluster_name?: string, version?: { number?: string, distribution?: string } }>({ method: 'GET', path: '/' })
    if (engine.product === 'OpenSearch' && info.version?.distribution !== 'opensearch') {
      throw new DaytwoError('ES_NOT_ELASTICSEARCH', `${engine.url} is not OpenSearch (version.distribution is ${JSON.stringify(info.version?.distribution ?? null)}); for Elasticsearch use store.kind elasticsearch`)
    }
    log.info({ cluster: info.cluster_name, version: info.version?.number }, `${engine.product.toLowerCase()}: connected`)
  } catch (err) {
    await engine.close()
    if (err instanceof DaytwoError) throw err
    throw fatal(err, engine.product) ?? new DaytwoError('UNREACHABLE', `${engine.product} at ${engine.url}`, describe(err))
  }
  if (install !== null) {
    try {
      await install()
    } catch (err) {
      await engine.close()
      throw fatal(err, engine.product) ?? new DaytwoError('ES_SETUP', 'index templates and lifecycle policy', describe(err))
    }
  }
}
