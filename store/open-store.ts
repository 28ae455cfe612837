import { join } from 'node:path'
import type { Config } from '../core/config.js'
import { DaytwoError } from '../core/errors.js'
import type { LogStore } from './log-store.js'

/** The store the configuration names. Imported lazily so a forwarder never loads SQLite. */
export async function openStore (config: Config): Promise<LogStore> {
  const s = config.store
  if (s.kind === 'embedded') {
    const { EmbeddedStore } = await import('./embedded/embedded-store.js')
    return await EmbeddedStore.open(s.path || join(config.dataDir, 'store'), { blockLines: s.blockLines, ...(s.scanWorkers > 0 ? { scanWorkers: s.scanWorkers } : {}), retention: { days: s.retentionDays, maxBytes: s.maxBytes, checkMs: s.retentionCheckMs } })
  }
  const { createLogger } = await import('../core/logger.js')
  if (s.kind === 'opensearch') {
    if (!s.opensearch.url) throw new DaytwoError('CONFIG', 'store.kind is opensearch but store.opensearch.url (DAYTWO_STORE_OPENSEARCH_URL) is empty')
    const { OpenSearchStore } = await import('./opensearch/opensearch-store.js')
    return await OpenSearchStore.open(s.opensearch, createLogger(config.logLevel))
  }
  if (!s.elasticsearch.url) throw new DaytwoError('CONFIG', 'store.kind is elasticsearch but store.elasticsearch.url (DAYTWO_STORE_ELASTICSEARCH_URL) is empty')
  const { ElasticsearchStore } = await import('./elasticsearch/elasticsearch-store.js')
  return await ElasticsearchStore.open(s.elasticsearch, createLogger(config.logLevel))
}
