import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { repoRoot } from './repo.js'

// A fake Elasticsearch 8 on 127.0.0.1: a real HTTP server answering with the recorded
// response shapes in test/fixtures/elasticsearch/. It keeps the documents it is sent (so
// `create` answers 409 the second time), evaluates the few queries daytwo sends (term,
// terms, range; sort + search_after; a composite aggregation) and lets a test inject
// per-item or per-request failures.

export interface FakeRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: string
}

export interface BulkOpInfo {
  action: 'create' | 'index' | 'update'
  index: string
  id: string
  doc: Record<string, unknown>
  /** How many times this (index, id) was sent before, in any request. */
  seen: number
}

export interface FakeReply { status: number, body?: unknown, headers?: Record<string, string> }

export interface FakeEsOptions {
  /** Send `x-elastic-product: Elasticsearch` (default true). */
  productHeader?: boolean
  /** Answer an item with this status (fixture chosen by status) instead of storing it. */
  itemStatus?: (op: BulkOpInfo) => number | undefined
  /** Answer a whole request (before the defaults), e.g. a 429 storm. Async to hold it. */
  intercept?: (req: FakeRequest) => FakeReply | undefined | Promise<FakeReply | undefined>
  /** Bulk bodies larger than this get 413, as http.max_content_length does. */
  maxContentLength?: number
}

export interface FakeEs {
  url: string
  requests: FakeRequest[]
  /** Stored documents per index name as sent (data stream or index). */
  docs: Map<string, Map<string, Record<string, unknown>>>
  bulkRequests: () => FakeRequest[]
  close: () => Promise<void>
}

const dir = join(repoRoot(), 'test', 'fixtures', 'elasticsearch')
export function fixture (name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>
}

function itemFixture (status: number): string {
  if (status === 201) return 'bulk-item-created.json'
  if (status === 409) return 'bulk-item-conflict.json'
  if (status === 429) return 'bulk-item-rejected.json'
  if (status >= 500) return 'bulk-item-server-error.json'
  return 'bulk-item-mapping.json'
}

function item (action: string, index: string, id: string, status: number): Record<string, unknown> {
  const text = readFileSync(join(dir, itemFixture(status)), 'utf8').replaceAll('"ID"', JSON.stringify(id)).replaceAll('[ID]', `[${id}]`).replaceAll("'ID'", `'${id}'`)
  const body = JSON.parse(text) as { create: Record<string, unknown> }
  const inner: Record<string, unknown> = { ...body.create, _index: `.ds-${index}-2025.11.23-000001`, status }
  if (status === 200) inner.result = 'updated'
  return { [action]: inner }
}

/** A field of a document whose keys may be dotted (`log.offset`) or nested. */
export function field (doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path]
  const dot = path.indexOf('.')
  if (dot === -1) return undefined
  for (let i = dot; i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i)
    const v = doc[head]
    if (v && typeof v === 'object') {
      const r = field(v as Record<string, unknown>, path.slice(i + 1))
      if (r !== undefined) return r
    }
  }
  return undefined
}

function cmp (a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
}

function matches (doc: Record<string, unknown>, q: Record<string, any> | undefined): boolean {
  if (!q) return true
  if (q.bool) return ((q.bool.filter ?? []) as Array<Record<string, any>>).every((f) => matches(doc, f))
  if (q.term) { const [k, v] = Object.entries(q.term)[0]!; return field(doc, k) === v }
  if (q.terms) { const [k, v] = Object.entries(q.terms)[0]!; return (v as unknown[]).includes(field(doc, k)) }
  if (q.range) {
    const [k, r] = Object.entries(q.range as Record<string, Record<string, unknown>>)[0]!
    const x = field(doc, k)
    if (r.gt !== undefined && !(cmp(x, r.gt) > 0)) return false
    if (r.gte !== undefined && !(cmp(x, r.gte) >= 0)) return false
    if (r.lt !== undefined && !(cmp(x, r.lt) < 0)) return false
    if (r.lte !== undefined && !(cmp(x, r.lte) <= 0)) return false
    return true
  }
  throw new Error('fake ES: unsupported query ' + JSON.stringify(q))
}

export async function startFakeEs (opts: FakeEsOptions = {}): Promise<FakeEs> {
  const requests: FakeRequest[] = []
  const docs = new Map<string, Map<string, Record<string, unknown>>>()
  const seen = new Map<string, number>()
  const pits = new Map<string, string>()
  let pitSeq = 0
  const indexDocs = (name: string) => { let m = docs.get(name); if (!m) { m = new Map(); docs.set(name, m) } return m }

  const send = (res: ServerResponse, r: FakeReply) => {
    // Like Elasticsearch's 413 (http.max_content_length), a reply without a body has no content type.
    const headers: Record<string, string> = { ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...(r.headers ?? {}) }
    if (opts.productHeader !== false) headers['x-elastic-product'] = 'Elasticsearch'
    res.writeHead(r.status, headers)
    res.end(r.body === undefined ? '' : JSON.stringify(r.body))
  }

  const bulk = (req: FakeRequest): FakeReply => {
    const pathIndex = req.path === '/_bulk' ? undefined : decodeURIComponent(req.path.split('/')[1]!)
    const lines = req.body.split('\n').filter((l) => l.length > 0)
    const items: unknown[] = []
    let errors = false
    for (let i = 0; i < lines.length; i += 2) {
      const actionLine = JSON.parse(lines[i]!) as Record<string, { _id: string, _index?: string }>
      const action = Object.keys(actionLine)[0] as BulkOpInfo['action']
      const meta = actionLine[action]!
      const index = meta._index ?? pathIndex!
      const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>
      const key = index + '\0' + meta._id
      const n = seen.get(key) ?? 0
      seen.set(key, n + 1)
      let status = opts.itemStatus?.({ action, index, id: meta._id, doc, seen: n })
      if (status === undefined) {
        const store = indexDocs(index)
        if (action === 'update') {
          const old = store.get(meta._id)
          const d = doc as { upsert: Record<string, unknown>, script: { params: { lines: number, bytes: number, last: string, tags: Record<string, unknown> } } }
          if (!old) { store.set(meta._id, d.upsert); status = 201 } else {
            const p = d.script.params
            old.lines = (old.lines as number) + p.lines
            old.bytes = (old.bytes as number) + p.bytes
            if (BigInt(p.last) > BigInt(old.last_ts_ns as string)) old.last_ts_ns = p.last
            Object.assign(old, p.tags)
            status = 200
          }
        } else if (action === 'create' && store.has(meta._id)) {
          status = 409
        } else {
          store.set(meta._id, doc)
          status = 201
        }
      }
      if (status >= 300) errors = true
      items.push(item(action, index, meta._id, status))
    }
    return { status: 200, body: { took: 3, errors, items } }
  }

  const search = (req: FakeRequest): FakeReply => {
    const body = JSON.parse(req.body || '{}') as Record<string, any>
    let index: string
    if (body.pit) {
      const p = pits.get(body.pit.id)
      if (!p) return { status: 404, body: { error: { type: 'search_context_missing_exception', reason: 'No search context found for id' }, status: 404 } }
      index = p
    } else {
      index = decodeURIComponent(req.path.split('/')[1]!)
    }
    const all = docs.get(index)
    if (!all) {
      const nf = JSON.parse(JSON.stringify(fixture('index-not-found.json')).replaceAll('INDEX', index)) as Record<string, unknown>
      return { status: 404, body: nf }
    }
    const hits = [...all.values()].filter((d) => matches(d, body.query))
    const base = fixture('search-empty.json') as Record<string, any>
    if (body.aggs?.usage) {
      const groups = new Map<string, { key: Record<string, unknown>, sums: Record<string, number> }>()
      for (const d of hits) {
        // The composite's sources: terms of a field, or a date_histogram at a fixed interval in ms.
        const key: Record<string, unknown> = {}
        for (const src of (body.aggs.usage.composite.sources ?? [{ minute: { terms: { field: 'minute' } } }, { org: { terms: { field: 'org' } } }, { app: { terms: { field: 'app' } } }]) as Array<Record<string, any>>) {
          const [name, def] = Object.entries(src)[0]!
          if (def.date_histogram) {
            const step = Number(/^(\d+)ms$/.exec(def.date_histogram.fixed_interval)![1])
            const t = Number(d[def.date_histogram.field])
            key[name] = t - (((t % step) + step) % step)
          } else key[name] = d[def.terms.field]
        }
        const k = JSON.stringify(key)
        let g = groups.get(k)
        if (!g) { g = { key, sums: { lines: 0, bytes: 0, dropped_lines: 0, dropped_bytes: 0 } }; groups.set(k, g) }
        for (const f of Object.keys(g.sums)) g.sums[f]! += Number(d[f] ?? 0)
      }
      const sorted = [...groups.values()].sort((a, b) => cmp(a.key.minute, b.key.minute) || cmp(a.key.org, b.key.org) || cmp(a.key.app ?? '', b.key.app ?? ''))
      const after = body.aggs.usage.composite.after as Record<string, unknown> | undefined
      const start = after ? sorted.findIndex((g) => JSON.stringify(g.key) === JSON.stringify(after)) + 1 : 0
      const page = sorted.slice(start, start + body.aggs.usage.composite.size)
      const buckets = page.map((g) => ({ key: g.key, doc_count: 1, lines: { value: g.sums.lines }, bytes: { value: g.sums.bytes }, dropped_lines: { value: g.sums.dropped_lines }, dropped_bytes: { value: g.sums.dropped_bytes } }))
      const usage: Record<string, unknown> = { buckets }
      if (page.length > 0) usage.after_key = page[page.length - 1]!.key
      return { status: 200, body: { ...base, aggregations: { usage } } }
    }
    const sort = (body.sort ?? []) as Array<Record<string, string>>
    const fields = sort.map((s) => Object.keys(s)[0]!)
    const key = (d: Record<string, unknown>) => fields.map((f) => field(d, f))
    hits.sort((a, b) => { const ka = key(a); const kb = key(b); for (let i = 0; i < ka.length; i++) { const c = cmp(ka[i], kb[i]); if (c !== 0) return c } return 0 })
    let from = 0
    if (body.search_after) {
      const sa = body.search_after as unknown[]
      from = hits.findIndex((d) => { const k = key(d); for (let i = 0; i < k.length; i++) { const c = cmp(k[i], sa[i]); if (c !== 0) return c > 0 } return false })
      if (from === -1) from = hits.length
    }
    const page = hits.slice(from, from + (body.size ?? 10)).map((d) => ({ _index: `.ds-${index}-2025.11.23-000001`, _id: String(d['daytwo.record_id'] ?? d.id ?? ''), _score: null, _source: d, sort: key(d) }))
    const out: Record<string, unknown> = { ...base, hits: { max_score: null, hits: page } }
    if (body.pit) out.pit_id = body.pit.id
    return { status: 200, body: out }
  }

  const route = (req: FakeRequest): FakeReply => {
    const { method, path } = req
    if (path === '/' && (method === 'GET' || method === 'HEAD')) return { status: 200, body: fixture('info.json') }
    if (method === 'PUT' && (path.startsWith('/_index_template/') || path.startsWith('/_ilm/policy/'))) return { status: 200, body: fixture('acknowledged.json') }
    if (method === 'POST' && path.endsWith('/_bulk')) {
      if (opts.maxContentLength !== undefined && Buffer.byteLength(req.body) > opts.maxContentLength) return { status: 413 }
      return bulk(req)
    }
    if (method === 'POST' && path.endsWith('/_pit')) {
      const id = `${fixture('pit-open.json').id as string}-${++pitSeq}`
      pits.set(id, decodeURIComponent(path.split('/')[1]!))
      return { status: 200, body: { ...fixture('pit-open.json'), id } }
    }
    if (method === 'DELETE' && path === '/_pit') {
      const { id } = JSON.parse(req.body) as { id: string }
      const freed = pits.delete(id)
      return { status: 200, body: { succeeded: true, num_freed: freed ? 1 : 0 } }
    }
    if ((method === 'POST' || method === 'GET') && path.endsWith('/_search')) return search(req)
    if (method === 'GET' && path === '/_cluster/health') return { status: 200, body: fixture('cluster-health.json') }
    return { status: 400, body: { error: { type: 'illegal_argument_exception', reason: `fake ES: no handler for [${method}] ${path}` }, status: 400 } }
  }

  const server = createServer((r, res) => {
    const chunks: Buffer[] = []
    r.on('data', (c: Buffer) => chunks.push(c))
    r.on('end', () => {
      void (async () => {
        let raw = Buffer.concat(chunks)
        if (r.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
        const u = new URL(r.url ?? '/', 'http://x')
        const req: FakeRequest = { method: r.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: r.headers, body: raw.toString('utf8') }
        requests.push(req)
        try {
          send(res, (await opts.intercept?.(req)) ?? route(req))
        } catch (err) {
          send(res, { status: 500, body: { error: { type: 'exception', reason: String(err) }, status: 500 } })
        }
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    docs,
    bulkRequests: () => requests.filter((q) => q.path.endsWith('/_bulk')),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
