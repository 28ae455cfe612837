import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { waitFor } from '../../helpers/daytwo-process.js'
import { appendCri, BOSH_LINES, OPERATOR_TOKEN, startLokiFixture, TENANT_TOKEN, type CorpusLine, type LokiFixture } from '../../helpers/loki.js'

// Replays the requests Grafana 11.x and 12.x send for Logs Drilldown against `logs serve all`
// reading real CRI and BOSH files, and checks the answers as Grafana's parsers read them.
// Where each request comes from (Grafana proxies a data source resource call
// `/api/datasources/uid/<uid>/resources/<path>` to `<url>/loki/api/v1/<path>` with the same
// query string, grafana/grafana pkg/tsdb/loki/loki.go `callResource`):
//  - grafana/logs-drilldown src/services/datasource.ts: `getVolume` (index/volume, limit 5000),
//    `getDetectedLabels`, `getDetectedFields`, `getPatterns` (step = the panel interval) and
//    `getConfig` (drilldown-limits, no parameters): RFC 3339 `start`/`end` from
//    `range.from.utc().toISOString()`, header `X-Query-Tags: Source=grafana-lokiexplore-app`.
//    The queries are built from src/services/variables.ts (DETECTED_FIELD_VALUES_EXPR with
//    PARSER_EXPR: `| json | logfmt | drop __error__, __error_details__`).
//  - grafana/grafana public/app/plugins/datasource/loki/LanguageProvider.ts
//    `fetchDetectedLabelValues` (Grafana 11.3+; what Drilldown's value pickers call, see
//    logs-drilldown src/services/TagValuesProviders.ts): `detected_field/<name>/values` with
//    `start`/`end` in ns (`getTimeRangeParams`: ms × 1e6 as a JS number), `limit=1000`, `query`.
//  - the same file's `fetchDetectedLabels`/`checkDetectedLabelsExists`: `detected_labels` with ns times.

const S = 1_000_000_000n
const ROUTER = 'cf_router-7d9f8b6c5-x2x4z_0a1b/router/0.log'
const DRILLDOWN_HEADERS = { 'X-Query-Tags': 'Source=grafana-lokiexplore-app', 'User-Agent': 'Grafana/12.0.0' }
const PARSERS = '| json  | logfmt | drop __error__, __error_details__'
let f: LokiFixture
/** The router's lines: the corpus and the lines appended here. */
let router: CorpusLine[]

/** 40 more timeouts (43 with the corpus's) and 35 more slow requests (37), for patterns of 30+ lines. */
function extraLines (t0: bigint): CorpusLine[] {
  const out: CorpusLine[] = []
  for (let i = 0n; i < 40n; i++) out.push({ ns: t0 + 100n * S + i * 1_500_000_000n, stdio: 'stderr', line: `ERROR upstream timeout after ${i % 7n}s` })
  for (let i = 0n; i < 35n; i++) out.push({ ns: t0 + 120n * S + i * 2n * S + 1n, stdio: 'stdout', line: `level=warn msg="slow request" duration_ms=${3000n + i * 10n}` })
  out.push({ ns: t0 + 200n * S, stdio: 'stdout', line: '{"level":"error","msg":"boom","code":7} stack trace follows' })
  return out
}

before(async () => {
  f = await startLokiFixture()
  const extra = extraLines(f.t0)
  for (const l of extra) appendCri(f.podRoot, ROUTER, l)
  router = [...f.lines[ROUTER]!, ...extra]
  const ok = await waitFor(async () => {
    const r = await f.get('query', { query: 'sum(count_over_time({job="router"}[1h]))', time: String(BigInt(Date.now() + 60000) * 1_000_000n) })
    return Number(r.body?.data?.result?.[0]?.value?.[1] ?? 0) >= router.length
  }, 20000, 200)
  assert.ok(ok, 'the appended router lines did not reach the store')
})
after(async () => { await f?.cleanup() })

/** A resource call as Grafana's backend forwards it. */
async function resource (path: string, params: Record<string, string>, token: string = OPERATOR_TOKEN): Promise<{ status: number, body: any }> {
  const qs = new URLSearchParams(params).toString()
  const res = await fetch(`${f.url}/loki/api/v1/${path}${qs ? '?' + qs : ''}`, { headers: { ...DRILLDOWN_HEADERS, Authorization: `Bearer ${token}` } })
  const text = await res.text()
  try { return { status: res.status, body: JSON.parse(text) } } catch { return { status: res.status, body: text } }
}

/** Drilldown's range: the last hour and a bit, as `toISOString()` writes it. */
function isoRange (): { start: string, end: string } {
  return { start: new Date(Number(f.t0 / 1_000_000n) - 3600_000).toISOString(), end: new Date(Date.now() + 60_000).toISOString() }
}

/** The Loki data source's range: ms × 1e6, as a JS number prints. */
function nsRange (): { start: string, end: string } {
  return { start: String((Number(f.t0 / 1_000_000n) - 3600_000) * 1e6), end: String((Date.now() + 60_000) * 1e6) }
}

const bytes = (ls: Array<{ line: string }>) => ls.reduce((n, l) => n + Buffer.byteLength(l.line), 0)

test('landing page: index/volume of {service_name=~".+"} lists every service by bytes', async () => {
  const r = await resource('index/volume', { ...isoRange(), limit: '5000', query: '{service_name=~".+"}' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  // getVolume reads data.result[].metric[primaryLabel] and Number(value[1]).
  const got = r.body.data.result.map((x: any) => [x.metric.service_name, Number(x.value[1])])
  const expected = [['router', bytes(router)], ['api', bytes(f.lines['cf_api-0_2c3d/api/0.log']!)], ['nats', bytes(BOSH_LINES.map((line) => ({ line })))]]
    .sort((a, b) => (b[1] as number) - (a[1] as number))
  assert.deepEqual(got, expected)
})

test('detected_labels: every stream label with its cardinality, from Drilldown and from the Loki data source', async () => {
  // ServiceSelectionTabsScene: buildResourceQuery('', 'detected_labels') sends an empty query.
  const r = await resource('detected_labels', { ...isoRange(), query: '' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  const got = new Map<string, number>(r.body.detectedLabels.map((l: any) => [l.label, l.cardinality]))
  // Each cardinality is the number of values the label-values endpoint lists for that label.
  for (const name of ['deployment', 'job', 'service_name', 'namespace', 'node', 'process', 'index', 'app', 'org', 'space']) {
    const values = await f.get(`label/${name}/values`, { start: String(f.t0 - 3600n * S), end: String(BigInt(Date.now()) * 1_000_000n) })
    assert.equal(got.get(name), values.body.data.length, name)
  }
  assert.equal(got.get('service_name'), 3)
  assert.equal(got.get('stream'), 2)
  assert.equal(got.has('level'), false, 'level is per line, not a stream label')
  const one = await resource('detected_labels', { ...nsRange(), query: '{service_name="router"}' })
  assert.deepEqual(one.body.detectedLabels.find((l: any) => l.label === 'service_name'), { label: 'service_name', cardinality: 1 })
  assert.equal(one.body.detectedLabels.some((l: any) => l.label === 'org'), false, 'the router has no org')
})

/** What the router's lines give each field, straight from the corpus: values and parsers. */
function routerFields (): Map<string, { values: Set<string>, parsers: Set<string> }> {
  const out = new Map<string, { values: Set<string>, parsers: Set<string> }>()
  const add = (name: string, value: string, parser: string) => {
    const e = out.get(name) ?? { values: new Set<string>(), parsers: new Set<string>() }
    e.values.add(value); e.parsers.add(parser); out.set(name, e)
  }
  for (const l of router) {
    const json = /^\{.*?\}/.exec(l.line)
    if (json !== null) {
      for (const [k, v] of Object.entries(JSON.parse(json[0]) as Record<string, unknown>)) add(k === 'level' ? 'level_extracted' : k, String(v), 'json')
    } else {
      for (const m of l.line.matchAll(/(\w+)=("[^"]*"|\S+)/g)) add(m[1] === 'level' ? 'level_extracted' : m[1]!, m[2]!.replace(/^"|"$/g, ''), 'logfmt')
    }
  }
  return out
}

test('detected_fields: the Fields tab\'s fields with type, cardinality, parsers and jsonPath', async () => {
  const r = await resource('detected_fields', { ...isoRange(), query: `{service_name="router"}     ${PARSERS} ` })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.limit, 1000)
  const expected = routerFields()
  const got = r.body.fields as Array<{ label: string, type: string, cardinality: number, parsers: string[] | null, jsonPath?: string[] }>
  assert.deepEqual(got.map((x) => x.label).sort(), [...expected.keys()].sort())
  for (const x of got) {
    const e = expected.get(x.label)!
    assert.equal(x.cardinality, e.values.size, x.label)
    assert.deepEqual(x.parsers, [...e.parsers].sort(), x.label)
    if (e.parsers.has('json')) assert.deepEqual(x.jsonPath, [x.label === 'level_extracted' ? 'level' : x.label], x.label)
  }
  const type = (n: string) => got.find((x) => x.label === n)?.type
  assert.equal(type('duration_ms'), 'int')
  assert.equal(type('status'), 'int')
  assert.equal(type('msg'), 'string')
  // The Loki data source's fetchDetectedFields (ns times, limit 1000) gets the same fields.
  const viaDs = await resource('detected_fields', { ...nsRange(), limit: '1000', query: `{service_name="router"} ${PARSERS}` })
  assert.deepEqual(viaDs.body.fields.map((x: any) => x.label), got.map((x) => x.label))
  // line_limit caps the sample: the newest line alone is the JSON line with msg and code.
  const newest = await resource('detected_fields', { ...isoRange(), query: '{service_name="router"}', line_limit: '1' })
  assert.deepEqual(newest.body.fields.map((x: any) => x.label), ['code', 'level_extracted', 'msg'])
})

test('detected_field/<name>/values: the value picker\'s values, as the Loki data source requests them', async () => {
  const r = await resource('detected_field/duration_ms/values', { ...nsRange(), limit: '1000', query: `{service_name="router"} ${PARSERS}` })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.deepEqual(r.body, { values: [...routerFields().get('duration_ms')!.values].sort(), limit: 1000 })
  // With a field filter in the query (Drilldown's ${fields}), only matching lines count.
  const filtered = await resource('detected_field/msg/values', { ...isoRange(), query: `{service_name="router"} ${PARSERS} | duration_ms > 1000` })
  assert.deepEqual(filtered.body.values, ['slow request'])
  const none = await resource('detected_field/no_such_field/values', { ...nsRange(), query: '{service_name="router"}' })
  assert.deepEqual(none.body, { values: [] })
})

/** Lines per step, straight from the lines' times (10 s samples summed into steps). */
function steps (lines: CorpusLine[], stepS: number): Array<[number, number]> {
  const m = new Map<number, number>()
  for (const l of lines) {
    const s = Math.floor(Number(l.ns / 1_000_000n) / 1000 / stepS) * stepS
    m.set(s, (m.get(s) ?? 0) + 1)
  }
  const keys = [...m.keys()].sort((a, b) => a - b)
  const out: Array<[number, number]> = []
  for (let s = keys[0]!; s <= keys[keys.length - 1]!; s += stepS) out.push([s, m.get(s) ?? 0])
  return out
}

test('patterns: Drain patterns per level with counts per step, largest first, as getPatterns reads them', async () => {
  const r = await resource('patterns', { ...isoRange(), query: '{service_name="router"}', step: '30s' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  assert.equal(r.body.status, 'success')
  const timeouts = router.filter((l) => l.line.startsWith('ERROR upstream timeout'))
  const slow = router.filter((l) => l.line.includes('slow request'))
  assert.deepEqual(r.body.data, [
    { pattern: 'level=warn msg="slow request" duration_ms=<_>', level: 'warn', samples: steps(slow, 30) },
    { pattern: 'ERROR upstream timeout after <_>', level: 'error', samples: steps(timeouts, 30) }
  ].sort((a, b) => b.samples.reduce((n, s) => n + s[1], 0) - a.samples.reduce((n, s) => n + s[1], 0)))
  // A step below Loki's 10 s sample interval is answered at 10 s.
  const fine = await resource('patterns', { ...isoRange(), query: '{service_name="router"}', step: '2s' })
  assert.deepEqual(fine.body.data.find((p: any) => p.level === 'error').samples, steps(timeouts, 10).filter((s) => s[1] > 0))
})

test('drilldown-limits: what Drilldown reads to show the Patterns tab and cap lines', async () => {
  const res = await fetch(`${f.url}/loki/api/v1/drilldown-limits`, { headers: { ...DRILLDOWN_HEADERS, 'X-Grafana-Cache': 'private, max-age=86400', Authorization: `Bearer ${OPERATOR_TOKEN}` } })
  assert.equal(res.status, 200)
  const body: any = await res.json()
  assert.equal(body.pattern_ingester_enabled, true)
  assert.equal(typeof body.version, 'string')
  assert.equal(body.limits.max_entries_limit_per_query, 5000)
  assert.match(body.limits.retention_period, /^\d+[smhdwy]$/)
  assert.ok(Array.isArray(body.limits.discover_service_name))
})

test('| json reads the leading object of a line followed by text', async () => {
  const r = await f.get('query_range', { query: '{service_name="router"} |= "stack trace" | json', start: String(f.t0), end: String(BigInt(Date.now()) * 1_000_000n), limit: '10' })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  const [s] = r.body.data.result
  assert.equal(s.stream.__error__, undefined)
  assert.equal(s.stream.msg, 'boom')
  assert.equal(s.stream.code, '7')
})

test('a tenant token sees its own org only on every Drilldown endpoint', async () => {
  const t = (path: string, params: Record<string, string>) => resource(path, params, TENANT_TOKEN)
  const labels = await t('detected_labels', { ...isoRange(), query: '' })
  assert.deepEqual(labels.body.detectedLabels.find((l: any) => l.label === 'service_name'), { label: 'service_name', cardinality: 1 })
  assert.deepEqual((await t('index/volume', { ...isoRange(), limit: '5000', query: '{service_name=~".+"}' })).body.data.result.map((x: any) => x.metric.service_name), ['api'])
  assert.deepEqual((await t('detected_fields', { ...isoRange(), query: `{service_name="router"} ${PARSERS}` })).body, { fields: [] })
  assert.deepEqual((await t('detected_field/msg/values', { ...nsRange(), query: `{service_name="router"} ${PARSERS}` })).body, { values: [] })
  assert.deepEqual((await t('patterns', { ...isoRange(), query: '{service_name=~".+"}', step: '1m' })).body, { status: 'success', data: [] })
  const anon = await fetch(`${f.url}/loki/api/v1/detected_labels`)
  assert.equal(anon.status, 401)
})

test('the Patterns tab\'s include and exclude filters (|> and !>) in the Logs tab\'s query_range', async () => {
  const range = { start: String(f.t0), end: String(BigInt(Date.now()) * 1_000_000n), limit: '1000' }
  const count = (body: any) => body.data.result.reduce((n: number, s: any) => n + s.values.length, 0)
  const include = await f.get('query_range', { ...range, query: `{service_name="router"} |> "ERROR upstream timeout after <_>" ${PARSERS}` })
  assert.equal(include.status, 200, JSON.stringify(include.body))
  assert.equal(count(include.body), router.filter((l) => l.line.startsWith('ERROR upstream timeout after ')).length)
  const exclude = await f.get('query_range', { ...range, query: '{service_name="router"} !> "ERROR upstream timeout after <_>" !> "level=warn msg=\\"slow request\\" duration_ms=<_>"' })
  assert.equal(count(exclude.body), router.filter((l) => !l.line.startsWith('ERROR upstream') && !l.line.startsWith('level=warn')).length)
})
