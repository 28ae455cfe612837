import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { opensearchSchema } from '../../core/config/elasticsearch.js'
import type { Entry, StreamTags } from '../../core/record.js'
import { OpenSearchStore } from '../../store/opensearch/opensearch-store.js'
import type { LabelMatcher, LineFilter, SampleParams, SampleVariant, SelectLogsParams, SelectedLine } from '../../store/select-params.js'
import { engineProxy, type EngineProxy } from './engine-proxy.js'
import { bruteLogs, bruteSamples, bruteVariants, type Written } from '../store/search-engine/brute-force.js'

// The OpenSearch store against a real OpenSearch node (`npm run test:opensearch`): for one
// corpus, selectLogs, selectSamples and variants equal a brute-force evaluation of the same
// question; the requests each question makes are counted; a consumer that stops, an abort, a
// cluster that is down, refuses with 429 or answers slowly end the question with an error,
// never a partial answer.

const url = process.env.OPENSEARCH_URL ?? ''
const skip = url ? false : 'OPENSEARCH_URL is not set: run `npm run test:opensearch`'

const BASE = 1767225600000000000n // 2026-01-01T00:00:00Z
const SEC = 1_000_000_000n

function tags (i: number): StreamTags {
  const t: StreamTags = {
    id: `s${i}-${['a', 'b', 'c'][i % 3]}`,
    source: i === 5 ? 'syslog' : 'file',
    node: `node-${i % 2}`,
    deployment: i < 3 ? 'prod' : 'staging',
    job: ['router', 'api', 'worker'][i % 3]!,
    index: String(i),
    process: i % 2 === 0 ? 'nginx' : 'app',
    path: `/var/log/${i}.log`
  }
  if (i % 2 === 0) { t.namespace = 'prod-ns'; t.pod = `pod-${i}`; t.container = 'c' }
  if (i !== 4) { t.org = i % 3 === 0 ? 'org-a' : 'org-b'; t.app = `app${i}`; t.space = 'space' }
  return t
}

const MESSAGES = [
  'GET /v2/apps 200 ok',
  'ERROR connection timeout to db',
  '{"level":"warn","msg":"slow request","ms":1200}',
  'level=debug msg="cache miss" key=a*b?c',
  'INFO started in 3.2s',
  'connectionTimeout after 30s',
  'ünïcödé ✓ ÄÖÜ tab\there',
  'back\\slash and "quotes" and 50% off',
  '',
  'Timeout in UPPER and lower timeout',
  'FATAL panic: runtime error',
  'trace id=abc123 span=def456',
  // What `a*b?c` would match if its * and ? were wildcards.
  'aXXbYc and no metacharacters'
]

function corpus (): Array<{ tags: StreamTags, entries: Entry[] }> {
  const out: Array<{ tags: StreamTags, entries: Entry[] }> = []
  for (let s = 0; s < 6; s++) {
    const entries: Entry[] = []
    for (let i = 0; i < 40; i++) {
      // Every 4th line on a whole second (window edges), others 250 ms apart, some with
      // sub-millisecond parts; streams share instants, so ties are ordered by stream and offset.
      const ms = BigInt(i * 250)
      const sub = i % 4 === 0 ? 0n : BigInt((i * 7919 + s * 13) % 1_000_000)
      const ts = (BASE + ms * 1_000_000n + (i % 5 === 2 ? 0n : sub)).toString()
      let msg = MESSAGES[(i + s) % MESSAGES.length]!
      if (i === 17 && s === 1) msg = 'x'.repeat(40000) + ' timeout'
      const e: Entry = [ts, i * 100 + s, msg, i % 3 === 0 ? 'stderr' : s === 5 ? '' : 'stdout']
      if (s === 5) e.push({ severity: ['err', 'warning', 'info', 'debug'][i % 4]!, facility: 'user' })
      entries.push(e)
    }
    out.push({ tags: tags(s), entries })
  }
  return out
}

interface Question { name: string, matchers: LabelMatcher[], lineFilters: LineFilter[], org?: string }

const QUESTIONS: Question[] = [
  { name: 'everything', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [] },
  { name: 'deployment=prod', matchers: [{ name: 'deployment', op: '=', value: 'prod' }], lineFilters: [] },
  { name: 'namespace regex, not a job', matchers: [{ name: 'namespace', op: '=~', value: 'prod-.*' }, { name: 'job', op: '!=', value: 'api' }], lineFilters: [] },
  { name: 'missing label is empty', matchers: [{ name: 'org', op: '=', value: '' }], lineFilters: [] },
  { name: 'literal alternation', matchers: [{ name: 'job', op: '=~', value: 'router|worker' }, { name: 'process', op: '!~', value: 'nginx' }], lineFilters: [] },
  { name: 'stderr only', matchers: [{ name: 'deployment', op: '=~', value: 'prod|staging' }, { name: 'stream', op: '=', value: 'stderr' }], lineFilters: [] },
  { name: 'no stdio', matchers: [{ name: 'job', op: '=~', value: '.+' }, { name: 'stream', op: '=', value: '' }], lineFilters: [] },
  { name: 'levels', matchers: [{ name: 'job', op: '=~', value: '.+' }, { name: 'detected_level', op: '=~', value: 'error|warn|fatal' }], lineFilters: [] },
  { name: 'level not unknown', matchers: [{ name: 'job', op: '=~', value: '.+' }, { name: 'level', op: '!=', value: 'unknown' }], lineFilters: [] },
  { name: 'substring', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'timeout' }] },
  { name: 'substring is case-sensitive and inside words', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'Timeout' }] },
  { name: 'wildcard metacharacters are literal', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'a*b?c' }] },
  { name: 'backslash and unicode', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'k\\s' }, { op: '!=', value: 'ÄÖÜ' }] },
  { name: 'unicode substring', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'ödé ✓' }] },
  { name: 'not containing', matchers: [{ name: 'deployment', op: '=', value: 'prod' }], lineFilters: [{ op: '!=', value: 'timeout' }] },
  { name: 'regex with literals', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|~', value: 'time(out)?|panic: \\w+' }] },
  { name: 'regex without a literal', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|~', value: '[0-9]+(ms|s)' }] },
  { name: 'regex case-insensitive', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|~', value: '(?i)TIMEOUT' }, { op: '!~', value: 'db$' }] },
  { name: 'tenant org', matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [{ op: '|=', value: 'o' }], org: 'org-b' },
  { name: 'nothing matches', matchers: [{ name: 'deployment', op: '=', value: 'none' }], lineFilters: [] }
]

function lineKey (l: SelectedLine): string {
  return `${l.ts} ${l.stream.id} ${l.offset} ${l.stdio} ${l.level} ${l.line}`
}

async function allLines (it: AsyncIterable<SelectedLine[]>): Promise<string[]> {
  const out: string[] = []
  for await (const batch of it) for (const l of batch) out.push(lineKey(l))
  return out
}

function perStep (vs: SampleVariant[], steps: number): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>()
  for (const v of vs) {
    const cells: Array<[number, number]> = []
    let lines = 0
    let bytes = 0
    let any = false
    for (let k = 0; k < steps; k++) {
      lines += v.lines[k]!
      bytes += v.bytes[k]!
      if (lines !== 0) any = true
      cells.push([lines, bytes])
    }
    if (any) out.set(`${v.stream.id} ${v.stdio} ${v.level}`, cells)
  }
  return out
}

describe('OpenSearch store: queries in the engine', { skip }, () => {
  const run = randomBytes(4).toString('hex')
  const cfg = opensearchSchema.parse({
    url,
    dataStream: `logs-daytwotest-${run}`,
    deadLetterDataStream: `logs-daytwotest-${run}-deadletter`,
    usageIndex: `daytwotest-${run}-usage`,
    streamsIndex: `daytwotest-${run}-streams`,
    ismPolicy: `daytwotest-${run}`,
    readPageSize: 7
  })
  let store: OpenSearchStore
  const written: Written[] = []

  before(async () => {
    store = await OpenSearchStore.open(cfg)
    const batches = corpus().map((c) => ({ stream: c.tags, entries: c.entries }))
    // Two writes: the second finds its streams known and leaves their documents to the flush.
    const half = batches.map((b) => ({ stream: b.stream, entries: b.entries.slice(0, 20) }))
    const rest = batches.map((b) => ({ stream: b.stream, entries: b.entries.slice(20) }))
    const r1 = await store.write(half)
    // A new stream's document comes with its first records: queries find it before any flush.
    await store.engine.request({ method: 'POST', path: `/${cfg.streamsIndex}/_refresh` })
    assert.deepEqual((await store.streams({})).map((s) => s.lines).sort(), [20, 20, 20, 20, 20, 20])
    const requestsBefore = store.engine.stats.requests
    const r2 = await store.write(rest)
    assert.equal(r1.newLines + r2.newLines, 240)
    // Records and usage in one bulk request each; no stream document update yet.
    assert.equal(store.engine.stats.requests - requestsBefore, 2)
    await store.flushStreams()
    for (const b of batches) for (const e of b.entries) written.push({ tags: b.stream, e })
    await store.engine.request({ method: 'POST', path: `/${cfg.dataStream},${cfg.streamsIndex}/_refresh` })
  })

  after(async () => {
    if (!store) return
    const e = store.engine
    await e.request({ method: 'DELETE', path: `/_data_stream/${cfg.dataStream},${cfg.deadLetterDataStream}` }).catch(() => {})
    await e.request({ method: 'DELETE', path: `/${cfg.usageIndex},${cfg.streamsIndex}` }).catch(() => {})
    for (const n of [cfg.dataStream, cfg.deadLetterDataStream, cfg.usageIndex, cfg.streamsIndex]) await e.request({ method: 'DELETE', path: `/_index_template/${n}` }).catch(() => {})
    await store.close()
  })

  test('stream documents carry the summed lines and a rangeable last_ts after the flush', async () => {
    const streams = await store.streams({})
    assert.equal(streams.length, 6)
    for (const s of streams) {
      assert.equal(s.lines, 40, s.id)
      const mine = written.filter((w) => w.tags.id === s.id)
      assert.equal(s.lastTsNs, mine.map((w) => BigInt(w.e[0])).reduce((a, b) => (a > b ? a : b)).toString())
    }
  })

  const fromNs = BASE - SEC
  const toNs = BASE + 11n * SEC
  for (const q of QUESTIONS) {
    test(`selectLogs equals brute force: ${q.name}`, async () => {
      for (const direction of ['forward', 'backward'] as const) {
        const p: SelectLogsParams = { matchers: q.matchers, lineFilters: q.lineFilters, fromNs: BASE + 1n, toNs: BASE + 9n * SEC, direction, ...(q.org !== undefined ? { org: q.org } : {}) }
        assert.deepEqual(await allLines(store.selectLogs(p)), bruteLogs(written, p), direction)
      }
    })

    test(`selectSamples and variants equal brute force: ${q.name}`, async () => {
      const shapes = [
        { startNs: BASE, stepNs: SEC, steps: 10, rangeNs: SEC },
        { startNs: BASE + 500_000_000n, stepNs: 2n * SEC, steps: 5, rangeNs: 3n * SEC },
        { startNs: BASE, stepNs: 250_000_000n, steps: 40, rangeNs: 1000_000_000n },
        // Not whole milliseconds: counted from the hits.
        { startNs: BASE + 1n, stepNs: SEC + 3n, steps: 4, rangeNs: 2n * SEC }
      ]
      for (const s of shapes) {
        const p: SampleParams = { matchers: q.matchers, lineFilters: q.lineFilters, fromNs, toNs, ...s, ...(q.org !== undefined ? { org: q.org } : {}) }
        assert.deepEqual(perStep(await store.selectSamples(p), s.steps), bruteSamples(written, p), JSON.stringify(s, (_k, v) => typeof v === 'bigint' ? v.toString() : v))
      }
      const vp = { matchers: q.matchers, fromNs: BASE + 1n, toNs: BASE + 7n * SEC, ...(q.org !== undefined ? { org: q.org } : {}) }
      const got = new Map((await store.variants(vp)).map((v) => [`${v.stream.id} ${v.stdio} ${v.level}`, [v.lines, v.bytes] as [number, number]]))
      assert.deepEqual(got, bruteVariants(written, { ...vp, lineFilters: [] }))
    })
  }

  test('requests per question: streams search, then one search per page; one aggregation for samples and for variants', async () => {
    const e = store.engine
    const p: SelectLogsParams = { matchers: [{ name: 'deployment', op: '=', value: 'prod' }], lineFilters: [{ op: '|=', value: 'timeout' }], fromNs, toNs, direction: 'forward' }
    const n = bruteLogs(written, p).length
    assert.ok(n > 7, 'the question spans several pages')
    let before = e.stats.requests
    assert.equal((await allLines(store.selectLogs(p))).length, n)
    // The substring filter is exact in the engine, so pages hold only matching lines.
    assert.equal(e.stats.requests - before, 1 + Math.floor(n / 7) + 1)

    before = e.stats.requests
    for await (const batch of store.selectLogs({ ...p, lineFilters: [] })) { assert.ok(batch.length > 0); break }
    assert.equal(e.stats.requests - before, 2, 'a consumer that stops after one batch costs one page')

    before = e.stats.requests
    await store.selectSamples({ ...p, startNs: BASE, stepNs: SEC, steps: 10, rangeNs: SEC })
    assert.equal(e.stats.requests - before, 2)

    // A regex with no literal to push down: the selected lines are paged and counted here.
    const scan: SampleParams = { ...p, lineFilters: [{ op: '|~', value: '[0-9]+(ms|s)' }], startNs: BASE, stepNs: SEC, steps: 10, rangeNs: SEC }
    const lo = scan.startNs - scan.rangeNs
    const hi = scan.startNs + BigInt(scan.steps - 1) * scan.stepNs + 1n
    const inRange = written.filter((w) => w.tags.deployment === 'prod' && BigInt(w.e[0]) > lo && BigInt(w.e[0]) < hi).length
    before = e.stats.requests
    await store.selectSamples(scan)
    assert.equal(e.stats.requests - before, 1 + Math.floor(inRange / 7) + 1, 'the streams search, then one search per page of the range')

    before = e.stats.requests
    await store.variants({ matchers: p.matchers, fromNs, toNs })
    assert.equal(e.stats.requests - before, 2)

    // read() (`logs fetch`): the streams search, then each stream's lines page by page.
    before = e.stats.requests
    let read = 0
    for await (const chunk of store.read({ selector: {} })) read += chunk.entries.length
    assert.equal(read, written.length)
    const perStream = [...new Set(written.map((w) => w.tags.id))].map((id) => Math.floor(written.filter((w) => w.tags.id === id).length / 7) + 1)
    assert.equal(e.stats.requests - before, 1 + perStream.reduce((a, b) => a + b, 0))

    before = e.stats.requests
    assert.deepEqual(await allLines(store.selectLogs({ ...p, matchers: [{ name: 'deployment', op: '=', value: 'none' }] })), [])
    assert.equal(e.stats.requests - before, 1, 'no stream matches: no search of the records')
  })

  test('an aborted question stops its searches and throws', async () => {
    const e = store.engine
    const ac = new AbortController()
    const p: SelectLogsParams = { matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [], fromNs, toNs, direction: 'backward', signal: ac.signal }
    const before = e.stats.requests
    await assert.rejects(async () => {
      for await (const batch of store.selectLogs(p)) { assert.ok(batch.length > 0); ac.abort(new Error('client went away')) }
    }, (err: Error & { code?: string }) => err.code === 'DAYTWO_ERR_STORE_UNAVAILABLE' && /cancelled: client went away/.test(err.message))
    assert.equal(e.stats.requests - before, 2, 'no page is asked for after the abort')
    await assert.rejects(store.selectSamples({ ...p, startNs: BASE, stepNs: SEC, steps: 10, rangeNs: SEC }), /cancelled/)
  })
})

async function waitUntil (ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
}

/** A proxy in front of the node that answers searches its own way. */
async function proxy (onSearch: (res: import('node:http').ServerResponse) => boolean): Promise<EngineProxy> {
  return await engineProxy(url, onSearch)
}

describe('OpenSearch store: a cluster that is down, busy or slow', { skip }, () => {
  const run = randomBytes(4).toString('hex')
  const base = { dataStream: `logs-daytwotest-${run}`, deadLetterDataStream: `logs-daytwotest-${run}-dl`, usageIndex: `daytwotest-${run}-usage`, streamsIndex: `daytwotest-${run}-streams`, ismPolicy: '' }
  const q: SelectLogsParams = { matchers: [{ name: 'job', op: '=~', value: '.+' }], lineFilters: [], fromNs: BASE, toNs: BASE + SEC, direction: 'forward' }

  test('down: opening fails with a clear error naming the URL', async () => {
    const s = createServer()
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    const port = (s.address() as AddressInfo).port
    await new Promise<void>((resolve) => s.close(() => resolve()))
    await assert.rejects(OpenSearchStore.open(opensearchSchema.parse({ ...base, url: `http://127.0.0.1:${port}`, requestTimeoutMs: 2000 })),
      (err: Error & { code?: string }) => err.code === 'DAYTWO_ERR_UNREACHABLE' && err.message.includes(`127.0.0.1:${port}`))
  })

  test('down after start: a search is tried again, then fails naming the URL', async () => {
    const p = await proxy(() => false)
    const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url, requestTimeoutMs: 2000 }))
    try {
      p.close()
      const before = store.engine.stats.requests
      await assert.rejects(allLines(store.selectLogs(q)), (err: Error & { code?: string }) => err.code === 'DAYTWO_ERR_STORE_UNAVAILABLE' && err.message.includes(p.url))
      assert.equal(store.engine.stats.requests - before, 4, 'one try and three retries')
    } finally { await store.close() }
  })

  test('429 on a search: the question fails as overloaded, no partial answer', async () => {
    const p = await proxy((res) => { res.writeHead(429, { 'content-type': 'application/json' }); res.end('{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}'); return true })
    try {
      const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url }))
      try {
        const before = store.engine.stats.requests
        await assert.rejects(allLines(store.selectLogs(q)), (err: Error & { code?: string }) => err.code === 'DAYTWO_ERR_STORE_UNAVAILABLE' && /429/.test(err.message))
        assert.equal(store.engine.stats.requests - before, 4, 'one try and three retries with backoff')
        await assert.rejects(store.variants(q), /overloaded \(HTTP 429/)
      } finally { await store.close() }
    } finally { p.server.close() }
  })

  test('429 and 503 (shards still starting) are retried with backoff: the answer is whole', async () => {
    let searches = 0
    const p = await proxy((res) => {
      searches++
      if (searches > 2) return false
      res.writeHead(searches === 1 ? 429 : 503, { 'content-type': 'application/json' })
      res.end(searches === 1
        ? '{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}'
        : '{"error":{"type":"search_phase_execution_exception","reason":"all shards failed"},"status":503}')
      return true
    })
    try {
      const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url }))
      try {
        const stream: StreamTags = { id: 'retry-1', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/r.log' }
        await store.write([{ stream, entries: [[String(BASE + 5n), 0, 'first', 'stdout'], [String(BASE + 6n), 10, 'second', 'stdout']] }])
        await store.engine.request({ method: 'POST', path: `/${base.dataStream},${base.streamsIndex}/_refresh` })
        const before = store.engine.stats.requests
        assert.deepEqual((await allLines(store.selectLogs(q))).map((l) => l.split(' ').pop()), ['first', 'second'])
        // The streams search three times (429, 503, answer), then the records once.
        assert.equal(store.engine.stats.requests - before, 4)
        assert.equal(searches, 4)
      } finally {
        await store.engine.request({ method: 'DELETE', path: `/_data_stream/${base.dataStream}` }).catch(() => {})
        await store.engine.request({ method: 'DELETE', path: `/${base.usageIndex},${base.streamsIndex}` }).catch(() => {})
        await store.close()
      }
    } finally { p.server.close() }
  })

  test('failed shards: tried again, then the question fails; never a partial answer', async () => {
    let searches = 0
    const p = await proxy((res) => {
      searches++
      res.writeHead(200, { 'content-type': 'application/json' })
      // What a search with one of two shards unavailable answers: what the other shard had.
      res.end(JSON.stringify({ timed_out: false, _shards: { total: 2, successful: 1, failed: 1 }, hits: { hits: [] }, aggregations: { usage: { buckets: [{ key: { minute: 0, org: 'o' }, lines: { value: 1 }, bytes: { value: 1 }, dropped_lines: { value: 0 }, dropped_bytes: { value: 0 } }] } } }))
      return true
    })
    try {
      const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url }))
      try {
        await assert.rejects(store.usageRollup({ fromMs: 0, toMs: 86_400_000, stepMs: 86_400_000, byApp: false }),
          (err: Error & { code?: string }) => err.code === 'DAYTWO_ERR_STORE_UNAVAILABLE' && /part of the data only \(1 shards failed, after 4 tries\)/.test(err.message))
        assert.equal(searches, 4, 'one try and three retries')
        searches = 0
        await assert.rejects(store.variants(q), /part of the data only/)
        assert.equal(searches, 4)
      } finally { await store.close() }
    } finally { p.server.close() }
  })

  test('slow: a search slower than requestTimeoutMs fails as not answered in time', async () => {
    const p = await proxy((res) => { setTimeout(() => { if (!res.destroyed) { res.writeHead(200); res.end('{}') } }, 3000); return true })
    try {
      const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url, requestTimeoutMs: 300 }))
      try {
        await assert.rejects(store.selectSamples({ ...q, startNs: BASE, stepNs: SEC, steps: 1, rangeNs: SEC }), /did not answer in time/)
      } finally { await store.close() }
    } finally { p.server.closeAllConnections(); p.server.close() }
  })

  test('a client that goes away mid-search: the search request is aborted, not left running', async () => {
    let cancelled = 0
    const p = await proxy((res) => {
      res.on('close', () => { if (!res.writableEnded) cancelled++ })
      setTimeout(() => { if (!res.destroyed) { res.writeHead(200); res.end('{}') } }, 5000)
      return true
    })
    try {
      const store = await OpenSearchStore.open(opensearchSchema.parse({ ...base, url: p.url, requestTimeoutMs: 20000 }))
      try {
        const ac = new AbortController()
        setTimeout(() => ac.abort(new Error('client went away')), 300)
        await assert.rejects(store.variants({ ...q, signal: ac.signal }), /cancelled: client went away/)
        await waitUntil(() => cancelled === 1)
        assert.equal(cancelled, 1, 'the in-flight search request was closed by us')
      } finally { await store.close() }
    } finally { p.server.closeAllConnections(); p.server.close() }
  })
})
