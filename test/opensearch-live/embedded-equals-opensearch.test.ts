import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { opensearchSchema } from '../../core/config/elasticsearch.js'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import type { LogStore } from '../../store/log-store.js'
import { OpenSearchStore } from '../../store/opensearch/opensearch-store.js'
import type { LabelMatcher, LineFilter, SampleVariant, SelectedLine } from '../../store/select-params.js'

// The same corpus in the embedded store and in OpenSearch: every question of
// store/select-params.ts gets the same answer from both (`npm run test:opensearch`).

const url = process.env.OPENSEARCH_URL ?? ''
const skip = url ? false : 'OPENSEARCH_URL is not set: run `npm run test:opensearch`'

const T0 = 1_795_428_000_000_000_000n
const S = 1_000_000_000n
const WORDS = ['GET /api', 'upstream timeout', 'ERROR failed', 'WARN slow', '{"level":"info","msg":"ok"}', 'level=debug msg=x', 'héllo wörld', 'status=500', 'FATAL down', '']

function rng (seed: number): () => number {
  let x = seed >>> 0
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32 }
}

function corpus (): StreamBatch[] {
  const r = rng(7)
  const out: StreamBatch[] = []
  for (let s = 0; s < 6; s++) {
    const tags: StreamTags = { id: `s${s}`, source: s === 5 ? 'syslog' : 'file', node: 'n1', deployment: s < 3 ? 'cf' : 'shop', job: `j${s % 4}`, index: String(s), process: 'p', path: `/var/log/${s}.log`, namespace: s < 3 ? 'cf' : 'shop', ...(s !== 4 ? { org: s % 2 === 0 ? 'o1' : 'o2', app: `a${s}` } : {}) }
    const entries: Entry[] = []
    let t = T0
    for (let i = 0; i < 200; i++) {
      // Equal times within and across streams; some off the millisecond grid.
      if (r() < 0.6) t += S * BigInt(Math.floor(r() * 3)) + (r() < 0.2 ? BigInt(Math.floor(r() * 1_000_000)) : 0n)
      const w = WORDS[Math.floor(r() * WORDS.length)]!
      const e: Entry = [String(t), i * 100, w === '' ? '' : `${w} ${Math.floor(r() * 20)}`, s === 4 ? '' : r() < 0.3 ? 'stderr' : 'stdout']
      if (s === 5 && r() < 0.5) e[4] = { severity: r() < 0.5 ? 'err' : 'info' }
      entries.push(e)
    }
    out.push({ stream: tags, entries })
  }
  return out
}

const QUESTIONS: Array<{ matchers: LabelMatcher[], lineFilters: LineFilter[], org?: string }> = [
  { matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [] },
  { matchers: [{ name: 'deployment', op: '=', value: 'cf' }], lineFilters: [{ op: '|=', value: 'timeout' }] },
  { matchers: [{ name: 'namespace', op: '=~', value: 'sh.*' }, { name: 'stream', op: '!=', value: 'stderr' }], lineFilters: [{ op: '!=', value: 'slow' }] },
  { matchers: [{ name: 'job', op: '=~', value: 'j1|j2' }, { name: 'detected_level', op: '=~', value: 'error|fatal|critical' }], lineFilters: [] },
  { matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|~', value: 'ERROR|FATAL' }, { op: '!~', value: '1$' }] },
  { matchers: [{ name: 'job', op: '=~', value: '.+' }, { name: 'level', op: '=', value: 'unknown' }], lineFilters: [], org: 'o2' }
]

const key = (l: SelectedLine) => `${l.ts} ${l.stream.id} ${l.offset} ${l.stdio} ${l.level} ${l.line}`

async function logs (store: LogStore, q: typeof QUESTIONS[number], direction: 'forward' | 'backward'): Promise<string[]> {
  const out: string[] = []
  for await (const b of store.selectLogs({ ...q, fromNs: T0 + 1n, toNs: T0 + 250n * S, direction })) for (const l of b) out.push(key(l))
  return out
}

function steps (vs: SampleVariant[], n: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of vs) {
    let lines = 0
    let bytes = 0
    const cells: string[] = []
    for (let k = 0; k < n; k++) { lines += v.lines[k]!; bytes += v.bytes[k]!; cells.push(`${lines}/${bytes}`) }
    if (cells.some((c) => c !== '0/0')) out[`${v.stream.id} ${v.stdio} ${v.level}`] = cells.join(' ')
  }
  return out
}

describe('the embedded store and OpenSearch answer alike', { skip }, () => {
  const run = randomBytes(4).toString('hex')
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-equal-'))
  let embedded: EmbeddedStore
  let os: OpenSearchStore
  const cfg = opensearchSchema.parse({ url, dataStream: `logs-daytwotest-${run}`, deadLetterDataStream: `logs-daytwotest-${run}-dl`, usageIndex: `daytwotest-${run}-usage`, streamsIndex: `daytwotest-${run}-streams`, ismPolicy: '', readPageSize: 50 })

  before(async () => {
    embedded = await EmbeddedStore.open(join(dir, 'store'), { blockLines: 7 })
    os = await OpenSearchStore.open(cfg)
    const batches = corpus()
    await embedded.write(batches.map((b) => ({ stream: b.stream, entries: b.entries.map((e) => [...e] as Entry) })))
    await os.write(batches)
    await os.engine.request({ method: 'POST', path: `/${cfg.dataStream},${cfg.streamsIndex}/_refresh` })
  })

  after(async () => {
    if (os) {
      await os.engine.request({ method: 'DELETE', path: `/_data_stream/${cfg.dataStream}` }).catch(() => {})
      await os.engine.request({ method: 'DELETE', path: `/${cfg.usageIndex},${cfg.streamsIndex}` }).catch(() => {})
      await os.close()
    }
    await embedded?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  QUESTIONS.forEach((q, i) => {
    test(`question ${i}: ${JSON.stringify(q)}`, async () => {
      for (const d of ['forward', 'backward'] as const) {
        const want = await logs(embedded, q, d)
        assert.ok(i === QUESTIONS.length - 1 || want.length > 0, 'the question selects lines')
        assert.deepEqual(await logs(os, q, d), want, d)
      }
      for (const s of [{ startNs: T0 + 10n * S, stepNs: 10n * S, steps: 30, rangeNs: 10n * S }, { startNs: T0 + 5n * S, stepNs: 15n * S, steps: 20, rangeNs: 60n * S }]) {
        const p = { ...q, ...s, fromNs: s.startNs - s.rangeNs, toNs: s.startNs + BigInt(s.steps) * s.stepNs }
        assert.deepEqual(steps(await os.selectSamples(p), s.steps), steps(await embedded.selectSamples(p), s.steps))
      }
      const vp = { matchers: q.matchers, fromNs: T0 + 3n * S, toNs: T0 + 200n * S, ...(q.org !== undefined ? { org: q.org } : {}) }
      const v = async (st: LogStore) => Object.fromEntries((await st.variants(vp)).map((x) => [`${x.stream.id} ${x.stdio} ${x.level}`, `${x.lines}/${x.bytes}`]))
      assert.deepEqual(await v(os), await v(embedded))
    })
  })
})
