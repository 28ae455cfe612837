import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { elasticsearchSchema } from '../../core/config/elasticsearch.js'
import { recordId, type Entry, type StreamBatch } from '../../core/record.js'
import { ElasticsearchStore } from '../../store/elasticsearch/elasticsearch-store.js'

// The Elasticsearch scenarios against a real cluster: `ELASTICSEARCH_URL=https://… npm run
// test:es` (optional ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME/PASSWORD, and
// ELASTICSEARCH_CA_FILE). Everything is created under names unique to the run and deleted after.

const url = process.env.ELASTICSEARCH_URL ?? ''
const skip = url ? false : 'ELASTICSEARCH_URL is not set: set it (and ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD) to run the live Elasticsearch suite'

test('live Elasticsearch: idempotent writes, dead letter, streams, reads and usage', { skip, timeout: 120_000 }, async (t) => {
  const run = randomBytes(4).toString('hex')
  const cfg = elasticsearchSchema.parse({
    url,
    apiKey: process.env.ELASTICSEARCH_API_KEY ?? '',
    username: process.env.ELASTICSEARCH_USERNAME ?? '',
    password: process.env.ELASTICSEARCH_PASSWORD ?? '',
    caFile: process.env.ELASTICSEARCH_CA_FILE ?? '',
    dataStream: `logs-daytwotest-${run}`,
    deadLetterDataStream: `logs-daytwotest-${run}-deadletter`,
    usageIndex: `daytwotest-${run}-usage`,
    streamsIndex: `daytwotest-${run}-streams`,
    ilmPolicy: `daytwotest-${run}`,
    readPageSize: 7
  })
  const store = await ElasticsearchStore.open(cfg)
  const c = store.client
  t.after(async () => {
    await c.indices.deleteDataStream({ name: [cfg.dataStream, cfg.deadLetterDataStream] }, { ignore: [404] })
    await c.indices.delete({ index: [cfg.usageIndex, cfg.streamsIndex] }, { ignore: [404] })
    for (const n of [cfg.dataStream, cfg.deadLetterDataStream, cfg.usageIndex, cfg.streamsIndex]) await c.indices.deleteIndexTemplate({ name: n }, { ignore: [404] })
    await c.ilm.deleteLifecycle({ name: cfg.ilmPolicy }, { ignore: [404] })
    await store.close()
  })
  assert.equal(await store.check(), null)

  const base = BigInt(Date.now()) * 1_000_000n + 123n
  const es: Entry[] = []
  for (let i = 0; i < 20; i++) es.push([(base + BigInt(i) * 1_000_000_123n).toString(), i * 64, `live line ${i} ✓`, i % 2 ? 'stderr' : 'stdout'])
  const stream = { id: `live-${run}`, source: 'file' as const, node: 'n1', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/var/vcap/sys/log/gorouter/access.log', org: 'acme', app: 'shop' }
  const bad: Entry = ['-315619200000000000', 99999, 'before 1970: date_nanos refuses it', 'stdout']
  const batches: StreamBatch[] = [{ stream, entries: [...es, bad] }]
  const bytes = es.reduce((n, e) => n + Buffer.byteLength(e[2]), 0)

  const first = await store.write(batches)
  assert.equal(first.newLines, 20)
  assert.equal(first.newBytes, bytes)
  assert.equal(store.stats.deadLettered, 1)
  const again = await store.write(batches)
  assert.equal(again.newLines, 0, 'create with the record id: a retry stores nothing twice')

  await c.indices.refresh({ index: [cfg.dataStream, cfg.deadLetterDataStream, cfg.usageIndex, cfg.streamsIndex] })
  const dead = await c.search({ index: cfg.deadLetterDataStream })
  assert.equal(dead.hits.hits.length, 1)
  assert.equal((dead.hits.hits[0]!._source as Record<string, unknown>)['daytwo.record_id'], recordId(stream.id, 99999))

  const streams = await store.streams({ deployment: 'cf', job: 'router' })
  assert.deepEqual(streams.map((s) => [s.id, s.lines, s.bytes]), [[stream.id, 20, bytes]])
  const back: Entry[] = []
  for await (const chunk of store.read({ selector: { streamIds: [stream.id] } })) back.push(...chunk.entries)
  assert.deepEqual(back, es, 'entries come back in offset order with their nanoseconds')

  const usage = await store.usage({ fromMs: Date.now() - 3600_000, toMs: Date.now() + 60_000, org: 'acme' })
  assert.equal(usage.reduce((n, r) => n + r.bytes, 0), bytes)
  assert.equal(usage.reduce((n, r) => n + r.lines, 0), 20)
})
