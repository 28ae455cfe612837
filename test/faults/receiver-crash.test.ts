import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@elastic/elasticsearch'
import { Agent, RetryAgent, request } from 'undici'
import { waitFor } from '../helpers/daytwo-process.js'
import { multisetDiff, sleep, storedMessages } from '../helpers/faults.js'
import { OPERATOR, TOKEN, collector, count, killTwice } from './receiver-crash-setup.js'

// Issue 17: kill -9 of `serve collector,query` twice while real clients that retry send to it
// — Loki push through undici's RetryAgent (no Loki client on npm retries a push), and _bulk
// through the official Elasticsearch client's helpers.bulk (its transport retries a request
// whose connection failed). Requests are in flight at each kill, so some were stored and not
// answered: their retries must be recognised (store/embedded/record-keys.ts). Afterwards every
// line is stored exactly once.

const NOW_MS = Date.now()

test('kill -9 of the collector during Loki pushes retried by undici: every line stored once, out-of-order lines too', { timeout: 180_000 }, async (t) => {
  const c = await collector(t)
  const dispatcher = new RetryAgent(new Agent({ connect: { timeout: 2000 } }), {
    maxRetries: 100,
    minTimeout: 50,
    maxTimeout: 400,
    methods: ['POST'],
    statusCodes: [429, 500, 502, 503, 504],
    errorCodes: ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT']
  })
  t.after(() => dispatcher.close())
  const REQUESTS = 40
  const LINES = 300
  const SENDERS = 4
  const want: string[] = []
  const bodies: Buffer[] = []
  for (let r = 0; r < REQUESTS; r++) {
    const values: Array<[string, string]> = []
    for (let i = 0; i < LINES; i++) {
      const text = `loki r${r} i${i} ${'y'.repeat((r * 7 + i) % 40)}`
      // Out of order within a request and against the stream's newest (each request reaches
      // further back), and many lines share a millisecond.
      const ms = NOW_MS - 60_000 - r * 50 + ((i * 37) % LINES) / 4
      values.push([String(BigInt(Math.floor(ms)) * 1_000_000n + BigInt(i)), text])
      want.push(text)
    }
    bodies.push(Buffer.from(JSON.stringify({ streams: [{ stream: { namespace: 'crash-loki', app: 'pusher', pod: 'p-0' }, values }] })))
  }
  let done = 0
  const sender = async (k: number) => {
    for (let r = k; r < REQUESTS; r += SENDERS) {
      const res = await request(`${c.url}/loki/api/v1/push`, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: bodies[r]! })
      await res.body.text()
      assert.equal(res.statusCode, 204)
    }
    done++
  }
  const senders = Promise.all(Array.from({ length: SENDERS }, (_, k) => sender(k)))
  const stored = count(c, 'crash-loki')
  const at = await killTwice(c, stored, [2_000, 6_000], () => done < SENDERS)
  await senders
  t.diagnostic(`stored when killed: ${at.join(', ')} of ${want.length}`)
  assert.ok(await waitFor(async () => await stored() >= want.length, 60_000, 100))
  await sleep(300)
  assert.equal(multisetDiff(await storedMessages(c.query, OPERATOR, 'crash-loki'), want), '', 'every line stored exactly once')
})

test('kill -9 of the collector during helpers.bulk of documents without _id: every document stored once', { timeout: 180_000 }, async (t) => {
  const c = await collector(t)
  const client = new Client({ node: c.url, auth: { apiKey: TOKEN }, maxRetries: 30, requestTimeout: 10_000 })
  t.after(() => client.close())
  const DOCS = 12_000
  const want: string[] = []
  const docs = Array.from({ length: DOCS }, (_, i) => {
    const message = `bulk doc ${i} ${'z'.repeat(i % 50)}`
    want.push(message)
    return { '@timestamp': new Date(NOW_MS - 120_000 + Math.floor(i / 3)).toISOString(), message, kubernetes: { namespace: 'crash-bulk', pod: { name: 'b-0' } } }
  })
  let done = 0
  const bulk = (async () => {
    const stats = await client.helpers.bulk({
      // A slow source: the helper keeps sending while the collector is killed.
      datasource: (async function * () { for (let i = 0; i < docs.length; i++) { if (i % 200 === 0) await sleep(15); yield docs[i]! } })(),
      flushBytes: 20_000,
      concurrency: 2,
      retries: 20,
      wait: 200,
      onDocument: () => ({ create: { _index: 'logs-crash' } })
    })
    done++
    return stats
  })()
  const stored = count(c, 'crash-bulk')
  const at = await killTwice(c, stored, [2_000, 6_000], () => done < 1)
  const stats = await bulk
  t.diagnostic(`stored when killed: ${at.join(', ')} of ${DOCS}; helpers.bulk: ${JSON.stringify(stats)}`)
  assert.equal(stats.failed, 0)
  assert.ok(await waitFor(async () => await stored() >= DOCS, 60_000, 100))
  await sleep(300)
  assert.equal(multisetDiff(await storedMessages(c.query, OPERATOR, 'crash-bulk'), want), '', 'every document stored exactly once')
})
