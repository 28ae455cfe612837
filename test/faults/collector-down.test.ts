import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '../helpers/daytwo-process.js'
import { totalStored } from '../helpers/query-api.js'
import { metricValue, metrics, multisetDiff, rssBytes, sleep, storedMessages, usageBytes } from '../helpers/faults.js'
import { OP_TOKEN, RotatingWriter, splitRoles } from './split-roles.js'

// Issue 7: the collector is down (stopped, its port closed) for a while the applications keep
// writing. The forwarder must not read beyond its bound — files are their own buffer — and
// must resume when the collector is back; then everything arrives exactly once.
//
// The outage lasts 12 s rather than 30 s: with retryMaxMs = 1000 the backoff (250, 500,
// 1000 ms, jitter [base/2, base]) reaches its cap after three attempts, i.e. within ~2 s; the
// remaining ~10 s are spent at the cap, which is the state a 30 s (or 30 min) outage is in too.
// The test checks the cap holds (few retries) and that reading stays flat for the last 6 s.

const MAX_QUEUED = 2
const BATCH_LINES = 500
const OUTAGE_MS = 12_000

test('collector down for 12 s: the forwarder reads no further than its bound, retries at the capped backoff, and resumes; every line once', { timeout: 120_000 }, async (t) => {
  const s = await splitRoles(t, { batchMaxLines: BATCH_LINES, maxQueuedBatches: MAX_QUEUED, retryMaxMs: 1000, flushIntervalMs: 50 })
  mkdirSync(join(s.boshRoot, 'app'), { recursive: true })
  const w = new RotatingWriter(join(s.boshRoot, 'app', 'app.log'), 'app')
  t.after(() => w.close())
  const fwd = () => s.forwarder.urls.forwarder!
  w.write(3000)
  assert.ok(await waitFor(async () => await totalStored(s.collector.urls.query!, OP_TOKEN) === 3000, 30_000, 50), 'the first 3 000 lines are stored while the collector is up')
  const before = await metrics(fwd())
  const readBefore = metricValue(before, 'daytwo_forwarder_lines_read_total')
  const retriesBefore = metricValue(before, 'daytwo_forwarder_batches_total', { result: 'retry' })

  await s.collector.stop()
  const downAt = Date.now()
  let maxQueued = 0
  let readAtHalf = 0
  let writes = 0
  while (Date.now() - downAt < OUTAGE_MS) {
    if (writes++ < 40) { w.write(1000); if (writes % 10 === 0) w.rotate() } // 40 000 lines while the collector is away
    const m = await metrics(fwd())
    maxQueued = Math.max(maxQueued, metricValue(m, 'daytwo_forwarder_queued_batches'))
    if (readAtHalf === 0 && Date.now() - downAt >= OUTAGE_MS / 2) readAtHalf = metricValue(m, 'daytwo_forwarder_lines_read_total')
    await sleep(100)
  }
  const during = await metrics(fwd())
  const readDuring = metricValue(during, 'daytwo_forwarder_lines_read_total') - readBefore
  const retries = metricValue(during, 'daytwo_forwarder_batches_total', { result: 'retry' }) - retriesBefore
  t.diagnostic(`while down: max queued ${maxQueued}, lines read ${readDuring}, retries ${retries}`)
  assert.ok(maxQueued <= MAX_QUEUED + 1, `queued batches stayed ≤ maxQueuedBatches + 1 (max seen ${maxQueued})`)
  // Sealed batches, the open batch and the lines of one read that was already under way.
  const bound = (MAX_QUEUED + 2) * BATCH_LINES
  assert.ok(readDuring <= bound, `read ${readDuring} lines while the collector was down, bound ${bound} (40 000 were written)`)
  assert.equal(metricValue(during, 'daytwo_forwarder_lines_read_total'), readAtHalf, 'no line read in the second half of the outage')
  assert.ok(retries >= 3, `the forwarder kept retrying (${retries} retries)`)
  assert.ok(retries <= OUTAGE_MS / 500 + 6, `retries are spaced by the capped backoff, not hammering (${retries} in ${OUTAGE_MS} ms)`)
  assert.ok(rssBytes(s.forwarder.child.pid!) < 300 * 1024 * 1024, 'the forwarder did not buffer the backlog in memory')

  await s.startCollector()
  w.write(2000)
  const want = w.lines
  const all = await waitFor(async () => await totalStored(s.collector.urls.query!, OP_TOKEN) >= want.length, 60_000, 100)
  await sleep(300)
  const got = await storedMessages(s.collector.urls.query!, OP_TOKEN, s.deployment)
  assert.ok(all, `the forwarder resumed and caught up: ${multisetDiff(got, want)}`)
  assert.equal(multisetDiff(got, want), '', 'every line stored exactly once')
  assert.deepEqual(await usageBytes(s.collector.urls.query!, OP_TOKEN), { bytes: w.bytes, lines: want.length })
})
