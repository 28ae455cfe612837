import type { Client } from '@elastic/elasticsearch'
import type { ElasticsearchConfig } from '../../core/config/elasticsearch.js'
import { DaytwoError } from '../../core/errors.js'
import { silentLogger, type Logger } from '../../core/logger.js'
import type { Entry } from '../../core/record.js'
import type { ReadRequest, StreamInfo } from '../log-store.js'
import { readError, statusOf } from '../search-engine/engine-client.js'
import { engineSearch } from '../search-engine/search.js'
import { SearchStore, connect } from '../search-engine/search-store.js'
import { createClient, engineClient } from './client.js'
import { READ_FIELDS, hitToEntry, readQuery } from './reader.js'
import { installTemplates } from './templates.js'

export type { EsWriteStats } from '../search-engine/search-store.js'

/**
 * The Elasticsearch LogStore: the shared store (store/search-engine/) through the official
 * client, with an ILM policy and a point in time for read().
 */
export class ElasticsearchStore extends SearchStore {
  readonly kind = 'elasticsearch'

  private constructor (readonly client: Client, cfg: ElasticsearchConfig, log: Logger) {
    super(engineClient(client, cfg.url), cfg, log)
  }

  /** Connects (which checks that the URL is Elasticsearch) and installs templates and policy. */
  static async open (cfg: ElasticsearchConfig, log: Logger = silentLogger): Promise<ElasticsearchStore> {
    if (!cfg.url) throw new DaytwoError('CONFIG', 'store.kind is elasticsearch but store.elasticsearch.url (DAYTWO_STORE_ELASTICSEARCH_URL) is empty')
    const store = new ElasticsearchStore(createClient(cfg), cfg, log)
    await connect(store.engine, cfg.installTemplates ? async () => { await installTemplates(store.engine, cfg) } : null, log)
    await store.checkWildcardMapping()
    return store
  }

  // read(): one point in time over the data stream for the whole read (a consistent view
  // while pages are fetched), one stream after the other in streams() order, each sorted by
  // log.offset and paged with search_after, so memory stays at one page whatever the range.
  override async * read (req: ReadRequest): AsyncIterable<{ stream: StreamInfo, entries: Entry[] }> {
    const streams = await this.streams(req.selector)
    if (streams.length === 0) return
    let pitId: string
    try {
      const pit = await this.engine.request<{ id: string }>({ method: 'POST', path: `/${encodeURIComponent(this.cfg.dataStream)}/_pit`, querystring: { keep_alive: '1m' } })
      pitId = pit.id
    } catch (err) {
      if (statusOf(err) === 404) return
      throw readError(err, 'Elasticsearch')
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
          const r = (await engineSearch<{ pit_id?: string, hits: { hits: Array<{ _source?: Record<string, unknown>, sort?: unknown[] }> } }>(this.engine, '/_search', body))!
          if (r.pit_id) pitId = r.pit_id
          const hits = r.hits.hits
          if (hits.length > 0) yield { stream, entries: hits.map(hitToEntry) }
          if (hits.length < size) break
          after = hits[hits.length - 1]!.sort
        }
      }
    } finally {
      await this.engine.request({ method: 'DELETE', path: '/_pit', body: { id: pitId } }).catch(() => {})
    }
  }
}
