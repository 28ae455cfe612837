import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { recordId } from '../../../core/record.js'
import { encodeBatch } from '../../../core/wire.js'
import { storedId } from '../../helpers/collector.js'
import { startDaytwo, tempDir, waitFor } from '../../helpers/daytwo-process.js'
import { startFakeEs } from '../../helpers/elasticsearch-fake.js'
import { batch, entries, sentDocs } from './setup.js'

test('collector,query on Elasticsearch: the ingest answers 200 only after the bulk completed, and the query reads it back', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let held = 0
  const es = await startFakeEs({
    intercept: async (req) => {
      if (req.path === '/logs-daytwo-default/_bulk') { held++; await gate }
      return undefined
    }
  })
  t.after(() => es.close())
  const dir = tempDir()
  t.after(dir.cleanup)
  const d2 = await startDaytwo('collector,query', {
    dataDir: dir.path,
    logLevel: 'warn',
    collector: { port: 0, tokens: ['fwd-token'] },
    query: { port: 0, tokens: ['op-token'] },
    store: { kind: 'elasticsearch', elasticsearch: { url: es.url } }
  }, dir.path)
  t.after(async () => { await d2.stop() })

  const b = [batch('cf-router-0-gorouter', entries(25))]
  let settled = false
  const answer = fetch(`${d2.urls.collector}/api/v1/ingest`, {
    method: 'POST',
    headers: { authorization: 'Bearer fwd-token', 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body: gzipSync(encodeBatch(b))
  }).finally(() => { settled = true })

  assert.ok(await waitFor(() => held > 0), 'the collector sent a bulk request')
  // The bulk is held by the fake: the forwarder must not have its acknowledgement yet.
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(settled, false, 'ingest answered before Elasticsearch did')
  release()
  const res = await answer
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { received: 25, stored: 25, duplicates: 0, refused: 0 })

  const docs = sentDocs(es, 'logs-daytwo-default')
  // Under the stream id the collector binds to the forwarder's token.
  assert.deepEqual(docs.map((d) => d.id), b[0]!.entries.map((e) => recordId(storedId('cf-router-0-gorouter', 'fwd-token'), e[1])))
  assert.deepEqual(docs.map((d) => d.doc.message), b[0]!.entries.map((e) => e[2]))
  assert.ok(es.bulkRequests().every((r) => r.headers['content-encoding'] === 'gzip'))

  // The same batch again (a forwarder retry): 200, nothing new.
  const again = await fetch(`${d2.urls.collector}/api/v1/ingest`, {
    method: 'POST',
    headers: { authorization: 'Bearer fwd-token', 'content-type': 'application/x-ndjson' },
    body: encodeBatch(b)
  })
  assert.deepEqual(await again.json(), { received: 25, stored: 0, duplicates: 25, refused: 0 })

  // The query role reads the same cluster.
  const jobs = await fetch(`${d2.urls.query}/api/v1/jobs`, { headers: { authorization: 'Bearer op-token' } })
  assert.equal(jobs.status, 200)
  assert.deepEqual(await jobs.json(), { jobs: [{ deployment: 'cf', job: 'router', index: '0' }] })
  // Readiness asks the cluster's health.
  const ready = await fetch(`${d2.urls.collector}/readyz`)
  assert.equal(ready.status, 200)
  assert.ok(es.requests.some((r) => r.path === '/_cluster/health'))
})
