import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { test } from 'node:test'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { sqlUsageRollup, usageRollup } from '../../store/usage-rollup.js'
import { tempDir } from '../helpers/daytwo-process.js'
import { ROLLUP_QUESTIONS, expectedRollup, usageRowsCorpus, checkRollups, ROWS_FROM } from '../helpers/usage-rollups.js'
import { fakeAndStore } from './elasticsearch/setup.js'

// Usage rollups (store/usage-rollup.ts): the SQL over the embedded store's own usage table,
// the search engines' composite aggregation (here on the recorded-response fake; the same
// checks run on a real OpenSearch node in test/opensearch-live/usage-rollup.test.ts), and the
// fallback through usage(), all held to the rollup of the same per-minute rows.

const rows = usageRowsCorpus()

test('the SQL rollup over the embedded usage table sums as the reference does, and usageRollup() falls back to usage() rows', async (t) => {
  const tmp = tempDir('daytwo-rollup-')
  t.after(() => tmp.cleanup())
  const file = join(tmp.path, 'store')
  await (await EmbeddedStore.open(file)).close()
  const db = new Database(join(file, 'daytwo.sqlite'))
  t.after(() => db.close())
  const ins = db.prepare('INSERT INTO usage (minute, org, app, lines, bytes, dropped_lines, dropped_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => { for (const r of rows) ins.run(r.minute, r.org, r.app, r.lines, r.bytes, r.droppedLines, r.droppedBytes) })()
  const store = await EmbeddedStore.open(file)
  t.after(async () => { await store.close() })
  for (const q of ROLLUP_QUESTIONS) {
    const want = expectedRollup(rows, q)
    assert.deepEqual(sqlUsageRollup(db, q), want, JSON.stringify(q))
    assert.deepEqual(await usageRollup(store, q), want, JSON.stringify(q))
  }
  // Totals are kept whatever the step (nothing lost at bucket edges).
  const all = sqlUsageRollup(db, { fromMs: ROWS_FROM, toMs: ROWS_FROM + 10 * 86_400_000, stepMs: 7 * 86_400_000, byApp: false })
  assert.equal(all.reduce((n, b) => n + b.bytes, 0), rows.reduce((n, r) => n + r.bytes, 0))
  assert.throws(() => sqlUsageRollup(db, { fromMs: 0, toMs: 1, stepMs: 7 * 60_000, byApp: false }), /whole minutes dividing a day/)
})

test('the search engines answer a rollup with one composite aggregation of date_histogram and terms', async (t) => {
  const { es, store } = await fakeAndStore(t)
  const index = es.docs.get('daytwo-usage') ?? new Map<string, Record<string, unknown>>()
  es.docs.set('daytwo-usage', index)
  rows.forEach((r, i) => index.set(`u${i}`, { minute: r.minute, org: r.org, app: r.app, lines: r.lines, bytes: r.bytes, dropped_lines: r.droppedLines, dropped_bytes: r.droppedBytes }))
  await checkRollups(store, rows, { count: () => es.requests.filter((r) => r.path === '/daytwo-usage/_search').length, per: 1 })
  const body = JSON.parse(es.requests.find((r) => r.path === '/daytwo-usage/_search')!.body) as { aggs: { usage: { composite: { sources: Array<Record<string, unknown>> } } } }
  assert.deepEqual(Object.keys(body.aggs.usage.composite.sources[0]!.minute as object), ['date_histogram'])
})
