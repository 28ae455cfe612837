import assert from 'node:assert/strict'
import { test } from 'node:test'
import { recordId } from '../../../core/record.js'
import { batch, bytesOf, entries, fakeAndStore, sentDocs } from './setup.js'

test('a batch is sent as bulk create with the record id as _id, ECS fields and nanosecond @timestamp', async (t) => {
  const { es, store } = await fakeAndStore(t)
  const es1 = entries(3)
  const r = await store.write([batch('s1', es1, { namespace: 'shop', pod: 'web-7d9f-abcde', container: 'web', labels: { 'app.kubernetes.io/name': 'web' } })])
  assert.equal(r.lines, 3)
  assert.equal(r.newLines, 3)
  assert.equal(r.newBytes, bytesOf(es1))
  assert.deepEqual(r.perStream.get('s1'), { lines: 3, bytes: bytesOf(es1) })

  const bulk = es.bulkRequests()[0]!
  assert.equal(bulk.path, '/logs-daytwo-default/_bulk')
  assert.equal(bulk.headers['content-encoding'], 'gzip', 'bulk bodies are gzipped')
  assert.match(String(bulk.headers['user-agent']), /^daytwo\//)
  const docs = sentDocs(es, 'logs-daytwo-default')
  assert.deepEqual(docs.map((d) => [d.action, d.id]), es1.map((e) => ['create', recordId('s1', e[1])]))
  const d = docs[1]!.doc
  assert.equal(d['@timestamp'], '2025-11-23T10:16:40.000000001Z')
  assert.equal(d.message, es1[1]![2])
  assert.equal(d.stream, 'stderr')
  assert.equal(d['log.offset'], 100)
  assert.equal(d['log.file.path'], '/var/vcap/sys/log/gorouter/s1.log')
  assert.equal(d['host.name'], 'node-1')
  assert.equal(d['daytwo.stream_id'], 's1')
  assert.deepEqual([d.deployment, d.job, d.index, d.process], ['cf', 'router', '0', 'gorouter'])
  assert.deepEqual([d['kubernetes.namespace'], d['kubernetes.pod.name'], d['kubernetes.container.name'], d['orchestrator.type']], ['shop', 'web-7d9f-abcde', 'web', 'kubernetes'])
  assert.deepEqual([d['organization.name'], d.space, d.app], ['acme', 'prod', 'shop'])
  assert.deepEqual(d.labels, { 'app.kubernetes.io/name': 'web' })
})

test('writing the same batch again stores nothing new: 409 is "already stored", with no usage counted twice', async (t) => {
  const { es, store } = await fakeAndStore(t)
  const b = [batch('s1', entries(5)), batch('s2', entries(4, 1000))]
  const first = await store.write(b)
  assert.equal(first.newLines, 9)
  const again = await store.write(b)
  assert.equal(again.lines, 9)
  assert.equal(again.newLines, 0)
  assert.equal(again.newBytes, 0)
  assert.equal(again.perStream.size, 0)
  assert.equal(store.stats.existing, 9)
  const usage = sentDocs(es, 'daytwo-usage')
  assert.equal(usage.length, 1, 'one usage document, from the first write only')
  assert.equal(usage[0]!.doc.lines, 9)
})

test('partial failure: 201s count, 409s do not, 429s are retried until stored, 400 mapping errors go to the dead letter', async (t) => {
  const es1 = entries(12)
  const conflict = new Set([recordId('s1', 100), recordId('s1', 500)])
  const mapping = new Set([recordId('s1', 300), recordId('s1', 900)])
  const busy = new Set([recordId('s1', 0), recordId('s1', 700), recordId('s1', 1100)])
  const { es, store } = await fakeAndStore(t, {
    itemStatus: (op) => {
      if (op.index !== 'logs-daytwo-default') return undefined
      if (conflict.has(op.id)) return 409
      if (mapping.has(op.id)) return 400
      if (busy.has(op.id) && op.seen < 2) return op.seen === 0 ? 429 : 503
      return undefined
    }
  })
  const r = await store.write([batch('s1', es1)])
  const stored = es1.filter((e) => !conflict.has(recordId('s1', e[1])) && !mapping.has(recordId('s1', e[1])))
  assert.equal(r.lines, 12)
  assert.equal(r.newLines, stored.length)
  assert.equal(r.newBytes, bytesOf(stored))
  assert.deepEqual(store.stats, { created: stored.length, existing: 2, deadLettered: 2, lost: 0 })

  // The busy ones were sent three times, the others once.
  const sends = sentDocs(es, 'logs-daytwo-default')
  for (const e of es1) {
    const id = recordId('s1', e[1])
    assert.equal(sends.filter((d) => d.id === id).length, busy.has(id) ? 3 : 1, id)
  }

  const dead = sentDocs(es, 'logs-daytwo-deadletter')
  assert.deepEqual(dead.map((d) => d.id).sort(), [...mapping].sort())
  assert.equal(dead[0]!.doc['error.type'], 'document_parsing_exception')
  assert.match(String(dead[0]!.doc['error.message']), /failed to parse field \[@timestamp\].*before the epoch/)
  assert.equal(dead[0]!.doc['http.response.status_code'], 400)
  const original = JSON.parse(String(dead[0]!.doc['event.original'])) as Record<string, unknown>
  assert.equal(original['daytwo.stream_id'], 's1')
  assert.equal(typeof original.message, 'string')

  // Usage equals the bytes really stored, after the retries.
  const usage = sentDocs(es, 'daytwo-usage').filter((d) => d.doc.lines !== undefined)
  assert.equal(usage.reduce((n, d) => n + (d.doc.bytes as number), 0), bytesOf(stored))
  assert.equal(usage.reduce((n, d) => n + (d.doc.lines as number), 0), stored.length)
})

test('a 429 storm on the whole bulk request is retried with backoff until it passes', async (t) => {
  let rejected = 0
  const { es, store } = await fakeAndStore(t, {
    intercept: async (req) => {
      if (req.path === '/logs-daytwo-default/_bulk' && rejected < 6) {
        rejected++
        return { status: 429, body: (await import('../../helpers/elasticsearch-fake.js')).fixture('rejected-execution.json') }
      }
      return undefined
    }
  })
  const es1 = entries(20)
  const r = await store.write([batch('s1', es1)])
  assert.equal(rejected, 6)
  assert.equal(r.newLines, 20)
  assert.equal(es.docs.get('logs-daytwo-default')?.size, 20)
  assert.equal(store.bulk.stats.retriedItems, 6 * 20)
  const usage = sentDocs(es, 'daytwo-usage')
  assert.equal(usage.reduce((n, d) => n + (d.doc.bytes as number), 0), bytesOf(es1))
})

test('a write that Elasticsearch never takes fails with DAYTWO_ERR_STORE_UNAVAILABLE when retryTimeoutMs is spent', async (t) => {
  const { es, store } = await fakeAndStore(t, { itemStatus: (op) => op.index === 'logs-daytwo-default' ? 429 : undefined }, { retryTimeoutMs: 300 })
  await assert.rejects(store.write([batch('s1', entries(3))]), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'DAYTWO_ERR_STORE_UNAVAILABLE')
    assert.match(err.message, /did not take 3 of 3 operations in time.*429 es_rejected_execution_exception/)
    return true
  })
  assert.equal(sentDocs(es, 'daytwo-usage').length, 0, 'nothing stored, nothing counted')
})

test('HTTP 413 splits the bulk request in halves until each part fits; a record too large alone goes to the dead letter', async (t) => {
  const { es, store } = await fakeAndStore(t, { maxContentLength: 36000 }, { bulkMaxBytes: 1 << 20 })
  const es1 = entries(400)
  const huge: [string, number, string, string] = ['1763892900000000001', 999999, 'x'.repeat(40000), 'stdout']
  const r = await store.write([batch('s1', [...es1, huge])])
  assert.equal(r.newLines, 400)
  assert.equal(r.newBytes, bytesOf(es1))
  assert.equal(es.docs.get('logs-daytwo-default')?.size, 400)
  assert.ok(store.bulk.stats.splits >= 3, `splits: ${store.bulk.stats.splits}`)
  const dead = sentDocs(es, 'logs-daytwo-deadletter')
  assert.deepEqual(dead.map((d) => d.id), [recordId('s1', 999999)])
  assert.equal(dead[0]!.doc['http.response.status_code'], 413)
  assert.equal(dead[0]!.doc['daytwo.original_truncated'], true)
  assert.deepEqual(store.stats, { created: 400, existing: 0, deadLettered: 1, lost: 0 })
})

test('bulkMaxDocs and bulkMaxBytes bound each request, and concurrency bounds requests in flight', async (t) => {
  let inFlight = 0
  let maxInFlight = 0
  const { es, store } = await fakeAndStore(t, {
    intercept: async (req) => {
      if (req.path !== '/logs-daytwo-default/_bulk') return undefined
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return undefined
    }
  }, { bulkMaxDocs: 7, concurrency: 2 })
  const r = await store.write([batch('s1', entries(50)), batch('s2', entries(30, 0))])
  assert.equal(r.newLines, 80)
  const sizes = es.bulkRequests().filter((q) => q.path === '/logs-daytwo-default/_bulk').map((q) => q.body.split('\n').filter((l) => l).length / 2)
  assert.ok(sizes.every((n) => n <= 7), `sizes ${sizes.join(',')}`)
  assert.equal(sizes.reduce((a, b) => a + b, 0), 80)
  assert.ok(maxInFlight <= 2, `in flight ${maxInFlight}`)
})
