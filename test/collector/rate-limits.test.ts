import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry, StreamBatch } from '../../core/record.js'
import { noticeStreamId } from '../../collector/limits/notice.js'
import type { LogStore } from '../../store/log-store.js'
import { bytesOf, entries, ingest, metric, startCollector, storedId, tags, usageTotals } from '../helpers/collector.js'

// Log rate limits through the ingest API: the flooding app is cut at its limit, the quiet app is
// untouched, drops are counted once (metrics and usage rows), retries never change a decision,
// and one notice per episode lands in the app's own logs.

const LIMIT = 4096
const flood = (from: number, n = 200) => ({ stream: tags('flood', { org: 'acme', space: 'prod', app: 'noisy' }), entries: entries(from, n, 100, 'flood') })
const quiet = (from: number, n = 10) => ({ stream: tags('quiet', { org: 'acme', space: 'prod', app: 'calm' }), entries: entries(from, n, 60, 'quiet') })

/** The bytes stored of the stream the forwarder sent as `id` (stored bound to its token), or of the collector's own notice stream `id`. */
async function streamBytes (store: LogStore, id: string): Promise<number> {
  return (await store.streams({ streamIds: [storedId(id), id] }))[0]?.bytes ?? 0
}

async function readStream (store: LogStore, id: string): Promise<Entry[]> {
  const out: Entry[] = []
  for await (const c of store.read({ selector: { streamIds: [id] } })) out.push(...c.entries)
  return out
}

test('one app flooding in the same batch as a quiet app: the flood is cut at its limit, the quiet app loses nothing', async (t) => {
  const c = await startCollector(t, { tenants: { appLogRateLimits: [`*/*=${LIMIT / 1024}K`] } })
  const batch: StreamBatch[] = [flood(0), quiet(0)]
  const r = await ingest(c.url, batch)
  assert.equal(r.status, 200)
  assert.equal(await streamBytes(c.store, 'quiet'), bytesOf([quiet(0)]), 'quiet app fully stored')
  const storedFlood = await streamBytes(c.store, 'flood')
  assert.ok(storedFlood > 0 && storedFlood <= LIMIT, `flood stored ${storedFlood} bytes, at most the burst`)
  const noisy = await usageTotals(c.store, 'acme')
  const rows = await c.store.usage({ fromMs: 0, toMs: Date.now() + 60000 })
  const calm = rows.filter((u) => u.app === 'calm')
  assert.equal(calm.reduce((a, u) => a + u.droppedBytes, 0), 0)
  // Every flood byte is either stored or dropped, and the usage rows say which.
  assert.equal(storedFlood + noisy.droppedBytes, bytesOf([flood(0)]))
  assert.equal(await metric(c.url, 'daytwo_collector_dropped_total', { reason: 'rate_limited' }), noisy.droppedLines)
  assert.equal(await metric(c.url, 'daytwo_collector_org_dropped_bytes_total', { org: 'acme' }), noisy.droppedBytes)
  // One notice in the app's own logs, with the app's tenant tags.
  const notices = await readStream(c.store, noticeStreamId('acme', 'noisy'))
  assert.equal(notices.length, 1)
  assert.match(notices[0]![2], /app noisy exceeded log rate limit \(4096 bytes\/sec\)/)
  const [info] = await c.store.streams({ streamIds: [noticeStreamId('acme', 'noisy')] })
  assert.deepEqual([info!.org, info!.space, info!.app, info!.deployment, info!.job], ['acme', 'prod', 'noisy', 'cf', 'web'])
})

test('parallel batches: a flooding tenant never costs a quiet tenant a record', async (t) => {
  const c = await startCollector(t, { tenants: { appLogRateLimits: ['acme/noisy=1K'] } })
  const floods = Array.from({ length: 8 }, (_, i) => ingest(c.url, [flood(i * 200)]))
  // Each quiet batch is its own stream (eight instances of the app): one stream's batches come
  // from one forwarder, which sends them one after another, and the store's per-stream
  // high-water mark relies on that order. Concurrent batches of one stream could arrive out of
  // order, and the earlier ones would then be taken for retries of stored lines.
  const quietBatch = (i: number) => ({ ...quiet(i * 10), stream: tags(`quiet-${i}`, { org: 'acme', space: 'prod', app: 'calm' }) })
  const quiets = Array.from({ length: 8 }, (_, i) => ingest(c.url, [quietBatch(i)]))
  const replies = await Promise.all([...floods, ...quiets])
  for (const r of replies) assert.equal(r.status, 200)
  let quietStored = 0
  for (let i = 0; i < 8; i++) quietStored += await streamBytes(c.store, `quiet-${i}`)
  assert.equal(quietStored, bytesOf(Array.from({ length: 8 }, (_, i) => quietBatch(i))))
  const rows = await c.store.usage({ fromMs: 0, toMs: Date.now() + 60000 })
  assert.equal(rows.filter((u) => u.app === 'calm').reduce((a, u) => a + u.droppedLines, 0), 0)
  assert.ok(rows.filter((u) => u.app === 'noisy').reduce((a, u) => a + u.droppedLines, 0) > 0)
})

test('retries reproduce the first decisions: nothing admitted is lost, nothing dropped is stored or counted twice', async (t) => {
  const c = await startCollector(t, { tenants: { appLogRateLimits: [`*/*=${LIMIT}`] } })
  const batch = [flood(0)]
  assert.equal((await ingest(c.url, batch)).status, 200)
  const stored = await streamBytes(c.store, 'flood')
  const dropped = await usageTotals(c.store, 'acme')
  // Let the bucket refill completely: were decisions re-made, the retry would admit more.
  await new Promise((resolve) => setTimeout(resolve, 1200))
  for (let i = 0; i < 2; i++) {
    const r = await ingest(c.url, batch)
    assert.equal(r.status, 200)
    assert.equal(r.body.stored, 0)
  }
  assert.equal(await streamBytes(c.store, 'flood'), stored)
  const after = await usageTotals(c.store, 'acme')
  assert.equal(after.droppedBytes, dropped.droppedBytes)
  assert.equal(after.droppedLines, dropped.droppedLines)
  assert.equal(stored + after.droppedBytes, bytesOf(batch))
  assert.equal(await metric(c.url, 'daytwo_collector_dropped_total', { reason: 'rate_limited' }), after.droppedLines)
  assert.equal((await readStream(c.store, noticeStreamId('acme', 'noisy'))).length, 1, 'one notice, not one per retry')
  // New records are charged again, from the refilled bucket.
  assert.equal((await ingest(c.url, [flood(200, 10)])).status, 200)
  assert.equal(await streamBytes(c.store, 'flood'), stored + bytesOf([flood(200, 10)]))
})

test('a store failure after the limit was applied: the retry stores what was admitted, drops are counted once', async (t) => {
  let failNext = true
  const c = await startCollector(t, { tenants: { appLogRateLimits: [`*/*=${LIMIT}`] } }, (store) => Object.assign(Object.create(store) as LogStore, {
    write: async (b: StreamBatch[]) => {
      if (failNext) { failNext = false; throw new Error('disk full (injected)') }
      return await store.write(b)
    }
  }))
  const batch = [flood(0), quiet(0)]
  assert.equal((await ingest(c.url, batch)).status, 503)
  assert.equal(await streamBytes(c.store, 'flood'), 0)
  assert.equal((await ingest(c.url, batch)).status, 200)
  const totals = await usageTotals(c.store, 'acme')
  const noticeBytes = await streamBytes(c.store, noticeStreamId('acme', 'noisy'))
  assert.ok(noticeBytes > 0, 'the notice went with the retry')
  assert.ok(totals.droppedBytes > 0)
  assert.equal(totals.bytes - noticeBytes + totals.droppedBytes, bytesOf(batch), 'stored + dropped = sent, exactly')
  assert.equal(await metric(c.url, 'daytwo_collector_dropped_total', { reason: 'rate_limited' }), totals.droppedLines)
})

test('an org quota is shared by its apps; another org is not affected', async (t) => {
  const c = await startCollector(t, { tenants: { orgLogRateLimits: ['acme=2K'] } })
  const a = { stream: tags('a', { org: 'acme', app: 'one' }), entries: entries(0, 30, 100) }
  const b = { stream: tags('b', { org: 'acme', app: 'two' }), entries: entries(0, 30, 100) }
  const other = { stream: tags('c', { org: 'globex', app: 'three' }), entries: entries(0, 30, 100) }
  assert.equal((await ingest(c.url, [a, b, other])).status, 200)
  const acmeStored = (await streamBytes(c.store, 'a')) + (await streamBytes(c.store, 'b'))
  assert.ok(acmeStored <= 2048, `acme stored ${acmeStored}`)
  assert.equal(await streamBytes(c.store, 'c'), bytesOf([other]))
  const notice = await readStream(c.store, noticeStreamId('acme', 'two'))
  assert.match(notice[0]![2], /org acme exceeded log rate quota \(2048 bytes\/sec\)/)
})

test('a new episode after a quiet spell writes a new notice; records without a tenant are never limited', async (t) => {
  const c = await startCollector(t, { tenants: { appLogRateLimits: ['*/*=1K'], rateLimitEpisodeMs: 50 } })
  assert.equal((await ingest(c.url, [flood(0, 50)])).status, 200)
  await new Promise((resolve) => setTimeout(resolve, 150))
  assert.equal((await ingest(c.url, [flood(50, 50)])).status, 200)
  const notices = await readStream(c.store, noticeStreamId('acme', 'noisy'))
  assert.equal(notices.length, 2)
  assert.ok(notices[1]![1] > notices[0]![1])
  const platform = { stream: tags('platform', { deployment: 'cf', job: 'router' }), entries: entries(0, 100, 100) }
  assert.equal((await ingest(c.url, [platform])).status, 200)
  assert.equal(await streamBytes(c.store, 'platform'), bytesOf([platform]))
})
