import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { opensearchSchema } from '../../core/config/elasticsearch.js'
import { OpenSearchStore } from '../../store/opensearch/opensearch-store.js'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { metricValue, metrics } from '../helpers/faults.js'
import { engineProxy, type EngineProxy } from './engine-proxy.js'

// A query's searches stop when its client goes away, and at query.timeoutMs, on OpenSearch
// (`npm run test:opensearch`): `logs serve query` reads the node through a proxy that holds
// the searches of one index unanswered. A usage report (the usage index) and a Loki log query
// (the records, after its streams search) are sent, and their client leaves (or waits past
// the deadline) once the held search arrived: daytwo closes that search request (the engine
// then cancels its search task) and asks for nothing more; past the deadline it answers 504.

const url = process.env.OPENSEARCH_URL ?? ''
const skip = url ? false : 'OPENSEARCH_URL is not set: run `npm run test:opensearch`'
const TOKEN = 'disconnect-operator'
const TIMEOUT_MS = 5000

interface Held { path: string, res: ServerResponse, closedByDaytwo: boolean }

describe('OpenSearch: a query whose client goes away stops its searches', { skip }, () => {
  const run = randomBytes(4).toString('hex')
  const names = { dataStream: `logs-daytwotest-${run}`, deadLetterDataStream: `logs-daytwotest-${run}-dl`, usageIndex: `daytwotest-${run}-usage`, streamsIndex: `daytwotest-${run}-streams`, ismPolicy: '' }
  const tmp = tempDir('daytwo-os-disconnect-')
  /** Searches on this index are held; every other request passes. */
  let holdIndex = ''
  const held: Held[] = []
  const searches = new Map<string, number>()
  let proxy: EngineProxy
  let store: OpenSearchStore
  let daytwo: DaytwoProcess

  before(async () => {
    store = await OpenSearchStore.open(opensearchSchema.parse({ url, ...names }))
    const now = BigInt(Date.now()) * 1_000_000n
    await store.write([{ stream: { id: 'dc-1', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/d.log', org: 'acme', app: 'web' }, entries: [[String(now - 1000n), 0, 'one line', 'stdout']] }])
    await store.engine.request({ method: 'POST', path: `/${names.dataStream},${names.streamsIndex},${names.usageIndex}/_refresh` })
    proxy = await engineProxy(url, (res, req) => {
      const path = (req.url ?? '').split('?')[0]!
      const index = decodeURIComponent(path.split('/')[1] ?? '')
      searches.set(index, (searches.get(index) ?? 0) + 1)
      if (index !== holdIndex) return false
      const h: Held = { path, res, closedByDaytwo: false }
      res.on('close', () => { if (!res.writableEnded) h.closedByDaytwo = true })
      held.push(h)
      return true
    })
    daytwo = await startDaytwo('query', {
      dataDir: tmp.path,
      logLevel: 'warn',
      query: { port: 0, tokens: [TOKEN], timeoutMs: TIMEOUT_MS },
      store: { kind: 'opensearch', opensearch: { ...names, url: proxy.url, installTemplates: false, requestTimeoutMs: 600000 } }
    }, tmp.path)
  })

  after(async () => {
    await daytwo?.stop()
    proxy?.close()
    if (store) {
      await store.engine.request({ method: 'DELETE', path: `/_data_stream/${names.dataStream}` }).catch(() => {})
      await store.engine.request({ method: 'DELETE', path: `/${names.usageIndex},${names.streamsIndex}` }).catch(() => {})
      await store.close()
    }
    tmp.cleanup()
  })

  /** Sends `path`, leaves once daytwo's search of `index` is held; returns that search. */
  async function leaveDuringSearch (path: string, index: string): Promise<Held> {
    holdIndex = index
    const n = held.length
    const ac = new AbortController()
    const answer = fetch(`${daytwo.urls.query}${path}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ac.signal })
    assert.ok(await waitFor(() => held.length > n, 20000, 10), `daytwo searched ${index}`)
    ac.abort()
    await assert.rejects(answer)
    const h = held[n]!
    assert.ok(await waitFor(() => h.res.destroyed, 20000, 10), 'daytwo closed its search request')
    return h
  }

  /** Requests answered with `code`, as daytwo counts them. */
  async function answered (route: string, code: string): Promise<number> {
    return metricValue(await metrics(daytwo.urls.query!), 'daytwo_query_requests_total', { route, code })
  }

  test('a usage report: its aggregation request is closed, nothing more is asked', async () => {
    const before = searches.get(names.usageIndex) ?? 0
    const h = await leaveDuringSearch('/api/v1/usage?by=app', names.usageIndex)
    assert.equal(h.closedByDaytwo, true, 'closed before an answer was sent')
    assert.equal((searches.get(names.usageIndex) ?? 0) - before, 1, 'one search, no retry after the abort')
  })

  test('a Loki log query: its records search is closed after the streams search; no next page', async () => {
    const q = encodeURIComponent('{job="j"} |= "line"')
    const before = { streams: searches.get(names.streamsIndex) ?? 0, records: searches.get(names.dataStream) ?? 0 }
    const h = await leaveDuringSearch(`/loki/api/v1/query_range?query=${q}&limit=10`, names.dataStream)
    assert.equal(h.closedByDaytwo, true)
    assert.equal((searches.get(names.streamsIndex) ?? 0) - before.streams, 1, 'the streams search, answered')
    assert.equal((searches.get(names.dataStream) ?? 0) - before.records, 1, 'one records search, closed; no next page')
  })

  test('a usage report past query.timeoutMs: its search closed, 504 naming the deadline', async () => {
    holdIndex = names.usageIndex
    const n = held.length
    const ac = new AbortController()
    try {
      const answer = fetch(`${daytwo.urls.query}/api/v1/usage`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ac.signal })
      assert.ok(await waitFor(() => held.length > n, 20000, 10))
      // The held search is never answered and requestTimeoutMs is far off: only the deadline ends it.
      assert.ok(await waitFor(() => held[n]!.res.destroyed, TIMEOUT_MS + 20000, 10), 'daytwo closed its search at the deadline')
      assert.equal(held[n]!.closedByDaytwo, true)
      const res = await answer
      assert.equal(res.status, 504)
      const body = await res.json() as { code: string, message: string }
      assert.equal(body.code, 'DAYTWO_ERR_QUERY_TIMEOUT')
      assert.match(body.message, new RegExp(`${TIMEOUT_MS} ms`))
      assert.equal(held.length, n + 1, 'one search')
      assert.equal(await answered('/api/v1/usage', '504'), 1)
    } finally { ac.abort() }
  })

  test('with nothing held, the same questions are answered', async () => {
    holdIndex = ''
    const usage = await fetch(`${daytwo.urls.query}/api/v1/usage?by=app`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(usage.status, 200)
    const report = await usage.json() as { rows: Array<{ org: string, app: string, lines: number }> }
    assert.deepEqual(report.rows.map((r) => [r.org, r.app, r.lines]), [['acme', 'web', 1]])
    const q = encodeURIComponent('{job="j"} |= "line"')
    const loki = await fetch(`${daytwo.urls.query}/loki/api/v1/query_range?query=${q}&limit=10&start=${Date.now() - 3_600_000}000000`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(loki.status, 200)
    const data = (await loki.json() as { data: { result: Array<{ values: Array<[string, string]> }> } }).data
    assert.deepEqual(data.result.flatMap((r) => r.values.map((v) => v[1])), ['one line'])
  })
})
