import type { OpenSearchConfig } from '../../core/config/elasticsearch.js'
import { DaytwoError } from '../../core/errors.js'
import { silentLogger, type Logger } from '../../core/logger.js'
import { SearchStore, connect } from '../search-engine/search-store.js'
import { createOpenSearchClient } from './client.js'
import { installOpenSearchTemplates } from './templates.js'

/**
 * The OpenSearch LogStore: the store Elasticsearch has (store/search-engine/), through the
 * official OpenSearch client, with ISM for retention where the plugin is present.
 */
export class OpenSearchStore extends SearchStore {
  readonly kind = 'opensearch'
  /** Whether an ISM policy was installed (false: the cluster has no ISM plugin). */
  ism = false

  private constructor (cfg: OpenSearchConfig, log: Logger) {
    super(createOpenSearchClient(cfg), cfg, log)
  }

  static async open (cfg: OpenSearchConfig, log: Logger = silentLogger): Promise<OpenSearchStore> {
    if (!cfg.url) throw new DaytwoError('CONFIG', 'store.kind is opensearch but store.opensearch.url (DAYTWO_STORE_OPENSEARCH_URL) is empty')
    const store = new OpenSearchStore(cfg, log)
    await connect(store.engine, cfg.installTemplates
      ? async () => {
        store.ism = (await installOpenSearchTemplates(store.engine, cfg)).ism
        if (!store.ism && cfg.ismPolicy) log.warn({ policy: cfg.ismPolicy }, 'opensearch: no Index State Management plugin; records are kept until deleted by the operator (docs/stores.md "OpenSearch")')
      }
      : null, log)
    await store.checkWildcardMapping()
    return store
  }
}
