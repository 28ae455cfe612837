import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { appendCri, BOSH_LINES, OPERATOR_TOKEN, startLokiFixture, TENANT_TOKEN, type CorpusLine, type LokiFixture } from '../../helpers/loki.js'
import { waitFor } from '../../helpers/daytwo-process.js'

// Replays what Grafana's Loki datasource sends (nanosecond times, limit=1000,
// direction=backward, step in seconds, X-Query-Tags) against `logs serve all` reading real CRI
// and BOSH files, and checks the response shapes of Loki's HTTP API reference.

const S = 1_000_000_000n
let f: LokiFixture
const ROUTER = 'cf_router-7d9f8b6c5-x2x4z_0a1b/router/0.log'
const API = 'cf_api-0_2c3d/api/0.log'

before(async () => { f = await startLokiFixture() })
after(async () => { await f?.cleanup() })

function nowNs (): bigint { return BigInt(Date.now()) * 1_000_000n }
function level (l: string): string {
  return l.startsWith('{') ? 'info' : l.startsWith('ERROR') ? 'error' : 'warn'
}
function grafanaRange (extra: Record<string, string> = {}): Record<string, string> {
  return { start: String(f.t0 - 3600n * S), end: String(nowNs() + 60n * S), limit: '1000', direction: 'backward', step: '60', ...extra }
}

test('health check: the instant query vector(1)+vector(1) is 2', async () => {
  const time = String(nowNs())
  const r = await f.get('query', { query: 'vector(1)+vector(1)', time })
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type') ?? '', /application\/json/)
  assert.equal(r.body.status, 'success')
  assert.equal(r.body.data.resultType, 'vector')
  assert.deepEqual(r.body.data.result, [{ metric: {}, value: [Number(BigInt(time) / 1_000_000n) / 1000, '2'] }])
  assert.equal(typeof r.body.data.stats.summary.execTime, 'number')
})

test('query_range, log query: streams split by stream and level, newest first, exact ns and lines', async () => {
  const r = await f.get('query_range', grafanaRange({ query: '{deployment="cf", job="router"}' }))
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.status, 'success')
  assert.equal(r.body.data.resultType, 'streams')
  const expected = new Map<string, { stream: Record<string, string>, values: Array<[string, string]> }>()
  for (const l of [...f.lines[ROUTER]!].reverse()) {
    const stream = { deployment: 'cf', detected_level: level(l.line), index: 'x2x4z', job: 'router', level: level(l.line), namespace: 'cf', node: 'node-1', process: 'router', service_name: 'router', stream: l.stdio }
    const key = JSON.stringify(stream)
    const e = expected.get(key) ?? { stream, values: [] as Array<[string, string]> }
    e.values.push([String(l.ns), l.line])
    expected.set(key, e)
  }
  const byKey = (a: { stream: object }, b: { stream: object }) => JSON.stringify(a.stream) < JSON.stringify(b.stream) ? -1 : 1
  assert.deepEqual([...r.body.data.result].sort(byKey), [...expected.values()].sort(byKey))
  assert.equal(r.body.data.stats.summary.totalEntriesReturned, 15)
})

test('query_range: limit keeps the newest lines (backward) or the oldest (forward) across streams', async () => {
  const all = [...f.lines[ROUTER]!, ...f.lines[API]!].sort((a, b) => a.ns < b.ns ? -1 : 1)
  const flat = (body: any): string[] => body.data.result.flatMap((s: any) => s.values.map((v: [string, string]) => v[0])).sort()
  const back = await f.get('query_range', grafanaRange({ query: '{deployment="cf"}', limit: '4' }))
  assert.deepEqual(flat(back.body), all.slice(-4).map((l) => String(l.ns)))
  for (const s of back.body.data.result) assert.ok(BigInt(s.values[0][0]) >= BigInt(s.values[s.values.length - 1][0]), 'backward: newest first')
  const fwd = await f.get('query_range', grafanaRange({ query: '{deployment="cf"}', limit: '4', direction: 'forward' }))
  assert.deepEqual(flat(fwd.body), all.slice(0, 4).map((l) => String(l.ns)))
})

// Grafana 11.1+ sends this header from Explore (grafana/grafana pkg/tsdb/loki/api.go,
// `X-Loki-Response-Encoding-Flags: categorize-labels`) and reads the third element of each value.
test('query_range with categorize-labels: stream labels only in streams; detected_level as structured metadata; json keys as parsed', async () => {
  const r = await f.get('query_range', grafanaRange({ query: '{job="router"} | json' }), undefined, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.deepEqual(r.body.data.encodingFlags, ['categorize-labels'])
  let values = 0
  let parsed = 0
  for (const s of r.body.data.result) {
    assert.equal(s.stream.detected_level, undefined, 'detected_level is not a stream label')
    assert.equal(s.stream.job, 'router')
    for (const [ts, line, cat] of s.values) {
      values++
      const want = f.lines[ROUTER]!.find((l) => String(l.ns) === ts && l.line === line)
      assert.ok(want, `a line of the corpus: ${ts} ${line}`)
      assert.equal(cat.structuredMetadata.detected_level, level(line))
      if (line.startsWith('{')) {
        parsed++
        // A key that is also a label of the line (`level`) is parsed as `level_extracted`, as in Loki.
        const obj = JSON.parse(line) as Record<string, unknown>
        const want = Object.keys(obj).filter((k) => typeof obj[k] !== 'object').map((k) => k in s.stream ? k + '_extracted' : k).sort()
        assert.deepEqual(Object.keys(cat.parsed ?? {}).filter((k) => !k.includes('_') || k.endsWith('_extracted') || k in obj).sort(), want)
      } else {
        assert.equal(cat.parsed?.__error__, 'JSONParserErr')
      }
    }
  }
  assert.equal(values, f.lines[ROUTER]!.length)
  assert.ok(parsed > 0)
})

test('query_range: line filters, json and a numeric label filter', async () => {
  const r = await f.get('query_range', grafanaRange({ query: '{job="router"} |= "request" | json | status >= 500' }))
  assert.equal(r.status, 200, JSON.stringify(r.body))
  const lines = r.body.data.result.flatMap((s: any) => s.values.map((v: [string, string]) => v[1]))
  // The access line with status 500; the logfmt "slow request" lines are not JSON and pass marked, as in Loki.
  assert.deepEqual(lines.filter((l: string) => l.startsWith('{')), [f.lines[ROUTER]![9]!.line])
  const marked = r.body.data.result.filter((s: any) => s.stream.__error__ === 'JSONParserErr')
  assert.equal(marked.flatMap((s: any) => s.values).length, 2)
  const clean = await f.get('query_range', grafanaRange({ query: '{job="router"} |= "request" | json | __error__="" | status >= 500' }))
  const s = clean.body.data.result
  assert.equal(s.length, 1)
  assert.equal(s[0].stream.status, '500')
  assert.equal(s[0].stream.path, '/v2/info')
  assert.equal(s[0].stream.level_extracted, 'info')
})

/** count per step over (t - range, t], straight from the corpus, as Loki defines it. */
function reference (lines: CorpusLine[], startNs: bigint, stepNs: bigint, steps: number, rangeNs: bigint, value: (l: CorpusLine) => number): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (let k = 0; k < steps; k++) {
    const t = startNs + BigInt(k) * stepNs
    const inWin = lines.filter((l) => l.ns > t - rangeNs && l.ns <= t)
    if (inWin.length > 0) out.push([Number(t / 1_000_000n) / 1000, String(inWin.reduce((n, l) => n + value(l), 0))])
  }
  return out
}

test('query_range, metric query: sum by (level) (count_over_time …) matches the corpus', async () => {
  // What Grafana's logs volume panel sends.
  const start = f.t0 - 60n * S
  const r = await f.get('query_range', { query: 'sum by (level) (count_over_time({deployment="cf"} | drop __error__ [1m]))', start: String(start), end: String(f.t0 + 180n * S), step: '60' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.data.resultType, 'matrix')
  const lines = [...f.lines[ROUTER]!, ...f.lines[API]!]
  const expected = ['error', 'info', 'warn'].map((lv) => ({ metric: { level: lv }, values: reference(lines.filter((l) => level(l.line) === lv), start, 60n * S, 5, 60n * S, () => 1) }))
  assert.deepEqual(r.body.data.result, expected)
  // The same numbers written out: at t0+60 s the window holds the router's 15 lines and the api's first.
  const t60 = Number((f.t0 + 60n * S) / 1_000_000n) / 1000
  assert.deepEqual(expected.map((e) => e.values.find((v) => v[0] === t60)?.[1]), ['3', '10', '3'])
})

test('query_range: rate, bytes_over_time and bytes_rate per stream', async () => {
  const start = f.t0
  const q = (query: string) => f.get('query_range', { query, start: String(start), end: String(f.t0 + 120n * S), step: '30' })
  const rate = await q('rate({job="router"} |= "ERROR" [1m])')
  assert.equal(rate.status, 200, JSON.stringify(rate.body))
  const errs = f.lines[ROUTER]!.filter((l) => l.line.startsWith('ERROR'))
  assert.deepEqual(rate.body.data.result.map((s: any) => s.values), [reference(errs, start, 30n * S, 5, 60n * S, () => 1).map(([t, v]) => [t, String(Number(v) / 60)])])
  assert.equal(rate.body.data.result[0].metric.stream, 'stderr')
  const bytes = await q('sum(bytes_over_time({job="router"}[1m]))')
  assert.deepEqual(bytes.body.data.result, [{ metric: {}, values: reference(f.lines[ROUTER]!, start, 30n * S, 5, 60n * S, (l) => Buffer.byteLength(l.line)) }])
  const br = await q('sum(bytes_rate({job="router"}[1m]))')
  const perSecond = br.body.data.result[0].values.map((v: [number, string]) => Number(v[1]))
  const expected = bytes.body.data.result[0].values.map((v: [number, string]) => Number(v[1]) / 60)
  assert.equal(perSecond.length, expected.length)
  perSecond.forEach((v: number, i: number) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${v} ≈ ${expected[i]}`))
})

test('a metric query over lines with parse errors is a 400, as in Loki, unless the errors are filtered', async () => {
  const q = { start: String(f.t0), end: String(f.t0 + 60n * S), step: '60' }
  const bad = await f.get('query_range', { ...q, query: 'sum(count_over_time({job="router"} | json [1m]))' })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.status, 'error')
  assert.match(bad.body.message, /pipeline error: 'JSONParserErr'/)
  const ok = await f.get('query_range', { ...q, query: 'sum(count_over_time({job="router"} | json | __error__="" | status >= 500 [1m]))' })
  assert.deepEqual(ok.body.data.result, [{ metric: {}, values: [[Number((f.t0 + 60n * S) / 1_000_000n) / 1000, '1']] }])
})

test('instant query of a metric: a vector at `time`', async () => {
  const time = f.t0 + 60n * S
  const r = await f.get('query', { query: 'count by (job) (count_over_time({deployment="cf"}[2m]))', time: String(time) })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.data.resultType, 'vector')
  // Per job, how many Loki streams (stream × level) had lines in the window.
  assert.deepEqual(r.body.data.result, [
    { metric: { job: 'api' }, value: [Number(time / 1_000_000n) / 1000, '1'] },
    { metric: { job: 'router' }, value: [Number(time / 1_000_000n) / 1000, '3'] }
  ])
})

test('labels and label values, including the per-line stream and level', async () => {
  const range = { start: String(f.t0 - 3600n * S), end: String(nowNs()) }
  const labels = await f.get('labels', range)
  assert.deepEqual(labels.body, { status: 'success', data: ['app', 'deployment', 'detected_level', 'index', 'job', 'level', 'namespace', 'node', 'org', 'process', 'service_name', 'space', 'stream'] })
  assert.deepEqual((await f.get('label/job/values', range)).body, { status: 'success', data: ['api', 'nats', 'router'] })
  assert.deepEqual((await f.get('label/job/values', { ...range, query: '{deployment="cf"}' })).body.data, ['api', 'router'])
  assert.deepEqual((await f.get('label/stream/values', range)).body.data, ['stderr', 'stdout'])
  assert.deepEqual((await f.get('label/level/values', range)).body.data, ['error', 'info', 'unknown', 'warn'])
  assert.deepEqual((await f.get('label/level/values', { ...range, query: '{job="nats"}' })).body.data, BOSH_LINES.some((l) => l.startsWith('ERROR')) ? ['error', 'unknown'] : ['unknown'])
})

test('series with match[]: one label set per stream and per-line labels (stream, level), as Loki series show', async () => {
  const r = await f.get('series', { 'match[]': ['{job="router"}', '{job="nats"}'], start: String(f.t0 - 3600n * S), end: String(nowNs()) })
  assert.equal(r.status, 200)
  const want = new Map<string, Record<string, string>>()
  for (const l of f.lines[ROUTER]!) {
    const s = { deployment: 'cf', detected_level: level(l.line), index: 'x2x4z', job: 'router', level: level(l.line), namespace: 'cf', node: 'node-1', process: 'router', service_name: 'router', stream: l.stdio }
    want.set(JSON.stringify(s), s)
  }
  for (const line of BOSH_LINES) {
    const lv = line.startsWith('ERROR') ? 'error' : 'unknown'
    const s = { deployment: 'bosh-cf', detected_level: lv, index: '0', job: 'nats', level: lv, node: 'node-1', process: 'nats', service_name: 'nats' }
    want.set(JSON.stringify(s), s)
  }
  const key = (x: object) => JSON.stringify(x)
  assert.deepEqual(r.body.data.map(key).sort(), [...want.values()].map(key).sort())
  const perLine = await f.get('series', { 'match[]': '{job="router", stream="stderr"}', start: String(f.t0 - 3600n * S), end: String(nowNs()) })
  assert.deepEqual(perLine.body.data, [{ deployment: 'cf', detected_level: 'error', index: 'x2x4z', job: 'router', level: 'error', namespace: 'cf', node: 'node-1', process: 'router', service_name: 'router', stream: 'stderr' }])
})

test('index/stats and index/volume', async () => {
  const range = { start: String(f.t0 - 3600n * S), end: String(nowNs()) }
  const bytes = (ls: CorpusLine[]) => ls.reduce((n, l) => n + Buffer.byteLength(l.line), 0)
  const stats = await f.get('index/stats', { ...range, query: '{deployment="cf"}' })
  // Streams are label sets, per-line labels included (as series and query results show them).
  const sets = new Set([...f.lines[ROUTER]!.map((l) => 'r' + l.stdio + level(l.line)), ...f.lines[API]!.map((l) => 'a' + l.stdio + level(l.line))])
  assert.deepEqual(stats.body, { streams: sets.size, chunks: 2, entries: 20, bytes: bytes(f.lines[ROUTER]!) + bytes(f.lines[API]!) })
  const vol = await f.get('index/volume', { ...range, query: '{deployment="cf"}', targetLabels: 'job' })
  assert.equal(vol.body.status, 'success')
  assert.equal(vol.body.data.resultType, 'vector')
  assert.deepEqual(vol.body.data.result.map((s: any) => [s.metric, s.value[1]]), [[{ job: 'router' }, String(bytes(f.lines[ROUTER]!))], [{ job: 'api' }, String(bytes(f.lines[API]!))]])
  const vr = await f.get('index/volume_range', { start: String(f.t0), end: String(f.t0 + 120n * S), step: '60', query: '{job="api"}' })
  assert.deepEqual(vr.body.data.result, [{ metric: { job: 'api' }, values: reference(f.lines[API]!, f.t0, 60n * S, 3, 60n * S, (l) => Buffer.byteLength(l.line)) }])
})

test('a tenant token sees its own org only, on every endpoint', async () => {
  const range = { start: String(f.t0 - 3600n * S), end: String(nowNs() + 60n * S) }
  const t = (path: string, params: Record<string, string | string[]>) => f.get(path, params, TENANT_TOKEN)
  assert.deepEqual((await t('label/job/values', range)).body.data, ['api'])
  const logs = await t('query_range', { ...range, query: '{job=~".+"}', limit: '1000' })
  assert.deepEqual(logs.body.data.result.map((s: any) => [s.stream.job, s.stream.org, s.values.length]), [['api', 'acme', 5]])
  assert.deepEqual((await t('query_range', { ...range, query: '{job="router"}' })).body.data.result, [])
  assert.deepEqual((await t('query_range', { ...range, query: '{org="other"}' })).body.data.result, [])
  const metric = await t('query', { query: 'sum(count_over_time({deployment="cf"}[1h]))', time: range.end })
  assert.equal(metric.body.data.result[0].value[1], '5')
  assert.deepEqual((await t('series', { ...range, 'match[]': '{deployment=~".+"}' })).body.data.map((s: any) => s.job), ['api'])
  assert.deepEqual((await t('index/stats', { ...range, query: '{deployment=~".+"}' })).body.streams, 1)
  assert.deepEqual((await t('index/volume', { ...range, query: '{job=~".+"}' })).body.data.result.map((s: any) => s.metric.job), ['api'])
  // The operator token sees every org.
  assert.deepEqual((await f.get('label/job/values', range, OPERATOR_TOKEN)).body.data, ['api', 'nats', 'router'])
})

test('errors: Loki\'s shape, 400 for bad or unsupported LogQL, 401 without a token', async () => {
  const bad = await f.get('query_range', grafanaRange({ query: '{job="router"' }))
  assert.equal(bad.status, 400)
  assert.equal(bad.body.status, 'error')
  assert.match(bad.body.message, /^parse error at line 1, col 14/)
  assert.equal(bad.body.errorCode, 'DAYTWO_ERR_BAD_LOGQL')
  const unsupported = await f.get('query_range', grafanaRange({ query: 'topk(2, rate({job="router"}[1m]))' }))
  assert.equal(unsupported.status, 400)
  assert.equal(unsupported.body.errorCode, 'DAYTWO_ERR_UNSUPPORTED_LOGQL')
  const tooMany = await f.get('query_range', { query: 'rate({job="router"}[1m])', start: String(f.t0), end: String(f.t0 + 86400n * S), step: '1' })
  assert.equal(tooMany.status, 400)
  assert.match(tooMany.body.message, /maximum resolution of 11000 points/)
  const tooLong = await f.get('query_range', grafanaRange({ query: '{job="router"}', limit: '5001' }))
  assert.equal(tooLong.status, 400)
  assert.match(tooLong.body.message, /max entries limit per query exceeded/)
  const anon = await f.get('labels', {}, null)
  assert.equal(anon.status, 401)
  assert.equal(anon.body.status, 'error')
})

test('tail over WebSocket: a line appended after connecting arrives in Loki\'s tail shape', async (t) => {
  const start = nowNs()
  const url = f.url.replace(/^http/, 'ws') + '/loki/api/v1/tail?' + new URLSearchParams({ query: '{job="router"} |= "tailed"', start: String(start), limit: '100' }).toString()
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } })
  t.after(() => ws.close())
  const messages: any[] = []
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())))
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  const line: CorpusLine = { ns: start + 1234567n, stdio: 'stdout', line: 'level=info msg="tailed after connect"' }
  appendCri(f.podRoot, ROUTER, line)
  assert.ok(await waitFor(() => messages.length > 0, 15000), 'no tail message')
  assert.deepEqual(messages[0], {
    streams: [{ stream: { deployment: 'cf', detected_level: 'info', index: 'x2x4z', job: 'router', level: 'info', namespace: 'cf', node: 'node-1', process: 'router', service_name: 'router', stream: 'stdout' }, values: [[String(line.ns), line.line]] }],
    dropped_entries: []
  })
})

test('tail sends history from `start` first: the newest `limit` lines, oldest first', async (t) => {
  const url = f.url.replace(/^http/, 'ws') + '/loki/api/v1/tail?' + new URLSearchParams({ query: '{job="api"}', start: String(f.t0), limit: '3' }).toString()
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${TENANT_TOKEN}` } })
  t.after(() => ws.close())
  const first = await new Promise<any>((resolve, reject) => { ws.once('message', (d) => resolve(JSON.parse(d.toString()))); ws.once('error', reject) })
  assert.deepEqual(first.streams.map((s: any) => [s.stream.org, s.values]), [['acme', f.lines[API]!.slice(-3).map((l) => [String(l.ns), l.line])]])
})

test('tail refuses a connection without a token', async () => {
  const url = f.url.replace(/^http/, 'ws') + '/loki/api/v1/tail?query=' + encodeURIComponent('{job="router"}')
  const ws = new WebSocket(url)
  const status = await new Promise<number | string>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('open', () => resolve('open'))
    ws.once('error', (e) => resolve(String(e)))
  })
  ws.terminate()
  assert.equal(status, 401)
})
