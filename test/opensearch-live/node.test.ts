import assert from 'node:assert/strict'
import { test } from 'node:test'

// The OpenSearch test node itself: what the store relies on is there (data streams with
// date_nanos, the wildcard field type, flat_object). Run by `npm run test:opensearch`.

const url = process.env.OPENSEARCH_URL ?? ''
const skip = url ? false : 'OPENSEARCH_URL is not set: run `npm run test:opensearch`'

async function call (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const r = await fetch(url + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: r.status, json: await r.json() }
}

test('the OpenSearch test node is OpenSearch 2.19.6 and takes a data stream with the field types the store maps', { skip }, async () => {
  const info = await call('GET', '/')
  assert.equal(info.json.version.distribution, 'opensearch')
  assert.equal(info.json.version.number, '2.19.6')
  const t = await call('PUT', '/_index_template/smoke', {
    index_patterns: ['logs-smoke-*'],
    data_stream: {},
    template: { mappings: { properties: { '@timestamp': { type: 'date_nanos' }, message: { type: 'match_only_text', fields: { wc: { type: 'wildcard' } } }, labels: { type: 'flat_object' } } } }
  })
  assert.equal(t.status, 200, JSON.stringify(t.json))
  const d = await call('POST', '/logs-smoke-a/_doc?refresh=true', { '@timestamp': '2026-01-01T00:00:00.123456789Z', message: 'Hello connectionTimeout world', labels: { a: 'b' } })
  assert.equal(d.status, 201, JSON.stringify(d.json))
  const s = await call('POST', '/logs-smoke-a/_search', { query: { wildcard: { 'message.wc': { value: '*nTime*' } } } })
  assert.equal(s.json.hits.hits.length, 1)
  assert.equal(s.json.hits.hits[0]._source['@timestamp'], '2026-01-01T00:00:00.123456789Z')
  await call('DELETE', '/_data_stream/logs-smoke-a')
  await call('DELETE', '/_index_template/smoke')
})
