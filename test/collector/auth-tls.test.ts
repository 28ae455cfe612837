import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { kubernetesApiUrl } from '../../collector/tenants/kubernetes-namespaces.js'
import { configSchema } from '../../core/config-schema.js'
import { FRAMES, encodeFrames } from '../../core/frames.js'
import { HttpError } from '../../core/http-client.js'
import { Poster, collectorTls } from '../../forwarder/http-client.js'
import { TOKEN, entries, ingest, metric, metricsText, startCollector, tags, type TlsClient } from '../helpers/collector.js'
import { tempDir } from '../helpers/daytwo-process.js'
import { k8sNamespace } from './directory-responses.js'

// Forwarders authenticate with a bearer token, and optionally with a client certificate (mTLS).
// Certificates are made at test time with openssl (Debian package openssl).

const hasOpenssl = spawnSync('openssl', ['version']).status === 0
const skip = hasOpenssl ? false : 'openssl not found: apt-get install openssl'

interface Pki { dir: string, ca: string, serverCert: string, serverKey: string, clientCert: string, clientKey: string, rogueCert: string, rogueKey: string }

function makePki (dir: string): Pki {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const key = (name: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', `${name}.key`)
  const ca = (name: string) => { key(name); ossl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`) }
  const leaf = (name: string, signer: string, ext: string) => {
    key(name)
    ossl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`)
    writeFileSync(join(dir, `${name}.ext`), ext)
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`)
  }
  ca('daytwo-ca')
  ca('rogue-ca')
  leaf('collector', 'daytwo-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  leaf('forwarder', 'daytwo-ca', 'extendedKeyUsage=clientAuth\n')
  leaf('intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n')
  const p = (f: string) => join(dir, f)
  return { dir, ca: p('daytwo-ca.crt'), serverCert: p('collector.crt'), serverKey: p('collector.key'), clientCert: p('forwarder.crt'), clientKey: p('forwarder.key'), rogueCert: p('intruder.crt'), rogueKey: p('intruder.key') }
}

function pki (t: { after: (fn: () => void) => void }): Pki {
  const d = tempDir('daytwo-pki-')
  t.after(d.cleanup)
  return makePki(d.path)
}

const batch = () => [{ stream: tags('s1', { org: 'acme', app: 'web' }), entries: entries(0, 5) }]

test('unknown or missing tokens get 401 with a code, are counted, and store nothing', async (t) => {
  const c = await startCollector(t)
  const bad = await ingest(c.url, batch(), { token: 'not-a-token' })
  assert.equal(bad.status, 401)
  assert.equal(bad.body.code, 'DAYTWO_ERR_UNAUTHORIZED')
  const none = await fetch(new URL('/api/v1/ingest', c.url), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{}' })
  assert.equal(none.status, 401)
  assert.equal(await metric(c.url, 'daytwo_collector_rejected_requests_total', { reason: 'unauthorized' }), 2)
  assert.equal(await metric(c.url, 'daytwo_collector_batches_total', { code: '401' }), 2)
  assert.deepEqual(await c.store.streams({}), [])
  assert.equal((await ingest(c.url, batch())).status, 200)
})

test('TLS: the collector serves https with tlsCertFile/tlsKeyFile', { skip }, async (t) => {
  const k = pki(t)
  const c = await startCollector(t, { tlsCertFile: k.serverCert, tlsKeyFile: k.serverKey })
  assert.match(c.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  assert.match(c.summary, /\(TLS\)/)
  const ca = readFileSync(k.ca)
  assert.equal((await ingest(c.url, batch(), { tls: { ca } })).status, 200)
  await assert.rejects(ingest(c.url, batch()), /self[- ]signed|unable to verify|certificate/i, 'a client that does not trust the CA refuses the server')
})

test('mTLS: with clientCaFile, clients without a certificate from that CA are refused in the handshake; the token is still required', { skip }, async (t) => {
  const k = pki(t)
  const c = await startCollector(t, { tlsCertFile: k.serverCert, tlsKeyFile: k.serverKey, clientCaFile: k.ca })
  assert.match(c.summary, /\(mTLS/)
  const ca = readFileSync(k.ca)
  const good: TlsClient = { ca, cert: readFileSync(k.clientCert), key: readFileSync(k.clientKey) }
  assert.equal((await ingest(c.url, batch(), { tls: good })).status, 200)
  await assert.rejects(ingest(c.url, batch(), { tls: { ca } }), 'no client certificate')
  await assert.rejects(ingest(c.url, batch(), { tls: { ca, cert: readFileSync(k.rogueCert), key: readFileSync(k.rogueKey) } }), 'a certificate from another CA')
  assert.equal((await ingest(c.url, batch(), { tls: good, token: 'wrong' })).status, 401)
  const text = await metricsText(c.url, good)
  const refused = /daytwo_collector_rejected_requests_total\{[^}]*reason="tls_refused"[^}]*\} (\d+)/.exec(text)
  assert.ok(refused && Number(refused[1]) >= 1, 'refused handshakes are counted')
  assert.equal((await c.store.streams({}))[0]?.lines, 5)
})

test('mTLS from the forwarder: forwarder.collectorCertFile/collectorKeyFile present its certificate; without them, or with a rogue one, the handshake refuses it', { skip }, async (t) => {
  const k = pki(t)
  const c = await startCollector(t, { tlsCertFile: k.serverCert, tlsKeyFile: k.serverKey, clientCaFile: k.ca })
  const defaults = configSchema.parse({}).forwarder
  const headers = { 'content-type': FRAMES, authorization: `Bearer ${TOKEN}` }
  const body = encodeFrames(batch())
  const poster = (cfg: Partial<typeof defaults>): Poster => {
    const p = new Poster(`${c.url}/api/v1/ingest`, headers, 5000, 1024, collectorTls({ ...defaults, collectorCaFile: k.ca, ...cfg }))
    t.after(() => p.close())
    return p
  }
  assert.equal((await poster({ collectorCertFile: k.clientCert, collectorKeyFile: k.clientKey }).post(body)).status, 200)
  await assert.rejects(poster({}).post(body), HttpError, 'no client certificate')
  await assert.rejects(poster({ collectorCertFile: k.rogueCert, collectorKeyFile: k.rogueKey }).post(body), HttpError, 'a certificate from another CA')
  assert.throws(() => collectorTls({ ...defaults, collectorCertFile: k.clientCert }), /forwarder\.collectorCertFile and forwarder\.collectorKeyFile go together/)
  assert.throws(() => poster({ collectorCertFile: k.clientCert, collectorKeyFile: join(k.dir, 'missing.key') }), /client key .*missing\.key/)
  assert.equal((await c.store.streams({}))[0]?.lines, 5, 'only the batch with the certificate was stored')
})

test('TLS settings that cannot work stop the collector at start, naming the key', { skip }, async (t) => {
  const k = pki(t)
  await assert.rejects(startCollector(t, { clientCaFile: k.ca }), /collector\.clientCaFile needs collector\.tlsCertFile/)
  await assert.rejects(startCollector(t, { tlsCertFile: k.serverCert }), /tlsCertFile and collector\.tlsKeyFile go together/)
  await assert.rejects(startCollector(t, { tlsCertFile: k.serverCert, tlsKeyFile: join(k.dir, 'missing.key') }), /collector\.tlsKeyFile .*missing\.key/)
})

test('Kubernetes directory over https, verified with kubernetesCaFile, like in-cluster config', { skip }, async (t) => {
  const k = pki(t)
  const requests: string[] = []
  const api = createHttpsServer({ cert: readFileSync(k.serverCert), key: readFileSync(k.serverKey) }, (req, res) => {
    requests.push(`${req.url} ${req.headers.authorization}`)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(k8sNamespace('payments', { 'daytwo.io/org': 'acme' })))
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  t.after(async () => { api.closeAllConnections(); await new Promise((resolve) => api.close(resolve)) })
  const port = (api.address() as AddressInfo).port
  const tokenFile = join(k.dir, 'token')
  writeFileSync(tokenFile, 'sa-token\n')
  // In a pod the URL comes from KUBERNETES_SERVICE_HOST/PORT.
  assert.equal(kubernetesApiUrl('', { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) }), `https://127.0.0.1:${port}`)
  const c = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: `https://127.0.0.1:${port}`, kubernetesTokenFile: tokenFile, kubernetesCaFile: k.ca, lookupWaitMs: 10000 } })
  assert.equal((await ingest(c.url, [{ stream: tags('p', { namespace: 'payments' }), entries: entries(0, 3) }])).status, 200)
  assert.deepEqual(requests, ['/api/v1/namespaces/payments Bearer sa-token'])
  assert.equal((await c.store.streams({}))[0]?.org, 'acme')
  // Without the CA the API's certificate is not trusted: the lookup fails and records pass as unknown.
  const c2 = await startCollector(t, { tenants: { kubernetes: true, kubernetesApiUrl: `https://127.0.0.1:${port}`, kubernetesTokenFile: tokenFile, kubernetesCaFile: join(k.dir, 'absent.crt'), lookupWaitMs: 10000 } })
  assert.equal((await ingest(c2.url, [{ stream: tags('p', { namespace: 'payments' }), entries: entries(0, 3) }])).status, 200)
  assert.equal((await c2.store.streams({}))[0]?.org, 'unknown')
  assert.equal(requests.length, 1)
})
