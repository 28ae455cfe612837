import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { StreamBatch } from '../../core/record.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import type { LogStore, WriteResult } from '../../store/log-store.js'
import { TOKEN, bytesOf, entries, ingest, metric, metricsText, startCollector, tags, usageTotals } from '../helpers/collector.js'
import { startDaytwo, tempDir } from '../helpers/daytwo-process.js'

// Usage is counted only for what the store newly committed: retries, lost acknowledgements and
// failed writes never change the totals, which equal the bytes sent, exactly.

test('the same batch sent 3 times through `logs serve collector,query`: usage and org metrics equal the bytes sent once', async (t) => {
  const tmp = tempDir()
  t.after(tmp.cleanup)
  const d = await startDaytwo('collector,query', { dataDir: tmp.path, logLevel: 'warn', collector: { port: 0, tokens: [TOKEN], tenants: { trustForwarderTenants: ['*'] } }, query: { port: 0, tokens: ['operator'] } }, tmp.path)
  t.after(async () => { if (d.child.exitCode === null) await d.kill() })
  const batch: StreamBatch[] = [
    { stream: tags('s1', { org: 'acme', app: 'billing' }), entries: entries(0, 300, 120) },
    { stream: tags('s2', { org: 'globex', app: 'ledger' }), entries: entries(0, 50, 80) }
  ]
  const replies = []
  for (let i = 0; i < 3; i++) replies.push(await ingest(d.urls.collector!, batch))
  assert.deepEqual(replies.map((r) => [r.status, r.body.stored, r.body.duplicates]), [[200, 350, 0], [200, 0, 350], [200, 0, 350]])
  assert.equal(await metric(d.urls.collector!, 'daytwo_collector_org_bytes_total', { org: 'acme' }), bytesOf([batch[0]!]))
  assert.equal(await metric(d.urls.collector!, 'daytwo_collector_org_bytes_total', { org: 'globex' }), bytesOf([batch[1]!]))
  assert.equal(await metric(d.urls.collector!, 'daytwo_collector_bytes_received_total'), 3 * bytesOf(batch))
  assert.equal(await d.stop(), 0)
  const store = await EmbeddedStore.open(join(tmp.path, 'store'))
  t.after(() => store.close())
  assert.deepEqual(await usageTotals(store), { lines: 350, bytes: bytesOf(batch), droppedLines: 0, droppedBytes: 0 })
  assert.equal((await usageTotals(store, 'acme')).bytes, bytesOf([batch[0]!]))
})

test('injected failures (before commit, and after commit with the acknowledgement lost) and retries: usage = bytes sent, exactly', async (t) => {
  let writes = 0
  const c = await startCollector(t, {}, (store) => Object.assign(Object.create(store) as LogStore, {
    write: async (b: StreamBatch[]): Promise<WriteResult> => {
      writes++
      if (writes % 3 === 1) throw new Error('injected: store unavailable')
      const r = await store.write(b)
      if (writes % 3 === 2) throw new Error('injected: committed, acknowledgement lost')
      return r
    }
  }))
  const sent: StreamBatch[] = []
  let attempts = 0
  for (let i = 0; i < 12; i++) {
    const org = ['acme', 'globex', 'initech'][i % 3]!
    const batch = [{ stream: tags(`s-${org}`, { org, app: 'web' }), entries: entries(i * 40, 40, 70 + i) }]
    sent.push(...batch)
    // The forwarder's contract: resend the same batch until it is acknowledged.
    for (;;) {
      attempts++
      const r = await ingest(c.url, batch)
      if (r.status === 200) break
      assert.equal(r.status, 503)
      assert.equal(r.body.code, 'DAYTWO_ERR_STORE_UNAVAILABLE')
    }
  }
  assert.ok(attempts >= 24, `failures were injected (${attempts} attempts)`)
  assert.deepEqual(await usageTotals(c.store), { lines: 480, bytes: bytesOf(sent), droppedLines: 0, droppedBytes: 0 })
  for (const org of ['acme', 'globex', 'initech']) {
    const mine = sent.filter((b) => b.stream.org === org)
    assert.equal((await usageTotals(c.store, org)).bytes, bytesOf(mine), org)
  }
})

test('per-org metrics keep a bounded label set: the top N orgs and "other", never an app label', async (t) => {
  const c = await startCollector(t, { tenants: { metricsTopOrgs: 2 } })
  const batches = ['o1', 'o2', 'o3', 'o4', 'o5'].map((org, i) => ({ stream: tags(`s-${org}`, { org, app: `app-${i}` }), entries: entries(0, 10, 50) }))
  assert.equal((await ingest(c.url, batches)).status, 200)
  const text = await metricsText(c.url)
  const orgs = new Set([...text.matchAll(/^daytwo_collector_org_bytes_total\{[^}]*org="([^"]+)"/gm)].map((m) => m[1]))
  assert.deepEqual([...orgs].sort(), ['o1', 'o2', 'other'])
  assert.doesNotMatch(text, /daytwo_collector_org_[a-z_]+\{[^}]*app=/)
  assert.equal(await metric(c.url, 'daytwo_collector_org_bytes_total'), bytesOf(batches))
  assert.equal(await metric(c.url, 'daytwo_collector_org_bytes_total', { org: 'other' }), bytesOf(batches.slice(2)))
})
