import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { join } from 'node:path'
import { silentLogger } from '../../core/logger.js'
import { PodMetadata } from '../../forwarder/kubernetes/pod-metadata.js'
import { tempDir } from '../helpers/daytwo-process.js'

// The forwarder sends its service-account token to the kubelet and the API server, so their
// certificates are verified unless the operator says otherwise for the kubelet alone
// (forwarder.kubernetes.kubeletInsecureSkipVerify). A self-signed certificate made with openssl
// stands for the cluster's; a request that arrives at all carries the token, so the server
// counting requests is what shows whether the token could leak.

const skip = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl not found: apt-get install openssl'

const pod = { metadata: { name: 'web-7d9f8b6c5-x2k4z', namespace: 'shop', labels: { 'pod-template-hash': '7d9f8b6c5' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b6c5', controller: true }] } }

async function cluster (t: { after: (fn: () => unknown) => void }): Promise<{ url: string, ca: string, tokens: () => string[], tokenFile: string }> {
  const tmp = tempDir('daytwo-kube-tls-')
  t.after(tmp.cleanup)
  const dir = tmp.path
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.key', '-out', 'k.crt', '-subj', '/CN=kubernetes', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, 'sa-token\n')
  const seen: string[] = []
  const server = createServer({ key: readFileSync(join(dir, 'k.key')), cert: readFileSync(join(dir, 'k.crt')) }, (req, res) => {
    seen.push(req.headers.authorization ?? '')
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(req.url === '/pods' ? { items: [pod] } : pod))
  })
  t.after(() => server.close())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, ca: join(dir, 'k.crt'), tokens: () => seen, tokenFile }
}

const base = { kubeletUrl: '', apiServerUrl: '', tokenFile: '', caFile: '', kubeletInsecureSkipVerify: false, cacheTtlMs: 60000, deploymentLabel: '' }

test('the API server is verified: an unknown certificate gets no request and no token', { skip }, async (t) => {
  const c = await cluster(t)
  const meta = new PodMetadata({ ...base, apiServerUrl: c.url, tokenFile: c.tokenFile, kubeletInsecureSkipVerify: true }, silentLogger)
  assert.equal(await meta.get('shop', 'web-7d9f8b6c5-x2k4z'), null)
  assert.deepEqual(c.tokens(), [])
})

test('with its CA the API server answers and gets the token', { skip }, async (t) => {
  const c = await cluster(t)
  const meta = new PodMetadata({ ...base, apiServerUrl: c.url, tokenFile: c.tokenFile, caFile: c.ca }, silentLogger)
  assert.equal((await meta.get('shop', 'web-7d9f8b6c5-x2k4z'))?.job, 'web')
  assert.deepEqual(c.tokens(), ['Bearer sa-token'])
})

test('the kubelet is verified by default, and skipped only when the operator says so', { skip }, async (t) => {
  const c = await cluster(t)
  const verified = new PodMetadata({ ...base, kubeletUrl: c.url, tokenFile: c.tokenFile }, silentLogger)
  assert.equal(await verified.get('shop', 'web-7d9f8b6c5-x2k4z'), null)
  assert.deepEqual(c.tokens(), [])
  const skipping = new PodMetadata({ ...base, kubeletUrl: c.url, tokenFile: c.tokenFile, kubeletInsecureSkipVerify: true }, silentLogger)
  assert.equal((await skipping.get('shop', 'web-7d9f8b6c5-x2k4z'))?.job, 'web')
  assert.deepEqual(c.tokens(), ['Bearer sa-token'])
})
