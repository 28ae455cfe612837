import type { Client } from '@elastic/elasticsearch'
import type { ElasticsearchConfig } from '../../core/config/elasticsearch.js'
import { DaytwoError } from '../../core/errors.js'
import { silentLogger, type Logger } from '../../core/logger.js'
import type { Entry, StreamBatch } from '../../core/record.js'
import { recordId } from '../../core/record.js'
import type { DropRow, LogStore, ReadRequest, StreamInfo, StreamSelector, UsageRequest, UsageRow, WriteResult } from '../log-store.js'
import { BulkService, type BulkOp } from './bulk-service.js'
import { createClient, describe, fatal, statusOf } from './client.js'
import { encodeDeadLetter, encodeRecord, streamTail } from './encoder.js'
import { READ_FIELDS, hitToEntry, readQuery } from './reader.js'
import { dropOps, streamOps, usageOps, usageQuery, usageRows, type CompositeAgg, type StreamAcc, type UsageAcc } from './rollups.js'
import { streamsFilter, streamsSearch, toStreamInfo } from './streams-query.js'
import { installTemplates } from './templates.js'
import { genericSelectLogs, genericSelectSamples, genericVariants } from '../generic-select.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from '../select-params.js'

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
 * The Elasticsearch LogStore: records in a data stream written with bulk `create` and the
 * record id, so a retry never stores a line twice (DESIGN.md "Store").
 */
export class ElasticsearchStore implements LogStore {
  readonly kind = 'elasticsearch'
  readonly stats: EsWriteStats = { created: 0, existing: 0, deadLettered: 0, lost: 0 }
  readonly bulk: BulkService
  private readonly path: string

  private constructor (readonly client: Client, private readonly cfg: ElasticsearchConfig, private readonly log: Logger) {
    this.bulk = new BulkService(client, {
      url: cfg.url,
      maxBytes: cfg.bulkMaxBytes,
      maxDocs: cfg.bulkMaxDocs,
      concurrency: cfg.concurrency,
      backoff: { initialMs: cfg.retryInitialMs, maxMs: cfg.retryMaxMs },
      log
    })
    this.path = `/${encodeURIComponent(cfg.dataStream)}/_bulk`
  }

  /** Connects (which checks that the URL is Elasticsearch) and installs templates and policy. */
  static async open (cfg: ElasticsearchConfig, log: Logger = silentLogger): Promise<ElasticsearchStore> {
    if (!cfg.url) throw new DaytwoError('CONFIG', 'store.kind is elasticsearch but store.elasticsearch.url (DAYTWO_STORE_ELASTICSEARCH_URL) is empty')
    const client = createClient(cfg)
    try {
      const info = await client.info()
      log.info({ cluster: info.cluster_name, version: info.version.number }, 'elasticsearch: connected')
    } catch (err) {
      await client.close()
      throw fatal(err, cfg.url) ?? new DaytwoError('UNREACHABLE', `Elasticsearch at ${cfg.url}`, describe(err, cfg.url))
    }
    if (cfg.installTemplates) {
      try {
        await installTemplates(client, cfg)
      } catch (err) {
        await client.close()
        throw fatal(err, cfg.url) ?? new DaytwoError('ES_SETUP', 'index templates and lifecycle policy', describe(err, cfg.url))
      }
    }
    return new ElasticsearchStore(client, cfg, log)
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
        ops.push({ ndjson: encodeRecord(stream.id, tail, e) })
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
        const id = recordId(stream.id, e[1])
        const original = ops[k]!.ndjson.slice(ops[k]!.ndjson.indexOf('\n') + 1, -1)
        dead.push({ ndjson: encodeDeadLetter(id, stream.id, original, r.status, r.error, nowIso) })
        deadRefs.push(k)
      }
    }
    if (dead.length > 0) await this.deadLetter(dead, deadRefs, results, deadline)

    const book = [...usageOps(this.cfg.usageIndex, minute, usage.values()), ...streamOps(this.cfg.streamsIndex, streams.values())]
    if (book.length > 0) {
      const r = await this.bulk.run('/_bulk', book.map((ndjson) => ({ ndjson })), deadline)
      r.forEach((x, i) => {
        if (x.status >= 300 && x.status !== 409) this.log.error({ status: x.status, error: x.error, op: book[i]!.slice(0, 200) }, 'elasticsearch: usage or stream bookkeeping refused')
      })
    }
    return res
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
    const id = recordId(stream.id, e[1])
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
    for (let i = 0; i < r.length; i++) {
      const orig = results[deadRefs[i]!]!
      if (r[i]!.status < 300 || r[i]!.status === 409) {
        this.stats.deadLettered++
        this.log.warn({ status: orig.status, error: orig.error }, 'elasticsearch: record refused, kept in the dead letter')
      } else {
        this.stats.lost++
        this.log.error({ status: orig.status, error: orig.error, deadLetterStatus: r[i]!.status, deadLetterError: r[i]!.error }, 'elasticsearch: record refused by the data stream and by the dead letter; it is lost')
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

  /** A search on one index; null when the index does not exist yet (nothing written). */
  private async search<T> (index: string, body: Record<string, unknown>, missingOk: boolean): Promise<T | null> {
    try {
      return await this.client.transport.request<T>({ method: 'POST', path: `/${encodeURIComponent(index)}/_search`, body })
    } catch (err) {
      if (missingOk && statusOf(err) === 404) return null
      throw fatal(err, this.cfg.url) ?? new DaytwoError('STORE_UNAVAILABLE', describe(err, this.cfg.url))
    }
  }

  // Answered in this process from streams() and read() until the queries run in the engine.
  selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
    return genericSelectLogs(this, p)
  }

  async selectSamples (p: SampleParams): Promise<SampleVariant[]> {
    return await genericSelectSamples(this, p)
  }

  async variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
    return await genericVariants(this, p)
  }

  async * read (req: ReadRequest): AsyncIterable<{ stream: StreamInfo, entries: Entry[] }> {
    const streams = await this.streams(req.selector)
    if (streams.length === 0) return
    let pitId: string
    try {
      const pit = await this.client.transport.request<{ id: string }>({ method: 'POST', path: `/${encodeURIComponent(this.cfg.dataStream)}/_pit`, querystring: { keep_alive: '1m' } })
      pitId = pit.id
    } catch (err) {
      if (statusOf(err) === 404) return
      throw fatal(err, this.cfg.url) ?? new DaytwoError('STORE_UNAVAILABLE', describe(err, this.cfg.url))
    }
    const size = this.cfg.readPageSize
    try {
      for (const stream of streams) {
        const query = readQuery(stream, req)
        let after: unknown[] | undefined
        for (;;) {
          const body = {
            size,
            query,
            pit: { id: pitId, keep_alive: '1m' },
            sort: [{ 'log.offset': 'asc' }],
            _source: READ_FIELDS,
            track_total_hits: false,
            ...(after ? { search_after: after } : {})
          }
          let r: { pit_id?: string, hits: { hits: Array<{ _source?: Record<string, unknown>, sort?: unknown[] }> } }
          try {
            r = await this.client.transport.request({ method: 'POST', path: '/_search', body })
          } catch (err) {
            throw fatal(err, this.cfg.url) ?? new DaytwoError('STORE_UNAVAILABLE', describe(err, this.cfg.url))
          }
          if (r.pit_id) pitId = r.pit_id
          const hits = r.hits.hits
          if (hits.length > 0) yield { stream, entries: hits.map(hitToEntry) }
          if (hits.length < size) break
          after = hits[hits.length - 1]!.sort
        }
      }
    } finally {
      await this.client.transport.request({ method: 'DELETE', path: '/_pit', body: { id: pitId } }).catch(() => {})
    }
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

  async recordDrops (rows: DropRow[]): Promise<void> {
    if (rows.length === 0) return
    const minute = Math.floor(Date.now() / 60000) * 60000
    const ops = dropOps(this.cfg.usageIndex, minute, rows).map((ndjson) => ({ ndjson }))
    const r = await this.bulk.run('/_bulk', ops, Date.now() + this.cfg.retryTimeoutMs)
    const bad = r.filter((x) => x.status >= 300 && x.status !== 409)
    if (bad.length > 0) this.log.error({ refused: bad.length, first: bad[0] }, 'elasticsearch: drop rollups refused')
  }

  async check (): Promise<string | null> {
    try {
      const h = await this.client.cluster.health({ timeout: '5s' }, { maxRetries: 0 })
      return h.status === 'red' ? `Elasticsearch cluster ${h.cluster_name} is red` : null
    } catch (err) {
      if (statusOf(err) === 403) {
        // No `monitor` privilege: answering at all is enough.
        try { await this.client.info(); return null } catch (e) { return describe(e, this.cfg.url) }
      }
      return describe(err, this.cfg.url)
    }
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}
