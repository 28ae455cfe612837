import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { NDJSON } from '../../core/wire.js'
import { metricValue, metrics, rssWatcher } from '../helpers/faults.js'
import { startDaytwo, tempDir } from '../helpers/daytwo-process.js'
import { probe } from './attack-helpers.js'

// Issue 14, item 5: decompression and fleet-report floods at the collector. 40 gzip bombs at
// once (2 GiB of zeros each, 2 MB on the wire), then metric reports from four "nodes" naming
// 20 000 jobs each, then scrapes of /fleet/metrics. Bombs stop at the batch limit (413) or
// find the shared inflate budget spent (503 with Retry-After), each counted; the fleet keeps
// at most its series caps and counts the rest; /healthz on every role answers within 1 s
// throughout and the process's RSS stays bounded.

const TOKEN = 'flood-ingest-token'
const BOMBS = 40
const NODES = 4
const JOBS_PER_NODE = 20_000
const PER_NODE = 2000
const FLEET_MAX = 6000
const RSS_BOUND = 600 * 1024 * 1024

/** Many gzip members of 8 MiB of zeros: `members` × 8 MiB once inflated. */
function bomb (members: number): Buffer {
  const one = gzipSync(Buffer.alloc(8 << 20), { level: 9 })
  return Buffer.concat(Array.from({ length: members }, () => one))
}

function report (node: number): Buffer {
  const samples: unknown[] = []
  const instances: unknown[] = []
  for (let j = 0; j < JOBS_PER_NODE; j++) {
    const inst = { deployment: 'flood', job: `j${node}-${j}`, index: '0' }
    instances.push({ ...inst, lastLineAgeMs: 0 })
    samples.push([['flood', inst.job, '0', 'p', 'stdout'], j])
  }
  return gzipSync(JSON.stringify({ v: 1, node: `node-${node}`, self: { deployment: 'flood', job: `node-${node}`, index: '0' }, startedMs: 1, instances, samples: { daytwo_log_lines_total: samples } }))
}

test('gzip bombs and fleet-report floods are bounded and counted; /healthz answers within 1 s', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir('daytwo-floods-')
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0, metrics: { enabled: false } },
    collector: { port: 0, tokens: [TOKEN], maxBodyBytes: 16 << 20, inflateBudgetBytes: 48 << 20, fleet: { maxSeriesPerNode: PER_NODE, maxSeries: FLEET_MAX, maxReportBytes: 16 << 20 } },
    query: { port: 0, tokens: ['flood-operator'] }
  }
  const d = await startDaytwo('all', cfg, tmp.path)
  const rss = rssWatcher(d.child.pid!)
  t.after(async () => { rss.stop(); await d.kill(); tmp.cleanup() })
  const collector = d.urls.collector!
  // Payloads are made before probing starts: the prober measures this process's event loop too.
  const bombBody = new Uint8Array(bomb(256))
  assert.ok(bombBody.length < 16 << 20, `bomb is ${bombBody.length} bytes on the wire`)
  const reports = Array.from({ length: NODES }, (_, n) => new Uint8Array(report(n)))
  // Every 50 ms: on a fast machine the floods are over in about a second.
  const prober = probe(Object.values(d.urls), 50)

  // 1. Gzip bombs, all at once.
  const answers = await Promise.all(Array.from({ length: BOMBS }, async () => {
    const res = await fetch(`${collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': NDJSON, 'content-encoding': 'gzip' }, body: bombBody, signal: AbortSignal.timeout(60_000) })
    const body = await res.json() as { code: string }
    return { status: res.status, code: body.code, retryAfter: res.headers.get('retry-after') }
  }))
  for (const a of answers) {
    assert.ok(a.status === 413 || a.status === 503, JSON.stringify(a))
    if (a.status === 503) assert.deepEqual([a.code, a.retryAfter], ['DAYTWO_ERR_INFLATE_BUSY', '1'])
  }
  const busy = answers.filter((a) => a.status === 503).length

  // 2. Fleet reports naming far more jobs than the caps allow.
  for (let n = 0; n < NODES; n++) {
    const res = await fetch(`${collector}/api/v1/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: reports[n]!, signal: AbortSignal.timeout(60_000) })
    assert.equal(res.status, 200, await res.text())
  }
  // 3. Scrapes of the whole fleet, several at once.
  const scrapes = await Promise.all(Array.from({ length: 8 }, async () => {
    const res = await fetch(`${collector}/fleet/metrics`, { signal: AbortSignal.timeout(30_000) })
    return await res.text()
  }))
  const probed = await prober.stop()
  rss.stop()

  const series = scrapes[0]!.split('\n').filter((l) => l.startsWith('daytwo_log_lines_total{')).length
  assert.ok(series > 0 && series <= FLEET_MAX, `${series} daytwo_log_lines_total series exposed`)
  const text = await metrics(collector)
  const rejected = (reason: string) => metricValue(text, 'daytwo_collector_rejected_requests_total', { reason })
  assert.equal(rejected('too_large') + rejected('inflate_busy'), BOMBS)
  assert.equal(rejected('inflate_busy'), busy)
  assert.ok(busy > 0, 'no bomb found the inflate budget spent')
  const dropped = (reason: string) => metricValue(text, 'daytwo_collector_fleet_dropped_total', { reason })
  assert.ok(dropped('node_series_limit') + dropped('fleet_series_limit') >= NODES * JOBS_PER_NODE - FLEET_MAX, text.split('\n').filter((l) => l.includes('fleet_dropped')).join('\n'))
  assert.ok(metricValue(text, 'daytwo_collector_fleet_series') <= FLEET_MAX)

  assert.deepEqual(probed.failures, [])
  assert.ok(probed.probes >= 10, `only ${probed.probes} probes ran`)
  assert.ok(probed.slowestMs < 1000, `slowest /healthz answer took ${probed.slowestMs.toFixed(0)} ms during the floods`)
  assert.ok(rss.peak() < RSS_BOUND, `peak RSS ${(rss.peak() / 1048576).toFixed(0)} MB`)
})
