import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir, waitFor } from '../helpers/daytwo-process.js'
import { startFakeEs } from '../helpers/elasticsearch-fake.js'
import { totalStored } from '../helpers/query-api.js'
import { metricValue, metrics, multisetDiff, sleep, storedMessages, usageBytes } from '../helpers/faults.js'
import { OP_TOKEN, RotatingWriter, splitRoles, type SplitRoles } from './split-roles.js'

// Issue 7: the store fails for a while and recovers, by real means: the embedded store's
// filesystem fills up (a small tmpfs), or Elasticsearch answers 503 and 429. While it fails
// the collector answers 503 (never 200), the forwarder retries; afterwards every line is
// stored exactly once and usage equals the bytes sent.

type T = Parameters<typeof splitRoles>[0] & { diagnostic: (s: string) => void }

/** Write lines while the store fails, check the 503s and retries, recover, check the result. */
async function failAndRecover (t: T, s: SplitRoles, fail: () => void, recover: () => void): Promise<void> {
  mkdirSync(join(s.boshRoot, 'app'), { recursive: true })
  const w = new RotatingWriter(join(s.boshRoot, 'app', 'app.log'), 'app')
  t.after(() => w.close())
  w.write(2000)
  assert.ok(await waitFor(async () => await totalStored(s.collector.urls.query!, OP_TOKEN) === 2000, 30_000, 50), 'stored before the failure')
  const c0 = await metrics(s.collector.urls.collector!)
  const f0 = await metrics(s.forwarder.urls.forwarder!)

  fail()
  for (let i = 0; i < 10; i++) { w.write(500); if (i === 5) w.rotate(); await sleep(50) }
  // Failing for a while: several refused batches.
  assert.ok(await waitFor(async () => metricValue(await metrics(s.collector.urls.collector!), 'daytwo_collector_batches_total', { code: '503' }) - metricValue(c0, 'daytwo_collector_batches_total', { code: '503' }) >= 3, 20_000, 100), 'the collector answered 503 while the store failed')
  const c1 = await metrics(s.collector.urls.collector!)
  const f1 = await metrics(s.forwarder.urls.forwarder!)
  assert.equal(metricValue(c1, 'daytwo_collector_batches_total', { code: '200' }), metricValue(c0, 'daytwo_collector_batches_total', { code: '200' }), 'no batch acknowledged while the store failed')
  assert.ok(metricValue(c1, 'daytwo_collector_rejected_requests_total', { reason: 'store_unavailable' }) > metricValue(c0, 'daytwo_collector_rejected_requests_total', { reason: 'store_unavailable' }), 'counted as store_unavailable')
  const retries = metricValue(f1, 'daytwo_forwarder_batches_total', { result: 'retry' }) - metricValue(f0, 'daytwo_forwarder_batches_total', { result: 'retry' })
  assert.ok(retries >= 3, `the forwarder retried (${retries})`)
  assert.equal(metricValue(f1, 'daytwo_forwarder_dropped_total', { reason: 'rejected_by_collector' }), 0, 'the forwarder dropped nothing')
  t.diagnostic(`while failing: ${retries} forwarder retries`)

  recover()
  w.write(1000)
  const want = w.lines
  const all = await waitFor(async () => await totalStored(s.collector.urls.query!, OP_TOKEN) >= want.length, 60_000, 100)
  await sleep(300)
  const got = await storedMessages(s.collector.urls.query!, OP_TOKEN, s.deployment)
  assert.ok(all, `everything arrived after recovery: ${multisetDiff(got, want)}\n${s.collector.stderr().slice(-1500)}`)
  assert.equal(multisetDiff(got, want), '', 'every line stored exactly once')
  assert.deepEqual(await usageBytes(s.collector.urls.query!, OP_TOKEN), { bytes: w.bytes, lines: want.length }, 'usage equals the bytes sent')
}

test('embedded store on a full filesystem (tmpfs): 503 while full, retried, every line once after space is freed', { timeout: 120_000 }, async (t) => {
  const mnt = tempDir('daytwo-storefs-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt.path], { stdio: 'pipe' })
  } catch (err) {
    mnt.cleanup()
    t.skip(`cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`)
    return
  }
  let s: SplitRoles | undefined
  // After hooks run in order: this one first stops the processes, then unmounts and removes.
  t.after(async () => {
    await s?.forwarder?.kill()
    await s?.collector?.kill()
    try { execFileSync('umount', ['-l', mnt.path], { stdio: 'pipe' }) } catch {}
    mnt.cleanup()
  })
  s = await splitRoles(t, { batchMaxLines: 500 }, {}, { path: join(mnt.path, 'store') })
  const filler = join(mnt.path, 'filler')
  await failAndRecover(t, s, () => {
    // Fill every free byte; SQLite's next write gets SQLITE_FULL.
    const fd = openSync(filler, 'w')
    const chunk = Buffer.alloc(256 * 1024, 0x78)
    try { for (;;) writeSync(fd, chunk) } catch {} finally { closeSync(fd) }
    const small = openSync(join(mnt.path, 'filler-tail'), 'w')
    try { for (;;) writeSync(small, chunk, 0, 512) } catch {} finally { closeSync(small) }
  }, () => {
    rmSync(filler)
    rmSync(join(mnt.path, 'filler-tail'))
  })
})

test('Elasticsearch answering 503 and 429 for a while: 503 to the forwarder, retried, every line once, usage = bytes', { timeout: 120_000 }, async (t) => {
  let failing = false
  let refused = 0
  const es = await startFakeEs({
    intercept: (req) => {
      if (!failing || !req.path.endsWith('/_bulk')) return undefined
      refused++
      return refused % 2 === 0
        ? { status: 503, body: { error: { type: 'unavailable_shards_exception', reason: 'injected' }, status: 503 } }
        : { status: 429, body: { error: { type: 'es_rejected_execution_exception', reason: 'injected' }, status: 429 } }
    }
  })
  t.after(() => es.close())
  const s = await splitRoles(t, { batchMaxLines: 500 }, {}, { kind: 'elasticsearch', elasticsearch: { url: es.url, retryInitialMs: 50, retryMaxMs: 200, retryTimeoutMs: 1000 } })
  await failAndRecover(t, s, () => { failing = true }, () => { failing = false })
  assert.ok(refused >= 3, `Elasticsearch refused bulk requests (${refused})`)
})
