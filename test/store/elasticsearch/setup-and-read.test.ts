import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ElasticsearchStore } from '../../../store/elasticsearch/elasticsearch-store.js'
import { startFakeEs } from '../../helpers/elasticsearch-fake.js'
import { batch, config, entries, fakeAndStore } from './setup.js'

test('open installs the lifecycle policy and the four index templates (data streams, date_nanos, ECS fields)', async (t) => {
  const { es } = await fakeAndStore(t, {}, { apiKey: 'a2V5OnNlY3JldA==' })
  const puts = es.requests.filter((r) => r.method === 'PUT')
  assert.deepEqual(puts.map((r) => r.path), [
    '/_ilm/policy/daytwo-logs',
    '/_index_template/logs-daytwo-default',
    '/_index_template/logs-daytwo-deadletter',
    '/_index_template/daytwo-usage',
    '/_index_template/daytwo-streams'
  ])
  assert.equal(puts[0]!.headers.authorization, 'ApiKey a2V5OnNlY3JldA==')
  const policy = JSON.parse(puts[0]!.body) as { policy: { phases: { delete: { min_age: string } } } }
  assert.equal(policy.policy.phases.delete.min_age, '30d')
  const logs = JSON.parse(puts[1]!.body) as { index_patterns: string[], data_stream: object, priority: number, template: { settings: Record<string, string>, mappings: { properties: Record<string, any> } } }
  assert.deepEqual(logs.index_patterns, ['logs-daytwo-default'])
  assert.deepEqual(logs.data_stream, {})
  assert.ok(logs.priority > 100, 'wins over the built-in logs-*-* template')
  assert.equal(logs.template.settings['index.lifecycle.name'], 'daytwo-logs')
  const p = logs.template.mappings.properties
  assert.equal(p['@timestamp'].type, 'date_nanos')
  assert.equal(p.message.type, 'match_only_text')
  assert.equal(p.log.properties.offset.type, 'long')
  assert.equal(p.log.properties.file.properties.path.type, 'keyword')
  assert.equal(p.daytwo.properties.stream_id.type, 'keyword')
  assert.equal(p.labels.type, 'flattened')
  for (const k of ['deployment', 'job', 'index', 'process', 'space', 'app', 'stream']) assert.equal(p[k].type, 'keyword', k)
  const dead = JSON.parse(puts[2]!.body) as { template: { mappings: { properties: Record<string, any> } } }
  assert.equal(dead.template.mappings.properties.event.properties.original.index, false)
})

test('without ilmPolicy no policy is installed; with installTemplates=false nothing is', async (t) => {
  const es = await startFakeEs()
  t.after(() => es.close())
  const a = await ElasticsearchStore.open(config(es.url, { ilmPolicy: '' }))
  await a.close()
  assert.equal(es.requests.filter((r) => r.path.startsWith('/_ilm/')).length, 0)
  assert.equal(es.requests.filter((r) => r.method === 'PUT').length, 4)
  const n = es.requests.length
  const b = await ElasticsearchStore.open(config(es.url, { installTemplates: false }))
  await b.close()
  // Only reads: the info call, and whether the data stream maps the line-filter subfield.
  assert.deepEqual(es.requests.slice(n).map((r) => `${r.method} ${r.path}`), ['GET /', 'GET /logs-daytwo-default/_mapping/field/message.wc'])
})

test('a server without the x-elastic-product header is refused with a message that says why', async (t) => {
  const es = await startFakeEs({ productHeader: false })
  t.after(() => es.close())
  await assert.rejects(ElasticsearchStore.open(config(es.url)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DAYTWO_ERR_ES_NOT_ELASTICSEARCH')
    assert.match(err.message, /x-elastic-product: Elasticsearch/)
    assert.ok(err.message.includes(es.url), err.message)
    assert.match(err.message, /store\.elasticsearch\.url/)
    return true
  })
})

test('an unreachable URL fails open with DAYTWO_ERR_UNREACHABLE naming it', async () => {
  const es = await startFakeEs()
  const url = es.url
  await es.close()
  await assert.rejects(ElasticsearchStore.open(config(url)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DAYTWO_ERR_UNREACHABLE')
    assert.ok(err.message.includes(url), err.message)
    return true
  })
})

test('check() is null on a green cluster and says why on a red one', async (t) => {
  let status = 'green'
  const { store } = await fakeAndStore(t, {
    intercept: (req) => req.path === '/_cluster/health' ? { status: 200, body: { cluster_name: 'docker-cluster', status, timed_out: false, number_of_nodes: 1 } } : undefined
  })
  assert.equal(await store.check(), null)
  status = 'red'
  assert.match(String(await store.check()), /cluster docker-cluster is red/)
})

test('streams() selects by identity tags and org, oldest first; read() pages through a point in time in offset order', async (t) => {
  const { es, store } = await fakeAndStore(t, {}, { readPageSize: 4 })
  await store.write([batch('b', entries(10, 0)), batch('a', entries(3, 5000), { job: 'api', org: 'other' })])
  // The first line of stream b is older than a's.
  const all = await store.streams({})
  assert.deepEqual(all.map((s) => s.id), ['b', 'a'])
  assert.equal(all[0]!.lines, 10)
  assert.equal(all[0]!.firstSeenNs, entries(1)[0]![0])
  assert.equal(all[0]!.lastTsNs, entries(10)[9]![0])
  assert.deepEqual((await store.streams({ deployment: 'cf', job: 'api' })).map((s) => s.id), ['a'])
  assert.deepEqual((await store.streams({ org: 'acme' })).map((s) => s.id), ['b'])
  assert.deepEqual(await store.streams({ streamIds: [] }), [])

  const chunks: Array<[string, number[]]> = []
  for await (const c of store.read({ selector: { deployment: 'cf' } })) chunks.push([c.stream.id, c.entries.map((e) => e[1])])
  assert.deepEqual(chunks, [
    ['b', [0, 100, 200, 300]], ['b', [400, 500, 600, 700]], ['b', [800, 900]],
    ['a', [5000, 5100, 5200]]
  ])
  // Entries come back exactly as written, nanoseconds included.
  const back: unknown[] = []
  for await (const c of store.read({ selector: { streamIds: ['b'] } })) back.push(...c.entries)
  assert.deepEqual(back, entries(10, 0))

  // Time bounds and `after` (a follow resuming).
  const e = entries(10, 0)
  const got: number[] = []
  for await (const c of store.read({ selector: { streamIds: ['b'] }, fromNs: BigInt(e[2]![0]), toNs: BigInt(e[8]![0]), after: new Map([['b', 400]]) })) got.push(...c.entries.map((x) => x[1]))
  assert.deepEqual(got, [500, 600, 700, 800])
  // Every point in time opened was closed.
  const opened = es.requests.filter((r) => r.path.endsWith('/_pit') && r.method === 'POST').length
  const closed = es.requests.filter((r) => r.path === '/_pit' && r.method === 'DELETE').length
  assert.equal(opened, 3)
  assert.equal(closed, 3)
})

test('usage() sums the rollups per minute, org and app over composite pages; recordDrops adds drops', async (t) => {
  const { es, store } = await fakeAndStore(t)
  const a = entries(5)
  const b = entries(2, 0)
  await store.write([batch('s1', a), batch('s2', b, { app: 'cart' })])
  await store.write([batch('s1', entries(3, 5000))])
  await store.recordDrops([{ org: 'acme', app: 'shop', reason: 'rate_limited', lines: 7, bytes: 700 }])
  const now = Date.now()
  const rows = await store.usage({ fromMs: now - 3600_000, toMs: now + 60_000 })
  const byApp = new Map<string, { lines: number, bytes: number, droppedLines: number, droppedBytes: number }>()
  for (const r of rows) {
    const x = byApp.get(r.app) ?? { lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0 }
    x.lines += r.lines; x.bytes += r.bytes; x.droppedLines += r.droppedLines; x.droppedBytes += r.droppedBytes
    byApp.set(r.app, x)
  }
  const bytes = (es1: typeof a) => es1.reduce((n, e) => n + Buffer.byteLength(e[2]), 0)
  assert.deepEqual(byApp.get('shop'), { lines: 8, bytes: bytes(a) + bytes(entries(3, 5000)), droppedLines: 7, droppedBytes: 700 })
  assert.deepEqual(byApp.get('cart'), { lines: 2, bytes: bytes(b), droppedLines: 0, droppedBytes: 0 })
  assert.ok(rows.every((r) => r.minute % 60000 === 0 && r.org === 'acme'))
  assert.deepEqual(await store.usage({ fromMs: now - 3600_000, toMs: now + 60_000, org: 'nobody' }), [])
  const search = es.requests.find((r) => r.path === '/daytwo-usage/_search')!
  assert.ok(JSON.parse(search.body).aggs.usage.composite, 'a composite aggregation')
})

test('reads on a cluster where nothing was written yet answer empty', async (t) => {
  const { store } = await fakeAndStore(t)
  assert.deepEqual(await store.streams({}), [])
  assert.deepEqual(await store.usage({ fromMs: 0, toMs: Date.now() }), [])
  const got: unknown[] = []
  for await (const c of store.read({ selector: {} })) got.push(c)
  assert.deepEqual(got, [])
})
