import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { compressSync } from 'snappy'
import winston from 'winston'
import LokiTransport from 'winston-loki'
import { tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { PushRequest } from '../../helpers/loki-push-schema.js'
import { fetchedFiles, lokiLines, startReceiverDaytwo, storedLines } from '../../helpers/receivers.js'

// Issue 17 item 1, protobuf + snappy: winston-loki (its default transport: protobuf, snappy's
// block format, Basic auth) writes to a real `serve all`; the lines come back byte for byte
// through the query API, the Loki API and `logs fetch`, with the identity the rules give. A
// push built with protobufjs and the snappy encoder carries what winston-loki does not send
// (structured metadata, escaped label values, gzip around snappy); bodies that state too large
// a size, or are not snappy or not a PushRequest, are refused and counted.

const TOKEN = 'loki-proto-token'
const OPERATOR = 'loki-proto-operator'
const NOW_MS = Date.now()
const MAX_BODY = 1 << 20

const readLines = (d: DaytwoProcess, deployment: string) => storedLines(d, OPERATOR, deployment)

async function push (d: DaytwoProcess, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number, text: string }> {
  const res = await fetch(`${d.urls.collector}/loki/api/v1/push`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-protobuf', ...headers }, body: new Uint8Array(body) })
  return { status: res.status, text: await res.text() }
}

test('Loki push, protobuf + snappy: winston-loki and hand-built pushes, identity, metadata, bounds', async (t) => {
  const tmp = tempDir('daytwo-loki-proto-')
  // The inflate budget is one body's worth (collector/role.ts takes the largest of these three).
  const d = await startReceiverDaytwo(tmp.path, TOKEN, OPERATOR, { maxBodyBytes: MAX_BODY, inflateBudgetBytes: 1024, fleet: { maxReportBytes: 1024 } })
  t.after(async () => { await d.kill(); tmp.cleanup() })

  // Lines a millisecond apart, so the store's offset order is their time order (push-batches.ts).
  const lines = Array.from({ length: 120 }, (_, i) => i % 7 === 0 ? `{"level":"error","i":${i},"msg":"ünïcode ✓ \\"q\\""}` : `line ${i}  with  spaces\ttab ✓`)

  await t.test('winston-loki (protobuf + snappy by default) → 204, lines back byte for byte with their identity', async () => {
    const errors: Error[] = []
    const transport = new LokiTransport({
      host: d.urls.collector!,
      basicAuth: `promtail:${TOKEN}`,
      labels: { namespace: 'shop', app: 'cart', pod: 'cart-7d9f-x2', container: 'server', cluster: 'eu-1' },
      replaceTimestamp: false,
      interval: 0.2,
      format: winston.format.printf((info) => info.message as string),
      onConnectionError: (err: unknown) => { errors.push(err as Error) }
    })
    assert.equal((transport as unknown as { batcher: { contentType: string } }).batcher.contentType, 'application/x-protobuf', 'winston-loki found snappy and sends protobuf')
    const logger = winston.createLogger({ transports: [transport] })
    lines.forEach((message, i) => logger.info({ message, timestamp: new Date(NOW_MS - 60_000 + i).toISOString() }))
    await transport.flush()
    assert.ok(await waitFor(async () => (await readLines(d, 'shop')).length >= lines.length), 'every line stored')
    await transport.close()
    assert.deepEqual(errors, [])
    const got = await readLines(d, 'shop')
    assert.deepEqual(got.map((l) => l.message), lines)
    assert.deepEqual(got.map((l) => l.ts), lines.map((_, i) => String(BigInt(NOW_MS - 60_000 + i) * 1_000_000n)), 'times kept to the nanosecond as sent')
    for (const l of got) {
      assert.deepEqual([l.stream.source, l.stream.deployment, l.stream.job, l.stream.index, l.stream.process], ['loki', 'shop', 'cart', 'cart-7d9f-x2', 'server'])
      assert.deepEqual(l.stream.labels, { level: 'info', cluster: 'eu-1' }, 'labels no rule used stay stream labels')
    }
  })

  await t.test('the Loki API and logs fetch give the same lines', async () => {
    assert.deepEqual(await lokiLines(d, OPERATOR, '{deployment="shop", job="cart", index="cart-7d9f-x2", process="server"}', NOW_MS - 120_000, NOW_MS + 1000), lines)
    const files = fetchedFiles(d, OPERATOR, 'shop/cart', join(tmp.path, 'out'))
    assert.equal(files.length, 1)
    assert.equal(files[0]!.toString('utf8'), lines.map((l) => l + '\n').join(''))
  })

  const ns = (ms: number, extra: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 + extra })
  const handBuilt = PushRequest.encode(PushRequest.create({
    streams: [
      { labels: '{namespace="pay", app="billing", pod="billing-0", note="say \\"hi\\"\\n\\x41\\u00e9"}', entries: [{ timestamp: ns(NOW_MS - 30_000, 123), line: 'with metadata', structuredMetadata: [{ name: 'trace_id', value: 'abc123' }, { name: 'user', value: 'ü' }] }] },
      // The same label set a second time in one request, with an earlier line: one stream, both lines.
      { labels: '{app="billing",namespace="pay",pod="billing-0",note="say \\"hi\\"\\n\\x41\\u00e9"}', entries: [{ timestamp: ns(NOW_MS - 31_000, 0), line: 'earlier' }] }
    ]
  })).finish()

  await t.test('a hand-built push: structured metadata, Go-escaped label values, gzip around snappy, nanoseconds', async () => {
    const r = await push(d, gzipSync(compressSync(Buffer.from(handBuilt))), { 'content-encoding': 'gzip' })
    assert.equal(r.status, 204, r.text)
    const got = await readLines(d, 'pay')
    // A stream's lines in the order they came (docs/receivers.md "Delivery guarantees"), the
    // earlier time second.
    assert.deepEqual(got.map((l) => l.message), ['with metadata', 'earlier'])
    assert.equal(got[0]!.ts, String(BigInt(NOW_MS - 30_000) * 1_000_000n + 123n))
    assert.deepEqual(got[0]!.attrs, { trace_id: 'abc123', user: 'ü' })
    assert.equal(got[1]!.attrs, undefined)
    assert.deepEqual(got[0]!.stream.labels, { note: 'say "hi"\nAé' })
    assert.equal(got[0]!.stream.id, got[1]!.stream.id)
  })

  await t.test('the same push again (no Content-Type, as Loki takes protobuf then) stores nothing twice', async () => {
    const before = metricValue(await metrics(d.urls.collector!), 'daytwo_collector_duplicates_total')
    const res = await fetch(`${d.urls.collector}/loki/api/v1/push`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: new Uint8Array(compressSync(Buffer.from(handBuilt))) })
    assert.equal(res.status, 204, await res.text())
    assert.equal(metricValue(await metrics(d.urls.collector!), 'daytwo_collector_duplicates_total') - before, 2)
    assert.equal((await readLines(d, 'pay')).length, 2)
  })

  await t.test('refusals: a stated size over maxBodyBytes 413 before decoding, not snappy or not protobuf 400, other types 415; counted', async () => {
    const m0 = await metrics(d.urls.collector!)
    const count = (m: string, reason: string) => metricValue(m, 'daytwo_collector_rejected_requests_total', { reason })
    // A varint saying 2^32 − 1 bytes, then almost nothing: refused on the number alone.
    const bomb = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(16)])
    const big = await push(d, bomb)
    assert.equal(big.status, 413, big.text)
    // Just over the limit as stated, and a real block of that size.
    const over = await push(d, compressSync(Buffer.alloc(MAX_BODY + 1, 'a')))
    assert.equal(over.status, 413, over.text)
    const notSnappy = await push(d, Buffer.from([0x05, 0x00, 0x01]))
    assert.equal(notSnappy.status, 400, notSnappy.text)
    assert.match(notSnappy.text, /snappy/)
    const notProto = await push(d, compressSync(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])))
    assert.equal(notProto.status, 400, notProto.text)
    assert.match(notProto.text, /not a Loki PushRequest/)
    const badLabels = await push(d, compressSync(Buffer.from(PushRequest.encode(PushRequest.create({ streams: [{ labels: '{app="x', entries: [] }] })).finish())))
    assert.equal(badLabels.status, 400)
    assert.match(badLabels.text, /streams\[0\]\.labels: unterminated string/)
    const xml = await push(d, Buffer.from('<x/>'), { 'content-type': 'text/xml' })
    assert.equal(xml.status, 415)
    const m1 = await metrics(d.urls.collector!)
    assert.equal(count(m1, 'too_large') - count(m0, 'too_large'), 2)
    assert.equal(count(m1, 'malformed_batch') - count(m0, 'malformed_batch'), 3)
    assert.equal(count(m1, 'bad_content_type') - count(m0, 'bad_content_type'), 1)
  })

  await t.test('the budget is given back: two pushes of most of it, one after the other, are both taken', async () => {
    const big = 'x'.repeat(MAX_BODY * 0.6)
    for (let i = 0; i < 2; i++) {
      const body = PushRequest.encode(PushRequest.create({ streams: [{ labels: '{namespace="big"}', entries: [{ timestamp: ns(NOW_MS - 10_000 + i, 0), line: big }] }] })).finish()
      const r = await push(d, gzipSync(compressSync(Buffer.from(body))), { 'content-encoding': 'gzip' })
      assert.equal(r.status, 204, r.text)
    }
    assert.equal((await readLines(d, 'big')).length, 2)
  })
})
