import type { TestContext } from 'node:test'
import { elasticsearchSchema, type ElasticsearchConfig } from '../../../core/config/elasticsearch.js'
import type { Entry, StreamBatch, StreamTags } from '../../../core/record.js'
import { ElasticsearchStore } from '../../../store/elasticsearch/elasticsearch-store.js'
import { startFakeEs, type FakeEs, type FakeEsOptions } from '../../helpers/elasticsearch-fake.js'

// Shared set-up of the Elasticsearch store tests: a fake cluster, a store on it with short
// backoffs (the waits are random, the assertions never depend on them), and batches.

export function config (url: string, over: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig {
  return elasticsearchSchema.parse({ url, retryInitialMs: 2, retryMaxMs: 10, retryTimeoutMs: 20000, ...over })
}

export async function fakeAndStore (t: TestContext, fake: FakeEsOptions = {}, over: Partial<ElasticsearchConfig> = {}): Promise<{ es: FakeEs, store: ElasticsearchStore }> {
  const es = await startFakeEs(fake)
  t.after(() => es.close())
  const store = await ElasticsearchStore.open(config(es.url, over))
  t.after(() => store.close())
  return { es, store }
}

export function tags (id: string, over: Partial<StreamTags> = {}): StreamTags {
  return { id, source: 'file', node: 'node-1', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: `/var/vcap/sys/log/gorouter/${id}.log`, org: 'acme', space: 'prod', app: 'shop', ...over }
}

/** `n` entries from `offset`, one second apart from 2025-11-23T10:15:00.000000001Z, ~40 bytes each. */
export function entries (n: number, offset = 0, step = 100): Entry[] {
  const out: Entry[] = []
  for (let i = 0; i < n; i++) {
    const off = offset + i * step
    out.push([(1763892900000000001n + BigInt(off) * 1_000_000_000n).toString(), off, `line ${off} GET /v2/apps 200 ✓`, i % 2 === 0 ? 'stdout' : 'stderr'])
  }
  return out
}

export function batch (id: string, es: Entry[], over: Partial<StreamTags> = {}): StreamBatch {
  return { stream: tags(id, over), entries: es }
}

export function bytesOf (es: Entry[]): number {
  return es.reduce((n, e) => n + Buffer.byteLength(e[2]), 0)
}

/** Documents of each bulk action in the requests sent to `index` (path or `_index`). */
export function sentDocs (es: FakeEs, index: string): Array<{ action: string, id: string, doc: Record<string, unknown> }> {
  const out: Array<{ action: string, id: string, doc: Record<string, unknown> }> = []
  for (const r of es.bulkRequests()) {
    const pathIndex = r.path === '/_bulk' ? undefined : decodeURIComponent(r.path.split('/')[1]!)
    const lines = r.body.split('\n').filter((l) => l)
    for (let i = 0; i < lines.length; i += 2) {
      const a = JSON.parse(lines[i]!) as Record<string, { _id: string, _index?: string }>
      const action = Object.keys(a)[0]!
      if ((a[action]!._index ?? pathIndex) === index) out.push({ action, id: a[action]!._id, doc: JSON.parse(lines[i + 1]!) as Record<string, unknown> })
    }
  }
  return out
}
