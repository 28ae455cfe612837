import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { OTLPLogExporter as HttpJsonExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import protobuf from 'protobufjs'
import { tempDir, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { fetchedFiles, lokiLines as lokiQuery, startReceiverDaytwo, storedLines } from '../../helpers/receivers.js'

// Issue 17 item 3: OTLP/HTTP logs. The OpenTelemetry JS SDK (@opentelemetry/sdk-logs) exports
// through both of its HTTP exporters — protobuf (exporter-logs-otlp-proto, gzip on) and JSON
// (exporter-logs-otlp-http) — to a real `serve all`; the bodies come back byte for byte
// through the query API, the Loki API and `logs fetch`, with identity from the resource
// attributes (Kubernetes and BOSH), levels from severities, attributes per line; a re-export
// stores nothing twice; refusals answer google.rpc.Status in the request's encoding, counted.

const TOKEN = 'otlp-sender-token'
const OPERATOR = 'otlp-operator-token'
const NOW_MS = Date.now()
const nsOf = (ms: number) => String(BigInt(ms) * 1_000_000n)

const readLines = (d: DaytwoProcess, deployment: string) => storedLines(d, OPERATOR, deployment)
const lokiLines = (d: DaytwoProcess, query: string) => lokiQuery(d, OPERATOR, query, NOW_MS - 120_000, NOW_MS + 1000)

/** Emit `records` through a LoggerProvider with `exporter`, then flush and shut down. */
async function exportWith (exporter: ProtoExporter | HttpJsonExporter, resource: Record<string, string | number>, records: Array<{ ms: number, body: unknown, severity?: SeverityNumber, text?: string, attributes?: Record<string, string | number | boolean> }>): Promise<void> {
  const provider = new LoggerProvider({ resource: resourceFromAttributes(resource), processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 50, scheduledDelayMillis: 50 })] })
  const logger = provider.getLogger('checkout-scope', '1.2.3')
  for (const r of records) {
    logger.emit({ timestamp: r.ms, body: r.body as string, ...(r.severity !== undefined ? { severityNumber: r.severity } : {}), ...(r.text ? { severityText: r.text } : {}), ...(r.attributes ? { attributes: r.attributes } : {}) })
  }
  await provider.forceFlush()
  await provider.shutdown()
}

const Status = protobuf.parse('syntax = "proto3"; message Status { int32 code = 1; string message = 2; }').root.lookupType('Status')

test('OTLP/HTTP logs: the OpenTelemetry SDK exports protobuf and JSON, identity, levels, attributes', async (t) => {
  const tmp = tempDir('daytwo-otlp-')
  const d = await startReceiverDaytwo(tmp.path, TOKEN, OPERATOR)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  const url = `${d.urls.collector}/v1/logs`
  const headers = { authorization: `Bearer ${TOKEN}` }

  const k8s = { 'k8s.namespace.name': 'shop', 'k8s.deployment.name': 'checkout', 'k8s.pod.name': 'checkout-5f7-abcde', 'k8s.container.name': 'app', 'service.name': 'checkout-svc', 'host.name': 'node-1', 'k8s.cluster.name': 'eu-1', 'process.pid': 4242 }
  // The last number of a range as well as the first: OTLP's ranges are four wide, from 1.
  const severities = [SeverityNumber.INFO, SeverityNumber.ERROR4, SeverityNumber.WARN4, SeverityNumber.DEBUG, SeverityNumber.FATAL4]
  const shopRecords = Array.from({ length: 150 }, (_, i) => ({
    ms: NOW_MS - 60_000 + i,
    body: `checkout ${i} ünïcode ✓ "quoted" \\ tab\there  `,
    severity: severities[i % severities.length]!,
    attributes: { 'http.route': '/cart', attempt: i, ok: i % 2 === 0 }
  }))
  // Bodies that are not strings become JSON (or their decimal form), as Loki writes them.
  shopRecords.push({ ms: NOW_MS - 60_000 + 200, body: { order: 7, items: ['a', 'b'] } as unknown as string, severity: SeverityNumber.INFO, attributes: { 'http.route': '/pay', attempt: 0, ok: true } })
  const shopBodies = [...shopRecords.slice(0, 150).map((r) => r.body), '{"order":7,"items":["a","b"]}']

  await t.test('protobuf (exporter-logs-otlp-proto, gzip): lines back byte for byte, identity from Kubernetes attributes', async () => {
    await exportWith(new ProtoExporter({ url, headers, compression: 'gzip' as never }), k8s, shopRecords)
    const got = await readLines(d, 'shop')
    assert.deepEqual(got.map((l) => l.message), shopBodies)
    assert.deepEqual(got.map((l) => l.ts), shopRecords.map((r) => nsOf(r.ms)))
    const s = got[0]!.stream
    assert.deepEqual([s.source, s.deployment, s.job, s.index, s.process, s.node, s.namespace, s.pod, s.container], ['otlp', 'shop', 'checkout', 'checkout-5f7-abcde', 'app', 'node-1', 'shop', 'checkout-5f7-abcde', 'app'])
    assert.deepEqual(s.labels, { service_name: 'checkout-svc', k8s_cluster_name: 'eu-1' }, 'Loki\'s index labels among the rest')
    assert.deepEqual(got[1]!.attrs, { severity: 'error', 'http.route': '/cart', attempt: '1', ok: 'false', scope_name: 'checkout-scope', scope_version: '1.2.3', 'process.pid': '4242' })
    assert.equal(got[7]!.attrs?.severity, 'warn')
    assert.ok(got.every((l) => l.stream.id === s.id), 'one resource, one stream')
  })

  await t.test('levels from severities through the Loki API; logs fetch gives the bodies', async () => {
    assert.deepEqual(await lokiLines(d, '{deployment="shop", job="checkout"} | level="error"'), shopBodies.filter((_, i) => i < 150 && i % 5 === 1))
    assert.deepEqual(await lokiLines(d, '{deployment="shop"} | level="fatal"'), shopBodies.filter((_, i) => i < 150 && i % 5 === 4))
    const files = fetchedFiles(d, OPERATOR, 'shop/checkout', join(tmp.path, 'out'))
    assert.equal(files.length, 1)
    assert.equal(files[0]!.toString('utf8'), shopBodies.map((b) => b + '\n').join(''))
  })

  await t.test('JSON (exporter-logs-otlp-http): BOSH identity, severity text when no number, a re-export stores nothing twice', async () => {
    const bosh = { 'bosh.deployment': 'cf', 'bosh.job': 'router', 'bosh.index': '0', 'service.name': 'gorouter' }
    const recs = Array.from({ length: 40 }, (_, i) => ({ ms: NOW_MS - 50_000 + i, body: `router line ${i}`, text: i % 2 === 0 ? 'Warning' : '' }))
    await exportWith(new HttpJsonExporter({ url, headers }), bosh, recs)
    const got = await readLines(d, 'cf')
    assert.deepEqual(got.map((l) => l.message), recs.map((r) => r.body))
    const s = got[0]!.stream
    assert.deepEqual([s.deployment, s.job, s.index, s.process, s.node], ['cf', 'router', '0', '', ''])
    assert.deepEqual(s.labels, { service_name: 'gorouter' })
    assert.deepEqual(got[0]!.attrs, { severity: 'warn', severity_text: 'Warning', scope_name: 'checkout-scope', scope_version: '1.2.3' })
    const before = metricValue(await metrics(d.urls.collector!), 'daytwo_collector_duplicates_total')
    await exportWith(new HttpJsonExporter({ url, headers }), bosh, recs)
    assert.equal(metricValue(await metrics(d.urls.collector!), 'daytwo_collector_duplicates_total') - before, 40)
    assert.equal((await readLines(d, 'cf')).length, 40)
  })

  await t.test('partial success: records too far ahead are refused and reported, the rest stored; ids as hex', async () => {
    const body = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'k8s.namespace.name', value: { stringValue: 'partial' } }] },
        scopeLogs: [{
          logRecords: [
            { timeUnixNano: nsOf(NOW_MS - 1000), body: { stringValue: 'kept' }, traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'eee19b7ec3c1b174', attributes: [{ key: 'bytes', value: { bytesValue: 'AAEC' } }, { key: 'list', value: { arrayValue: { values: [{ intValue: '5' }, { doubleValue: 1.5 }] } } }] },
            { timeUnixNano: nsOf(NOW_MS + 3_600_000), body: { stringValue: 'an hour ahead' } },
            { observedTimeUnixNano: nsOf(NOW_MS - 999), body: { stringValue: 'observed time only' } }
          ]
        }]
      }]
    }
    const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: new Uint8Array(gzipSync(JSON.stringify(body))) })
    const answer = await res.json() as { partialSuccess?: { rejectedLogRecords: string, errorMessage: string } }
    assert.equal(res.status, 200)
    assert.equal(answer.partialSuccess?.rejectedLogRecords, '1')
    assert.match(answer.partialSuccess!.errorMessage, /maxFutureSkewMs/)
    const got = await readLines(d, 'partial')
    assert.deepEqual(got.map((l) => [l.ts, l.message]), [[nsOf(NOW_MS - 1000), 'kept'], [nsOf(NOW_MS - 999), 'observed time only']])
    assert.deepEqual(got[0]!.attrs, { trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174', bytes: 'AAEC', list: '[5,1.5]' })
  })

  await t.test('refusals: google.rpc.Status in the request\'s encoding, each counted', async () => {
    const m0 = await metrics(d.urls.collector!)
    const count = (m: string, reason: string) => metricValue(m, 'daytwo_collector_rejected_requests_total', { reason })
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/x-protobuf' }, body: new Uint8Array(0) })
    assert.equal(wrong.status, 401)
    assert.deepEqual(Status.toObject(Status.decode(new Uint8Array(await wrong.arrayBuffer()))).code, 16)
    const badProto = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]) })
    assert.equal(badProto.status, 400)
    const st = Status.toObject(Status.decode(new Uint8Array(await badProto.arrayBuffer()))) as { code: number, message: string }
    assert.equal(st.code, 3)
    assert.match(st.message, /not an OTLP ExportLogsServiceRequest/)
    const badJson = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 'soon' }] }] }] }) })
    assert.equal(badJson.status, 400)
    assert.match((await badJson.json() as { message: string }).message, /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.timeUnixNano is not an unsigned 64-bit integer/)
    const xml = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/xml' }, body: '<x/>' })
    assert.equal(xml.status, 415)
    const m1 = await metrics(d.urls.collector!)
    assert.equal(count(m1, 'unauthorized') - count(m0, 'unauthorized'), 1)
    assert.equal(count(m1, 'malformed_batch') - count(m0, 'malformed_batch'), 2)
    assert.equal(count(m1, 'bad_content_type') - count(m0, 'bad_content_type'), 1)
  })
})
