import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { silentLogger } from '../../core/logger.js'
import { PodMetadata, podIdentity, type Pod } from '../../forwarder/kubernetes/pod-metadata.js'
import { decodeGroup } from '../../core/wire.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { operatorToken } from '../helpers/query-api.js'

// A kubelet's /pods answer, in the shape of the Kubernetes PodList (trimmed to what is read).
const podList: { kind: string, apiVersion: string, items: Pod[] } = {
  kind: 'PodList',
  apiVersion: 'v1',
  items: [
    { metadata: { name: 'web-7d9f8b6c5-x2k4z', namespace: 'shop', labels: { 'pod-template-hash': '7d9f8b6c5', 'app.kubernetes.io/instance': 'shop-prod' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b6c5', controller: true }] } },
    { metadata: { name: 'kafka-2', namespace: 'data', labels: { 'apps.kubernetes.io/pod-index': '2' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kafka', controller: true }] } },
    // A controller whose pods do not look like a Deployment's: the name alone would mislead.
    { metadata: { name: 'ingest-worker-zz9kq', namespace: 'data', labels: {}, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'ingest-worker', controller: true }] } }
  ]
}

function kubelet (t: { after: (fn: () => unknown) => void }): Promise<{ url: string, hits: () => number }> {
  let hits = 0
  const server: Server = createServer((req, res) => {
    hits++
    if (req.url !== '/pods') { res.statusCode = 404; res.end(); return }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(podList))
  })
  t.after(() => server.close())
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number }
    resolve({ url: `http://127.0.0.1:${a.port}`, hits: () => hits })
  }))
}

test('owner references give the workload and instance', () => {
  assert.deepEqual(podIdentity(podList.items[0]!, ''), { deployment: 'shop', job: 'web', index: 'x2k4z', labels: podList.items[0]!.metadata!.labels! })
  assert.deepEqual(podIdentity(podList.items[0]!, 'app.kubernetes.io/instance')?.deployment, 'shop-prod')
  assert.deepEqual(podIdentity(podList.items[1]!, '')?.index, '2')
  assert.deepEqual(podIdentity(podList.items[2]!, '')?.job, 'ingest-worker')
})

test('the kubelet is asked once per TTL however many pods are looked up, concurrently', async (t) => {
  const k = await kubelet(t)
  const meta = new PodMetadata({ kubeletUrl: k.url, apiServerUrl: '', tokenFile: '', caFile: '', kubeletInsecureSkipVerify: false, cacheTtlMs: 60000, deploymentLabel: '' }, silentLogger)
  const results = await Promise.all([
    meta.get('shop', 'web-7d9f8b6c5-x2k4z'), meta.get('data', 'kafka-2'), meta.get('data', 'kafka-2'), meta.get('data', 'nope-0')
  ])
  assert.equal(results[0]?.job, 'web')
  assert.equal(results[1]?.index, '2')
  assert.equal(results[3], null)
  for (let i = 0; i < 50; i++) await meta.get('shop', 'web-7d9f8b6c5-x2k4z')
  assert.equal(k.hits(), 1)
})

test('an unreachable kubelet never blocks: tags fall back to the path', async () => {
  const meta = new PodMetadata({ kubeletUrl: 'http://127.0.0.1:1', apiServerUrl: '', tokenFile: '', caFile: '', kubeletInsecureSkipVerify: false, cacheTtlMs: 60000, deploymentLabel: '' }, silentLogger)
  assert.equal(await meta.get('shop', 'web-7d9f8b6c5-x2k4z'), null)
})

test('a running forwarder refines tags from the kubelet', async (t) => {
  const k = await kubelet(t)
  const tmp = tempDir('daytwo-kube-')
  const pods = join(tmp.path, 'pods')
  const dir = join(pods, 'data_ingest-worker-zz9kq_u1', 'worker')
  mkdirSync(dir, { recursive: true })
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: pods, containerLogRoot: '', boshLogRoot: '', port: 0, scanIntervalMs: 100, pollIntervalMs: 20, kubernetes: { kubeletUrl: k.url, tokenFile: '' } },
    collector: { port: 0 },
    query: { port: 0 }
  }, tmp.path)
  t.after(async () => { await d.stop(); tmp.cleanup() })
  appendFileSync(join(dir, '0.log'), '2026-11-23T10:00:00.000000001Z stdout F started\n')
  const token = operatorToken(join(tmp.path, 'data'))
  let job = ''
  const ok = await waitFor(async () => {
    const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=data`, { headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) return false
    job = decodeGroup((await res.text()).split('\n')[0]!).stream.job
    return job === 'ingest-worker'
  }, 10000)
  // The path alone says `ingest-worker-zz9kq` is a pod of `ingest-worker` only by its suffix
  // shape; the kubelet's owner reference says so for certain.
  assert.ok(ok, `job was ${job}`)
})
