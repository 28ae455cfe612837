import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import type { StreamTags } from '../../../core/record.js'
import { decodeGroup } from '../../../core/wire.js'
import { tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { startReceiverDaytwo } from '../../helpers/receivers.js'

// Issue 17 item 1: Loki's push API on the collector, JSON bodies (gzip too), Basic auth with the
// token as password as Promtail/Alloy send it; the lines come back with the identity the
// README promises, and a retried request is a duplicate, not a second copy.

const TOKEN = 'loki-sender-token'
const OPERATOR = 'loki-operator'
const NOW_NS = BigInt(Date.now()) * 1_000_000n
// Lines a millisecond apart, in the order they are sent: the logs API returns a receiver's
// lines in the order they came (store/embedded/record-keys.ts).
const ts = (i: number) => String(NOW_NS + BigInt(i) * 1_000_000n)
const basic = (pw: string) => `Basic ${Buffer.from(`promtail:${pw}`).toString('base64')}`

async function push (d: DaytwoProcess, auth: string, doc: unknown, gzip = false): Promise<{ status: number, text: string }> {
  const json = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc))
  const headers: Record<string, string> = { authorization: auth, 'content-type': 'application/json' }
  if (gzip) headers['content-encoding'] = 'gzip'
  const res = await fetch(`${d.urls.collector}/loki/api/v1/push`, { method: 'POST', headers, body: gzip ? gzipSync(json) : json })
  return { status: res.status, text: await res.text() }
}

async function read (d: DaytwoProcess, deployment: string): Promise<Array<{ message: string, stream: StreamTags, attrs?: Record<string, string> }>> {
  const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=${encodeURIComponent(deployment)}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  if (res.status === 404) return []
  const text = await res.text()
  assert.equal(res.status, 200, text)
  const out: Array<{ message: string, stream: StreamTags, attrs?: Record<string, string> }> = []
  for (const l of text.split('\n')) if (l) { const g = decodeGroup(l); for (const e of g.entries) out.push({ message: e[2], stream: g.stream, ...(e[4] ? { attrs: e[4] } : {}) }) }
  return out
}

test('Loki push: JSON and gzip, identity from labels, retries are duplicates, refusals counted', async (t) => {
  const tmp = tempDir('daytwo-loki-')
  const d = await startReceiverDaytwo(tmp.path, TOKEN, OPERATOR)
  t.after(async () => { await d.kill(); tmp.cleanup() })

  const line = 'level=info msg="héllo \\"quoted\\"" trailing  spaces  '
  const doc = {
    streams: [{
      stream: { namespace: 'shop', app: 'cart', pod: 'cart-7d9f-x2', container: 'server', cluster: 'eu-1' },
      values: [[ts(0), line], [ts(1), 'second', { trace_id: 'abc123' }]]
    }]
  }

  await t.test('a push is 204 and comes back byte for byte with the promised identity', async () => {
    const r = await push(d, basic(TOKEN), doc, true)
    assert.equal(r.status, 204, r.text)
    assert.ok(await waitFor(async () => (await read(d, 'shop')).length === 2))
    const [a, b] = await read(d, 'shop')
    assert.equal(a!.message, line)
    assert.deepEqual([a!.stream.source, a!.stream.deployment, a!.stream.job, a!.stream.index, a!.stream.process], ['loki', 'shop', 'cart', 'cart-7d9f-x2', 'server'])
    assert.deepEqual(a!.stream.labels, { cluster: 'eu-1' }, 'labels no rule used stay stream labels')
    assert.equal(b!.message, 'second')
    assert.deepEqual(b!.attrs, { trace_id: 'abc123' }, 'structured metadata is kept per line')
  })

  await t.test('the same request retried (plain JSON, Bearer) stores nothing twice', async () => {
    const r = await push(d, `Bearer ${TOKEN}`, doc)
    assert.equal(r.status, 204, r.text)
    const m = await metrics(d.urls.collector!)
    assert.equal(metricValue(m, 'daytwo_collector_duplicates_total'), 2)
    assert.equal((await read(d, 'shop')).length, 2)
  })

  await t.test('refusals: a wrong token is 401, a bad body 400 with Loki\'s plain text, both counted', async () => {
    assert.equal((await push(d, basic('wrong'), doc)).status, 401)
    const bad = await push(d, `Bearer ${TOKEN}`, { streams: [{ stream: { app: 'x' }, values: [['yesterday', 'x']] }] })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /values\[0\] is not \["<unix ns>", "<line>"\]/)
    const m = await metrics(d.urls.collector!)
    assert.equal(metricValue(m, 'daytwo_collector_rejected_requests_total', { reason: 'unauthorized' }), 1)
    assert.equal(metricValue(m, 'daytwo_collector_rejected_requests_total', { reason: 'malformed_batch' }), 1)
  })
})
