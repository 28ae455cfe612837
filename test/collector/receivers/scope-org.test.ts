import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { OTLPLogExporter as HttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { compressSync } from 'snappy'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { PushRequest } from '../../helpers/loki-push-schema.js'
import { storedLines } from '../../helpers/receivers.js'

// Issue 17 item 1: `X-Scope-OrgID` names a push's tenant only when the token's collector.tokens
// entry lists that org (`orgIds`, or "*"); a plain token, or an org not listed, is 403 and
// counted (tenant_not_allowed); without the header the tenant rules decide, as before. Loki
// push (JSON and protobuf + snappy) and OTLP (the OpenTelemetry SDK's exporter) on a real
// `serve all`; the org is checked where a tenant sees it: its own logs, the usage API, and
// the rate limits of that org.

const PLAIN = 'scope-plain-token'
const ORG_A = 'scope-org-a-token'
const ANY = 'scope-any-org-token'
const OPERATOR = 'scope-operator'
const TENANT_A = 'scope-tenant-a'
const TENANT_B = 'scope-tenant-b'
const NOW_NS = BigInt(Date.now()) * 1_000_000n
const ts = (i: number) => String(NOW_NS + BigInt(i) * 1_000_000n)

function jsonPush (namespace: string, lines: string[]): Buffer {
  return Buffer.from(JSON.stringify({ streams: [{ stream: { namespace, app: 'api', pod: 'api-0' }, values: lines.map((l, i) => [ts(i), l]) }] }))
}

function protoPush (namespace: string, lines: string[]): Buffer {
  const nowS = Math.floor(Date.now() / 1000)
  const msg = PushRequest.create({ streams: [{ labels: `{namespace="${namespace}", app="api", pod="api-1"}`, entries: lines.map((line, i) => ({ timestamp: { seconds: nowS, nanos: i * 1000 }, line })) }] })
  return compressSync(Buffer.from(PushRequest.encode(msg).finish()))
}

async function push (d: DaytwoProcess, token: string, body: Buffer, org?: string, type = 'application/json'): Promise<{ status: number, text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': type }
  if (org !== undefined) headers['x-scope-orgid'] = org
  const res = await fetch(`${d.urls.collector}/loki/api/v1/push`, { method: 'POST', headers, body: new Uint8Array(body) })
  return { status: res.status, text: await res.text() }
}

async function usageLines (d: DaytwoProcess, token: string, org: string): Promise<number> {
  const res = await fetch(`${d.urls.query}/api/v1/usage?by=org&org=${org}&from=1h`, { headers: { authorization: `Bearer ${token}` } })
  const body = await res.json() as { rows: Array<{ org: string, lines: number }> }
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.rows.find((r) => r.org === org)?.lines ?? 0
}

async function otlpExport (d: DaytwoProcess, headers: Record<string, string>, namespace: string, bodies: string[]): Promise<void> {
  const exporter = new HttpJsonExporter({ url: `${d.urls.collector}/v1/logs`, headers })
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'k8s.namespace.name': namespace, 'k8s.pod.name': 'otel-0' }), processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 50 })] })
  const logger = provider.getLogger('scope-test')
  for (const b of bodies) logger.emit({ timestamp: Date.now(), body: b })
  await provider.forceFlush()
  await provider.shutdown()
}

test('X-Scope-OrgID: the org of a push only where the token allows it', async (t) => {
  const tmp = tempDir('daytwo-scope-org-')
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0 },
    collector: {
      port: 0,
      maxFutureSkewMs: 600_000,
      // A plain token (as every config before orgIds), one org, any org.
      tokens: [PLAIN, { token: ORG_A, orgIds: ['org-a'] }, { token: ANY, orgIds: ['*'] }],
      tenants: { orgLogRateLimits: ['org-slow=1000'] }
    },
    query: { port: 0, tokens: [OPERATOR], tenantTokens: [`org-a=${TENANT_A}`, `org-b=${TENANT_B}`] }
  }, tmp.path)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  const rejected = async (reason: string) => metricValue(await metrics(d.urls.collector!), 'daytwo_collector_rejected_requests_total', { reason })

  await t.test('allowed: JSON and protobuf pushes are org-a\'s, read by org-a\'s token and not by org-b\'s', async () => {
    assert.equal((await push(d, ORG_A, jsonPush('alpha', ['a json 0', 'a json 1']), 'org-a')).status, 204)
    const proto = await push(d, ORG_A, protoPush('alpha', ['a proto 0']), 'org-a', 'application/x-protobuf')
    assert.equal(proto.status, 204, proto.text)
    assert.ok(await waitFor(async () => (await storedLines(d, TENANT_A, 'alpha')).length === 3))
    const seen = await storedLines(d, TENANT_A, 'alpha')
    assert.deepEqual(seen.map((l) => l.message).sort(), ['a json 0', 'a json 1', 'a proto 0'])
    for (const l of seen) assert.equal(l.stream.org, 'org-a')
    assert.deepEqual(await storedLines(d, TENANT_B, 'alpha'), [], 'another org\'s tenant token reads none of it')
    assert.equal(await usageLines(d, TENANT_A, 'org-a'), 3)
  })

  await t.test('refused: an org the token does not list, or any org with a plain token, is 403 and counted; nothing stored', async () => {
    const other = await push(d, ORG_A, jsonPush('beta', ['b 0']), 'org-b')
    assert.equal(other.status, 403)
    assert.match(other.text, /may not push into org org-b/)
    assert.equal((await push(d, PLAIN, protoPush('beta', ['b 1']), 'org-a', 'application/x-protobuf')).status, 403)
    assert.equal(await rejected('tenant_not_allowed'), 2)
    // Several tenants (`a|b`) or a name outside Loki's charset is not one org, even for "*".
    assert.equal((await push(d, ANY, jsonPush('beta', ['b 2']), 'org-a|org-b')).status, 400)
    assert.equal(await rejected('bad_org_id'), 1)
    // Pushes after the refusals land: had a refused one been stored, it would be read with them.
    assert.equal((await push(d, ANY, jsonPush('beta', ['b ok']), 'org-b')).status, 204)
    assert.ok(await waitFor(async () => (await storedLines(d, OPERATOR, 'beta')).length > 0))
    assert.deepEqual((await storedLines(d, OPERATOR, 'beta')).map((l) => [l.message, l.stream.org]), [['b ok', 'org-b']])
    assert.equal(await usageLines(d, TENANT_B, 'org-b'), 1)
  })

  await t.test('absent: the tenant rules decide, as before the header was read (no rules here: no org)', async () => {
    assert.equal((await push(d, ORG_A, jsonPush('gamma', ['g 0']))).status, 204)
    assert.equal((await push(d, PLAIN, jsonPush('gamma', ['g 1']))).status, 204)
    assert.ok(await waitFor(async () => (await storedLines(d, OPERATOR, 'gamma')).length === 2))
    for (const l of await storedLines(d, OPERATOR, 'gamma')) assert.ok(!l.stream.org, `org ${l.stream.org ?? ''}`)
    assert.deepEqual(await storedLines(d, TENANT_A, 'gamma'), [])
  })

  await t.test('the same labels pushed into two orgs are two streams, each org reading its own', async () => {
    assert.equal((await push(d, ANY, jsonPush('delta', ['d for a']), 'org-a')).status, 204)
    assert.equal((await push(d, ANY, jsonPush('delta', ['d for b']), 'org-b')).status, 204)
    assert.ok(await waitFor(async () => (await storedLines(d, OPERATOR, 'delta')).length === 2))
    assert.deepEqual((await storedLines(d, TENANT_A, 'delta')).map((l) => l.message), ['d for a'])
    assert.deepEqual((await storedLines(d, TENANT_B, 'delta')).map((l) => l.message), ['d for b'])
  })

  await t.test('rate-limited under the named org: org-slow\'s quota drops what passes it', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `slow ${i} `.padEnd(100, 'x'))
    assert.equal((await push(d, ANY, jsonPush('slow', lines), 'org-slow')).status, 204)
    const m = await metrics(d.urls.collector!)
    assert.ok(metricValue(m, 'daytwo_collector_org_dropped_records_total', { org: 'org-slow' }) > 0, 'lines over org-slow\'s 1000 B/s dropped under org-slow')
  })

  await t.test('OTLP: the exporter\'s X-Scope-OrgID header names the org when allowed; refused otherwise', async () => {
    await otlpExport(d, { authorization: `Bearer ${ORG_A}`, 'X-Scope-OrgID': 'org-a' }, 'otel-ns', ['otel for a'])
    assert.ok(await waitFor(async () => (await storedLines(d, TENANT_A, 'otel-ns')).length === 1))
    assert.equal((await storedLines(d, TENANT_A, 'otel-ns'))[0]!.stream.org, 'org-a')
    const before = await rejected('tenant_not_allowed')
    const res = await fetch(`${d.urls.collector}/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ORG_A}`, 'content-type': 'application/json', 'x-scope-orgid': 'org-b' },
      body: JSON.stringify({ resourceLogs: [] })
    })
    assert.equal(res.status, 403)
    assert.equal((await res.json() as { code: number }).code, 7, 'google.rpc PERMISSION_DENIED')
    assert.equal(await rejected('tenant_not_allowed'), before + 1)
    assert.deepEqual(await storedLines(d, TENANT_B, 'otel-ns'), [])
  })
})
