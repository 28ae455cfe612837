import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Poster } from '../forwarder/http-client.js'
import type { Entry, StreamBatch, StreamTags } from '../core/record.js'
import { FRAMES, encodeFrames } from '../core/frames.js'
import { encodeRecord, streamTail } from '../store/elasticsearch/encoder.js'
import { startDaytwo, tempDir } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { criLines } from './lib/cri-corpus.js'
import { cpuSeconds, TreeSampler } from './lib/proc-stats.js'
import { fmt, log, machine, median, table } from './lib/report.js'
import { loadResult, repeat, type Figures } from './lib/run.js'

// C1 — collector throughput. node dist/bench/c1-collector.bench.js [--records 1000000] [--lanes 8] [--runs 3] [--gzip]
// `logs serve collector` (embedded store, static tenant mapping) in a child process; this
// process plays `lanes` forwarders, each POSTing pre-built frames batches (core/frames.ts, what
// the forwarder sends) of ~1 MB (as the forwarder's shipper builds them: 4 streams per batch,
// offsets increasing per stream) one after another, over one kept-alive connection with the
// forwarder's own HTTP client. Bodies are not compressed, as the forwarder's default
// (forwarder.compression: none); --gzip sends them gzipped at level 1. A 200 means enriched, accounted and committed. Then the Elasticsearch
// bulk encoder (store/elasticsearch/encoder.ts) is timed in-process on the same records.

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, lanes: { type: 'string', default: '8' }, runs: { type: 'string', default: '3' }, gzip: { type: 'boolean', default: false } } })
const GZIP = values.gzip
const N = Number(values.records)
const LANES = Number(values.lanes)
const RUNS = Number(values.runs)
const TOKEN = 'bench-forwarder-token'
const STREAMS_PER_LANE = 4
const LINES_PER_BATCH = 4800 // ~1 MB of CRI messages, the forwarder's batchMaxBytes
const NAMESPACES = ['shop', 'payments', 'kube-system', 'monitoring', 'auth']

function tags (lane: number, s: number): StreamTags {
  const ns = NAMESPACES[(lane + s) % NAMESPACES.length]!
  const pod = `web-7d9f8b6c5-${lane}x${s}`
  return { id: `bench${lane}s${s}`, source: 'file', node: `node-${lane}`, deployment: ns, job: 'web', index: `${lane}x${s}`, process: 'app', path: `/var/log/pods/${ns}_${pod}_uid/app/0.log`, namespace: ns, pod, container: 'app' }
}

/** The batches of every lane, in order; messages are F1's CRI payloads. */
function buildBatches (): { lanes: Buffer[][], groups: StreamBatch[] } {
  const msgs = criLines(0, 20_000).split('\n').slice(0, -1).map((l) => l.slice(l.indexOf(' F ') + 3))
  const lanes: Buffer[][] = []
  const all: StreamBatch[] = []
  const offsets = new Map<string, number>()
  let made = 0
  let k = 0
  for (let l = 0; l < LANES; l++) lanes.push([])
  for (let b = 0; made < N; b++) {
    const lane = b % LANES
    const groups: StreamBatch[] = []
    const lines = Math.min(LINES_PER_BATCH, N - made)
    for (let s = 0; s < STREAMS_PER_LANE; s++) {
      const t = tags(lane, s)
      const entries: Entry[] = []
      let off = offsets.get(t.id) ?? 0
      const per = Math.floor(lines / STREAMS_PER_LANE) + (s < lines % STREAMS_PER_LANE ? 1 : 0)
      for (let i = 0; i < per; i++) {
        const m = msgs[k++ % msgs.length]!
        entries.push([String(1795000000000000000n + BigInt(made + entries.length) * 1000n), off, m, 'stdout'])
        off += Buffer.byteLength(m) + 40
      }
      offsets.set(t.id, off)
      if (entries.length > 0) groups.push({ stream: t, entries })
    }
    made += lines
    const body = encodeFrames(groups)
    lanes[lane]!.push(GZIP ? gzipSync(body, { level: 1 }) : body)
    all.push(...groups)
  }
  return { lanes, groups: all }
}

async function post (poster: Poster, body: Buffer): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await poster.post(body)
    if (res.status === 200) return
    if (attempt > 20 || res.status === 400 || res.status === 401) throw new Error(`ingest answered ${res.status}: ${res.text.slice(0, 300)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function main (): Promise<void> {
  const tmp = tempDir('daytwo-c1-')
  log(`C1: building ${fmt(N)} records in ${LANES} lanes; ${machine()}`)
  const { lanes, groups } = buildBatches()
  const batches = lanes.reduce((n, l) => n + l.length, 0)
  const gz = lanes.reduce((n, l) => n + l.reduce((m, b) => m + b.length, 0), 0)
  const mapping = join(tmp.path, 'mapping.json')
  writeFileSync(mapping, JSON.stringify({ rules: [
    { match: { deployment: 'shop' }, org: 'retail', space: 'prod', app: 'shop' },
    { match: { deployment: 'payments', job: 'web*' }, org: 'finance', space: 'prod' },
    { match: { namespace: 'kube-*' }, org: 'platform', space: 'system' },
    { match: { deployment: '*' }, org: 'other', space: 'default' }
  ] }))

  const ingest = await repeat('collector ingest → embedded store', RUNS, async (run): Promise<Figures> => {
    const dir = join(tmp.path, `run${run}`)
    const p = await startDaytwo('collector', { dataDir: dir, logLevel: 'warn', collector: { port: 0, tokens: [TOKEN], tenants: { mappingFile: mapping } } }, tmp.path)
    const sampler = new TreeSampler(p.child.pid!)
    try {
      const url = `${p.urls.collector}/api/v1/ingest`
      const headers: Record<string, string> = { 'content-type': FRAMES, authorization: `Bearer ${TOKEN}`, ...(GZIP ? { 'content-encoding': 'gzip' } : {}) }
      const posters = lanes.map(() => new Poster(url, headers))
      const t0 = process.hrtime.bigint()
      await Promise.all(lanes.map(async (bodies, i) => { for (const b of bodies) await post(posters[i]!, b) }))
      const secs = Number(process.hrtime.bigint() - t0) / 1e9
      for (const x of posters) x.close()
      const s = sampler.stop()
      const stored = metricValue(await (await fetch(`${p.urls.collector}/metrics`)).text(), 'daytwo_collector_records_stored_total')
      return { rate: N / secs, secs, cpuS: s.cpuS, rssMB: s.peakRssMB, delivered: stored }
    } finally { sampler.stop(); await p.stop() }
  })

  const enc = await repeat('Elasticsearch bulk encoder', RUNS, async (): Promise<Figures> => {
    const c0 = cpuSeconds(process.pid)
    const t0 = process.hrtime.bigint()
    let bytes = 0
    let n = 0
    for (const g of groups) {
      const t = { ...g.stream, org: 'retail', space: 'prod', app: 'shop' }
      const tail = streamTail(t)
      let body = ''
      for (const e of g.entries) { body += encodeRecord(t.id, tail, e); n++ }
      bytes += body.length
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9
    return { rate: n / secs, secs, cpuS: cpuSeconds(process.pid) - c0, rssMB: NaN, delivered: n }
  })

  const f1 = loadResult<{ forwarderRate: number, lines: number, at: string }>('f1')
  const ref = f1?.forwarderRate ?? NaN
  const row = (name: string, runs: Figures[]) => {
    const rate = median(runs.map((r) => r.rate))
    return [name, fmt(rate), fmt(median(runs.map((r) => r.secs)), 2), fmt(median(runs.map((r) => r.cpuS)), 2), fmt(median(runs.map((r) => r.rssMB)), 1),
      Number.isFinite(ref) ? fmt(rate / ref, 2) + '×' : '–', String(runs.length)]
  }
  console.log(`\nC1 collector: ${fmt(N)} records in ${batches} frames batches (${fmt(gz / 2 ** 20, 1)} MiB${GZIP ? ' gzipped' : ', not compressed'}), ${LANES} concurrent senders, median of ${RUNS} runs\n${machine()}\n`)
  console.log(table(['stage', 'records/s', 'wall s', 'CPU s', 'peak RSS MB', '÷ F1 forwarder', 'runs'], [row('ingest → enrich → account → embedded store', ingest), row('Elasticsearch bulk encoding (in-process)', enc)]))
  if (Number.isFinite(ref)) {
    const r = median(ingest.map((x) => x.rate))
    console.log(`\ntarget: collector ≥ 1.5 × F1's forwarder rate (${fmt(ref)} lines/s, F1 run at ${f1!.at}): ${r >= 1.5 * ref ? 'met' : 'NOT met'} (${fmt(r / ref, 2)}×)`)
  } else console.log('\ntarget: run bench/f1-tail first for the forwarder rate to compare with')
  for (const x of ingest) if (x.delivered !== N) console.log(`note: the store committed ${x.delivered} of ${N} records in one run`)
  tmp.cleanup()
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
