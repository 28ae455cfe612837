import { Counter, type Registry } from 'prom-client'
import type { LogStore } from '../store/log-store.js'
import type { EsWriteStats } from '../store/search-engine/search-store.js'

// The search-engine store's write outcomes as counters on the collector's /metrics, read from
// the store's own tallies at scrape time (SearchStore.stats, BulkService.stats), so the store
// needs no registry. They exist at 0 for the embedded store too: alert rules and dashboards
// (charts/daytwo/rules/daytwo.rules.yaml) then evaluate the same way on every store.

interface EngineTallies {
  stats?: EsWriteStats
  bulk?: { stats: { retriedItems: number } }
}

export function storeMetrics (registry: Registry, store: LogStore): void {
  const s = store as LogStore & EngineTallies
  const labels = { store: store.kind }
  const tally = (name: string, help: string, read: () => number): void => {
    let seen = 0
    new Counter({ // eslint-disable-line no-new
      name,
      help,
      labelNames: ['store'],
      registers: [registry],
      collect () {
        // A counter only goes up: add what the tally gained since the last scrape.
        const now = read()
        this.inc(labels, Math.max(0, now - seen))
        seen = Math.max(seen, now)
      }
    })
  }
  tally('daytwo_store_dead_lettered_records_total', 'Records the search engine refused (a 4xx other than 409) and that were kept in the dead-letter data stream.', () => s.stats?.deadLettered ?? 0)
  tally('daytwo_store_lost_records_total', 'Records the search engine refused and the dead-letter data stream refused too: logged, and lost.', () => s.stats?.lost ?? 0)
  tally('daytwo_store_bulk_retried_items_total', 'Bulk operations the search engine answered with 429 or 5xx (or not at all) and that were sent again: the engine is rejecting or overloaded.', () => s.bulk?.stats.retriedItems ?? 0)
}
