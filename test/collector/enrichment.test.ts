import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { entries, fakeDirectory, ingest, json, metric, startCollector, storedId, tags } from '../helpers/collector.js'
import { tempDir, waitFor } from '../helpers/daytwo-process.js'
import { cfApp, cfNotFound, k8sNamespace, k8sNotFound } from './directory-responses.js'
import { userAgent, VERSION } from '../../core/version.js'

/** The stream ids these tests send, by the id the collector stores them under (bound to the token). */
const SENT = new Map(['router', 'web', 'other', 'pay', 'shop', 'dns', 'ghost', 'app1', 'app2', 'gone'].map((id) => [storedId(id), id]))

async function orgsOf (store: { streams: (s: object) => Promise<Array<{ id: string, org?: string, space?: string, app?: string }>> }): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const s of await store.streams({})) out[SENT.get(s.id) ?? s.id] = `${s.org ?? ''}/${s.space ?? ''}/${s.app ?? ''}`
  return out
}

function tokenFile (t: { after: (fn: () => void) => void }, token: string): string {
  const d = tempDir('daytwo-token-')
  t.after(d.cleanup)
  const f = join(d.path, 'token')
  writeFileSync(f, token + '\n')
  return f
}

test('a static mapping file assigns org, space and app by deployment/job globs; app defaults to the job', async (t) => {
  const d = tempDir('daytwo-map-')
  t.after(d.cleanup)
  const file = join(d.path, 'tenants.json')
  writeFileSync(file, JSON.stringify({
    rules: [
      { match: { deployment: 'cf', job: 'router*' }, org: 'system', space: 'routing', app: 'gorouter' },
      { match: { deployment: 'concourse' }, org: 'ci' }
    ]
  }))
  const c = await startCollector(t, { tenants: { mappingFile: file } })
  const r = await ingest(c.url, [
    { stream: tags('router', { job: 'router-z1' }), entries: entries(0, 3) },
    { stream: tags('web', { deployment: 'concourse', job: 'web' }), entries: entries(0, 2) },
    { stream: tags('other', { deployment: 'elsewhere' }), entries: entries(0, 1) }
  ])
  assert.equal(r.status, 200)
  assert.deepEqual(await orgsOf(c.store), { router: 'system/routing/gorouter', web: 'ci//web', other: '//' })
})

test('a broken mapping file stops the collector at start with a message naming the rule', async (t) => {
  const d = tempDir('daytwo-map-')
  t.after(d.cleanup)
  const file = join(d.path, 'tenants.json')
  writeFileSync(file, JSON.stringify({ rules: [{ match: { deploymnt: 'cf' }, org: 'x' }] }))
  await assert.rejects(startCollector(t, { tenants: { mappingFile: file } }), /rules\[0\]\.match: unknown key deploymnt/)
})

test('Kubernetes namespaces: labels/annotations give the tenant, each namespace is asked once per TTL however many batches arrive', async (t) => {
  const api = await fakeDirectory(t, (path, res) => {
    if (path === '/api/v1/namespaces/payments') json(res, 200, k8sNamespace('payments', { 'daytwo.io/org': 'acme' }, { 'daytwo.io/space': 'prod' }))
    else if (path === '/api/v1/namespaces/shop') json(res, 200, k8sNamespace('shop', { 'daytwo.io/org': 'acme' }, { 'daytwo.io/app': 'storefront' }))
    else if (path === '/api/v1/namespaces/kube-system') json(res, 200, k8sNamespace('kube-system'))
    else json(res, 404, k8sNotFound(path.split('/').pop()!))
  })
  const c = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: api.url, kubernetesTokenFile: tokenFile(t, 'sa-token-1'), lookupWaitMs: 10000 } })
  const batch = (i: number) => [
    { stream: tags('pay', { namespace: 'payments', job: 'checkout' }), entries: entries(i * 10, 10) },
    { stream: tags('shop', { namespace: 'shop', job: 'web' }), entries: entries(i * 10, 10) },
    { stream: tags('dns', { namespace: 'kube-system', job: 'coredns' }), entries: entries(i * 10, 10) },
    { stream: tags('ghost', { namespace: 'ghost', job: 'x' }), entries: entries(i * 10, 10) }
  ]
  // Ten batches at once (first lookups in flight together), then ten more one by one.
  const parallel = await Promise.all(Array.from({ length: 10 }, (_, i) => ingest(c.url, batch(i))))
  for (const r of parallel) assert.equal(r.status, 200)
  for (let i = 10; i < 20; i++) assert.equal((await ingest(c.url, batch(i))).status, 200)

  for (const ns of ['payments', 'shop', 'kube-system', 'ghost']) assert.equal(api.count(`/api/v1/namespaces/${ns}`), 1, `namespace ${ns} asked once`)
  assert.equal(api.requests.length, 4)
  for (const r of api.requests) {
    assert.equal(r.headers.authorization, 'Bearer sa-token-1')
    assert.equal(r.headers['user-agent'], userAgent('collector'))
    assert.equal(r.headers['user-agent'], `daytwo/${VERSION} (collector)`)
  }
  assert.deepEqual(await orgsOf(c.store), { pay: 'acme/prod/checkout', shop: 'acme/shop/storefront', dns: '//', ghost: '//' })
  assert.equal(await metric(c.url, 'daytwo_collector_directory_requests_total', { directory: 'kubernetes' }), 4)
})

test('Cloud Foundry: an app GUID (label or syslog app-name) resolves to org/space/app names with one v3 call', async (t) => {
  const guid1 = '2d5c7e9f-0a11-4b2c-8d3e-6c1b2f4e8d3a'
  const guid2 = '9b1a2d5c-7e9f-4a11-8c1b-2f4e8d3a6c1b'
  const missing = '00000000-0000-4000-8000-000000000000'
  const api = await fakeDirectory(t, (path, res) => {
    if (path === `/v3/apps/${guid1}?include=space.organization`) json(res, 200, cfApp(guid1, 'billing', { guid: 's-1', name: 'prod' }, { guid: 'o-1', name: 'acme' }))
    else if (path === `/v3/apps/${guid2}?include=space.organization`) json(res, 200, cfApp(guid2, 'ledger', { guid: 's-2', name: 'dev' }, { guid: 'o-2', name: 'globex' }))
    else json(res, 404, cfNotFound())
  })
  const c = await startCollector(t, { tenants: { cfApiUrl: api.url, cfTokenFile: tokenFile(t, 'uaa-token'), lookupWaitMs: 10000 } })
  for (let i = 0; i < 5; i++) {
    const r = await ingest(c.url, [
      { stream: tags('app1', { labels: { cf_app_id: guid1 } }), entries: entries(i * 3, 3) },
      { stream: tags('app2', { source: 'syslog', job: guid2, path: 'tcp://0.0.0.0:6514' }), entries: entries(i * 3, 3) },
      { stream: tags('gone', { labels: { cf_app_id: missing } }), entries: entries(i * 3, 3) }
    ])
    assert.equal(r.status, 200)
  }
  assert.equal(api.requests.length, 3, 'one request per app GUID')
  assert.equal(api.requests[0]!.headers.authorization, 'Bearer uaa-token')
  assert.equal(api.requests[0]!.headers['user-agent'], userAgent('collector'))
  assert.deepEqual(await orgsOf(c.store), { app1: 'acme/prod/billing', app2: 'globex/dev/ledger', gone: '//' })
})

test('a slow directory never stalls ingestion: records pass as org "unknown", counted, and the late answer serves later batches', async (t) => {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const api = await fakeDirectory(t, async (_path, res) => {
    await released
    json(res, 200, k8sNamespace('payments', { 'daytwo.io/org': 'acme' }))
  })
  t.after(() => release())
  const c = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: api.url, kubernetesTokenFile: '', lookupWaitMs: 20 } })
  const stream = tags('pay', { namespace: 'payments', job: 'checkout' })
  // The directory has not answered, and will not until released: ingestion goes on.
  for (let i = 0; i < 3; i++) assert.equal((await ingest(c.url, [{ stream, entries: entries(i * 5, 5) }])).status, 200)
  assert.deepEqual(await orgsOf(c.store), { pay: 'unknown//checkout' })
  assert.equal(await metric(c.url, 'daytwo_collector_enrich_failures_total', { directory: 'kubernetes', reason: 'waiting' }), 15)
  // Usage rows are per minute: the batches may straddle a minute boundary, so sum per org.
  const usage = await c.store.usage({ fromMs: 0, toMs: Date.now() + 60000 })
  const linesByOrg = new Map<string, number>()
  for (const u of usage) linesByOrg.set(u.org, (linesByOrg.get(u.org) ?? 0) + u.lines)
  assert.deepEqual([...linesByOrg], [['unknown', 15]])
  release()
  let i = 3
  assert.ok(await waitFor(async () => {
    await ingest(c.url, [{ stream, entries: entries(i++ * 5, 5) }])
    return (await orgsOf(c.store)).pay === 'acme/payments/checkout'
  }), 'the answer arrives and is used')
  assert.equal(api.requests.length, 1, 'the slow key was asked once, not once per batch')
})

test('a failing directory: records pass as "unknown", the failure is remembered (asked once per failure TTL), not once per batch', async (t) => {
  const api = await fakeDirectory(t, (_path, res) => json(res, 500, { kind: 'Status', code: 500 }))
  const c = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: api.url, kubernetesTokenFile: '', lookupWaitMs: 10000 } })
  for (let i = 0; i < 5; i++) {
    assert.equal((await ingest(c.url, [{ stream: tags('pay', { namespace: 'payments' }), entries: entries(i * 2, 2) }])).status, 200)
  }
  assert.equal(api.requests.length, 1)
  assert.equal(await metric(c.url, 'daytwo_collector_enrich_failures_total', { directory: 'kubernetes', reason: 'status' }), 10)
  assert.deepEqual(await orgsOf(c.store), { pay: 'unknown//web' })
  // An unreachable directory is the same.
  const c2 = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: 'http://127.0.0.1:1', kubernetesTokenFile: '', lookupWaitMs: 10000 } })
  assert.equal((await ingest(c2.url, [{ stream: tags('pay', { namespace: 'payments' }), entries: entries(0, 2) }])).status, 200)
  assert.equal(await metric(c2.url, 'daytwo_collector_enrich_failures_total', { directory: 'kubernetes', reason: 'unreachable' }), 2)
})

test('after the TTL a key is asked again, and the stale answer keeps serving meanwhile', async (t) => {
  let org = 'acme'
  const api = await fakeDirectory(t, (_path, res) => json(res, 200, k8sNamespace('payments', { 'daytwo.io/org': org })))
  const c = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: api.url, kubernetesTokenFile: '', lookupWaitMs: 10000, cacheTtlMs: 200 } })
  const stream = tags('pay', { namespace: 'payments' })
  assert.equal((await ingest(c.url, [{ stream, entries: entries(0, 1) }])).status, 200)
  assert.equal(api.requests.length, 1)
  org = 'initech'
  let i = 1
  assert.ok(await waitFor(async () => {
    await ingest(c.url, [{ stream, entries: entries(i++, 1) }])
    return (await orgsOf(c.store)).pay!.startsWith('initech/')
  }), 'the namespace was asked again after the TTL')
  assert.ok(api.requests.length >= 2)
  const usage = await c.store.usage({ fromMs: 0, toMs: Date.now() + 60000 })
  assert.deepEqual([...new Set(usage.map((u) => u.org))].sort(), ['acme', 'initech'], 'no batch went to "unknown" while refreshing')
})
