import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Client } from '@elastic/elasticsearch'
import type { StreamTags } from '../../../core/record.js'
import { decodeGroup } from '../../../core/wire.js'
import { extract, runCli } from '../../helpers/bundle.js'
import { tempDir } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { startReceiverDaytwo } from '../../helpers/receivers.js'

// Issue 17 item 2: the official Elasticsearch client (@elastic/elasticsearch, its product check
// and helpers.bulk, gzip on) writes to a real `serve all`; the lines come back byte for byte
// through the query API, the Loki API and `logs fetch`, with identity from Fluent Bit's
// kubernetes fields and ECS; a retry stores nothing twice, whatever its _ids (collector/receivers/record-key.ts); a
// document without a message is refused alone (400 item, helpers.bulk's onDrop); a wrong key
// is refused before anything is read.

const TOKEN = 'bulk-sender-token'
const OPERATOR = 'bulk-operator-token'
const NOW_MS = Date.now()

interface Doc { [k: string]: unknown }

/** Fluent Bit's es output shape (kubernetes filter) and an ECS one (Filebeat, Vector). */
function docs (): Array<{ id: string, doc: Doc }> {
  const out: Array<{ id: string, doc: Doc }> = []
  for (let i = 0; i < 300; i++) {
    out.push({
      id: String(1000 + i),
      doc: {
        '@timestamp': new Date(NOW_MS - 60_000 + i).toISOString(),
        log: `fluent line ${i} ünïcode ✓ "quoted" \\ tab\there`,
        stream: i % 3 === 0 ? 'stderr' : 'stdout',
        kubernetes: { namespace_name: 'shop', pod_name: 'web-7d9f-abcde', container_name: 'nginx', host: 'node-a', labels: { app: 'web' } },
        request_id: `r-${i}`
      }
    })
  }
  for (let i = 0; i < 50; i++) {
    out.push({
      id: `ecs-${i}`,
      doc: { '@timestamp': new Date(NOW_MS - 30_000 + i).toISOString(), message: `ecs line ${i}`, log: { level: 'warn' }, host: { name: 'vm-1' }, service: { name: 'billing' }, kubernetes: { namespace: 'pay', pod: { name: 'billing-0' } }, container: { name: 'api' } }
    })
  }
  return out
}

async function readLines (queryUrl: string, deployment: string): Promise<Array<{ message: string, stream: StreamTags, stdio: string, attrs?: Record<string, string> }>> {
  const res = await fetch(`${queryUrl}/api/v1/logs?deployment=${deployment}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  const text = await res.text()
  assert.equal(res.status, 200, text)
  const out: Array<{ message: string, stream: StreamTags, stdio: string, attrs?: Record<string, string> }> = []
  for (const l of text.split('\n')) if (l) { const g = decodeGroup(l); for (const e of g.entries) out.push({ message: e[2], stream: g.stream, stdio: e[3], ...(e[4] ? { attrs: e[4] } : {}) }) }
  return out
}

test('Elasticsearch _bulk: the official client writes, lines come back byte for byte with their identity', async (t) => {
  const tmp = tempDir('daytwo-bulk-')
  const d = await startReceiverDaytwo(tmp.path, TOKEN, OPERATOR)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  const collector = d.urls.collector!
  const client = new Client({ node: collector, auth: { apiKey: TOKEN }, compression: true })
  t.after(() => client.close())

  await t.test('probes: info passes the product check, templates are acknowledged', async () => {
    const info = await client.info()
    assert.match(info.version.number, /^8\./)
    const put = await client.indices.putIndexTemplate({ name: 'logs', index_patterns: ['logs-*'] })
    assert.equal(put.acknowledged, true)
  })

  const all = docs()
  const bad = { id: '5000', doc: { note: 'no message here' } }
  const ids = new Map<Doc, string>([...all, bad].map((x) => [x.doc, x.id]))
  const send = async () => {
    const dropped: Array<{ status: number, document: unknown }> = []
    const stats = await client.helpers.bulk({
      datasource: [...all, bad].map((x) => x.doc),
      flushBytes: 16_000,
      // One request at a time, as one Fluent Bit output worker sends: a receiver stream's lines
      // are kept in arrival order, and the answers below are compared in document order.
      concurrency: 1,
      retries: 0,
      onDocument: (doc) => ({ create: { _index: 'logs-k8s', _id: ids.get(doc)! } }),
      onDrop: (x) => { dropped.push({ status: x.status, document: x.document }) }
    })
    return { stats, dropped }
  }

  await t.test('helpers.bulk: every good document stored, the one without a message dropped with 400', async () => {
    const { stats, dropped } = await send()
    assert.equal(stats.successful, all.length, JSON.stringify(dropped.slice(0, 2)))
    assert.deepEqual(dropped.map((x) => x.status), [400])
    assert.deepEqual(dropped[0]!.document, bad.doc)
  })

  await t.test('the query API: messages byte for byte, identity from kubernetes and ECS fields', async () => {
    const shop = await readLines(d.urls.query!, 'shop')
    const want = all.filter((x) => x.id.match(/^\d+$/))
    assert.deepEqual(shop.map((l) => l.message), want.map((x) => x.doc.log))
    for (const l of shop) {
      assert.deepEqual([l.stream.deployment, l.stream.job, l.stream.index, l.stream.process, l.stream.node, l.stream.source], ['shop', 'web', 'web-7d9f-abcde', 'nginx', 'node-a', 'elasticsearch'])
    }
    assert.deepEqual(shop.map((l) => l.stdio), want.map((x) => x.doc.stream))
    assert.equal(shop[7]!.attrs?.request_id, 'r-7')
    const pay = await readLines(d.urls.query!, 'pay')
    assert.deepEqual(pay.map((l) => l.message), all.filter((x) => x.id.startsWith('ecs-')).map((x) => x.doc.message))
    assert.deepEqual([pay[0]!.stream.job, pay[0]!.stream.index, pay[0]!.stream.process, pay[0]!.stream.node], ['billing', 'billing-0', 'api', 'vm-1'])
    assert.equal(pay[0]!.attrs?.['log.level'], 'warn')
  })

  await t.test('the Loki API: same lines under the promised labels', async () => {
    const q = new URLSearchParams({ query: '{deployment="shop", job="web", index="web-7d9f-abcde", process="nginx"}', start: String((NOW_MS - 120_000) * 1e6), end: String((NOW_MS + 1000) * 1e6), limit: '1000', direction: 'forward' })
    const res = await fetch(`${d.urls.query}/loki/api/v1/query_range?${q}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    const body = await res.json() as { data: { result: Array<{ values: Array<[string, string]> }> } }
    assert.equal(res.status, 200)
    const lines = body.data.result.flatMap((r) => r.values).sort((a, b) => a[0] < b[0] ? -1 : 1).map((v) => v[1])
    assert.deepEqual(lines, all.filter((x) => x.id.match(/^\d+$/)).map((x) => x.doc.log))
  })

  await t.test('logs fetch: the bundle holds the lines byte for byte', async () => {
    const out = join(tmp.path, 'out')
    const r = runCli(['fetch', 'shop/web', '--dir', out], { DAYTWO_QUERY_URL: d.urls.query, DAYTWO_TOKEN: OPERATOR })
    assert.equal(r.status, 0, r.stderr)
    const files = [...extract(r.stdout.trim(), join(out, 'x')).values()]
    assert.equal(files.length, 1)
    const want = all.filter((x) => x.id.match(/^\d+$/)).map((x) => `${x.doc.log as string}\n`).join('')
    assert.equal(files[0]!.toString('utf8'), want)
  })

  await t.test('a retry stores nothing twice: numeric _ids and others alike', async () => {
    await send()
    const shop = await readLines(d.urls.query!, 'shop')
    assert.equal(shop.length, 300)
    const pay = await readLines(d.urls.query!, 'pay')
    assert.equal(pay.length, 50)
  })

  await t.test('refusals: wrong key 401 before the body, bad gzip 400, bad JSON lines 400 items, each counted', async () => {
    const before = metricValue(await metrics(collector), 'daytwo_collector_rejected_requests_total', { reason: 'unauthorized' })
    const wrong = new Client({ node: collector, auth: { username: 'elastic', password: 'not-a-token' } })
    await assert.rejects(wrong.info(), (err: { meta?: { statusCode?: number } }) => err.meta?.statusCode === 401)
    await wrong.close()
    const after = metricValue(await metrics(collector), 'daytwo_collector_rejected_requests_total', { reason: 'unauthorized' })
    assert.equal(after - before, 1)
    // Basic with the token as password is accepted.
    const basic = await fetch(`${collector}/_bulk`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`elastic:${TOKEN}`).toString('base64')}`, 'content-type': 'application/x-ndjson' }, body: '{"index":{"_index":"raw"}}\n{"message":"basic ok"}\n{"create":{"_index":"raw"}}\n{not json\n' })
    const res = await basic.json() as { errors: boolean, items: Array<{ index?: { status: number }, create?: { status: number, error?: { type: string } } }> }
    assert.equal(basic.status, 200)
    assert.equal(res.errors, true)
    assert.equal(res.items[0]!.index!.status, 201)
    assert.equal(res.items[1]!.create!.status, 400)
    assert.equal(res.items[1]!.create!.error!.type, 'mapper_parsing_exception')
    const gz = await fetch(`${collector}/_bulk`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, body: gzipSync('x').subarray(0, 8) })
    assert.equal(gz.status, 400)
    assert.deepEqual((await readLines(d.urls.query!, 'raw')).map((l) => l.message), ['basic ok'])
  })
})
