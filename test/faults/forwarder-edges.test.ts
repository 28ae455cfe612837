import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { metricValue, metrics, storedMessages } from '../helpers/faults.js'

// Forwarder behaviour at the edges found while writing the fault tests (both were bugs: a
// single oversize line retried forever; a far-future time cost its whole batch).

const OP = 'edge-operator'

async function serveAll (t: { after: (fn: () => unknown) => void }, extra: { collector?: Record<string, unknown>, forwarder?: Record<string, unknown> } = {}) {
  const tmp = tempDir('daytwo-edges-')
  const pods = join(tmp.path, 'pods')
  const bosh = join(tmp.path, 'bosh')
  mkdirSync(pods, { recursive: true })
  mkdirSync(bosh, { recursive: true })
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: pods, containerLogRoot: '', boshLogRoot: bosh, boshSpecFile: join(tmp.path, 'none'), deployment: 'edge', job: 'vm', index: '0', port: 0, scanIntervalMs: 100, pollIntervalMs: 20, retryMaxMs: 500, ...extra.forwarder },
    collector: { port: 0, ...extra.collector },
    query: { port: 0, tokens: [OP] }
  }, tmp.path)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  return { d, pods, bosh }
}

test('one line larger than the collector accepts is dropped and counted; the lines after it still arrive', {
  timeout: 60_000
}, async (t) => {
  const { d, bosh } = await serveAll(t, { collector: { maxBodyBytes: 4096 } })
  mkdirSync(join(bosh, 'app'), { recursive: true })
  appendFileSync(join(bosh, 'app', 'app.log'), `before\n${'x'.repeat(20_000)}\nafter\n`)
  const arrived = await waitFor(async () => (await storedMessages(d.urls.query!, OP, 'edge')).includes('after'), 15_000, 200)
  const m = await metrics(d.urls.forwarder!)
  assert.ok(arrived, `the line after the oversize one was stored (forwarder retries so far: ${metricValue(m, 'daytwo_forwarder_batches_total', { result: 'retry' })})`)
  assert.ok(metricValue(m, 'daytwo_forwarder_dropped_total') >= 1, 'the oversize line is counted as dropped')
})

test('a CRI line timestamped beyond 2262 (outside int64 ns) does not cost the other lines of its batch', {
  timeout: 60_000
}, async (t) => {
  const { d, pods } = await serveAll(t)
  const dir = join(pods, 'edge_web-0_u1', 'app')
  mkdirSync(dir, { recursive: true })
  const lines = ['2026-11-23T10:00:00.000000001Z stdout F good 1', '2300-01-01T00:00:00.000000000Z stdout F far future', '2026-11-23T10:00:00.000000002Z stdout F good 2']
  appendFileSync(join(dir, '0.log'), lines.join('\n') + '\n')
  let got: string[] = []
  await waitFor(async () => { got = await storedMessages(d.urls.query!, OP, 'edge'); return got.length >= 3 }, 15_000, 200)
  const m = await metrics(d.urls.forwarder!)
  assert.deepEqual([...got].sort(), ['far future', 'good 1', 'good 2'], `stored ${JSON.stringify(got)}; dropped as rejected_by_collector: ${metricValue(m, 'daytwo_forwarder_dropped_total', { reason: 'rejected_by_collector' })}`)
})
