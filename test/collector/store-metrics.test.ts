import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { storeMetrics } from '../../collector/store-metrics.js'
import { recordId } from '../../core/record.js'
import { batch, entries, fakeAndStore } from '../store/elasticsearch/setup.js'

// The search-engine store's refusals on the collector's /metrics (the series alert rules
// DaytwoDeadLetters, DaytwoRecordsLost and DaytwoSearchEngineRejecting read), against the
// recorded-behaviour Elasticsearch of test/helpers/elasticsearch-fake.ts over HTTP.

async function values (registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const m of await registry.getMetricsAsJSON()) {
    if (m.name.startsWith('daytwo_store_')) out[m.name] = (m.values as Array<{ value: number, labels: Record<string, string> }>).reduce((a, v) => a + v.value, 0)
  }
  return out
}

test('dead letters, lost records and retried bulk items are counted as the store meets them', async (t) => {
  const mapping = new Set([recordId('s1', 300), recordId('s1', 900)])
  const busy = new Set([recordId('s1', 0), recordId('s1', 700), recordId('s1', 1100)])
  const { store } = await fakeAndStore(t, {
    itemStatus: (op) => {
      if (op.index !== 'logs-daytwo-default') return undefined
      if (mapping.has(op.id)) return 400
      if (busy.has(op.id) && op.seen < 2) return op.seen === 0 ? 429 : 503
      return undefined
    }
  })
  const registry = new Registry()
  storeMetrics(registry, store)
  assert.deepEqual(await values(registry), { daytwo_store_dead_lettered_records_total: 0, daytwo_store_lost_records_total: 0, daytwo_store_bulk_retried_items_total: 0 })
  await store.write([batch('s1', entries(12))])
  // Two mapping errors dead-lettered; three busy items retried twice each (429, then 503).
  assert.deepEqual(await values(registry), { daytwo_store_dead_lettered_records_total: 2, daytwo_store_lost_records_total: 0, daytwo_store_bulk_retried_items_total: 6 })
  // A second scrape with nothing new adds nothing (the counters follow the store's tallies).
  assert.deepEqual(await values(registry), { daytwo_store_dead_lettered_records_total: 2, daytwo_store_lost_records_total: 0, daytwo_store_bulk_retried_items_total: 6 })
  const text = await registry.metrics()
  assert.match(text, /daytwo_store_dead_lettered_records_total\{store="elasticsearch"\} 2/)
})
