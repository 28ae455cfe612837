import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { NDJSON } from '../../core/wire.js'
import { Rng, metricValue, metrics } from '../helpers/faults.js'
import { INGEST_TOKEN, OPERATOR, REQUEST_MS, RSS_BOUND, fixtures, healthy, pool, show, startTarget, type Target } from './hostile-setup.js'

// Issue 7: hostile requests to the query service — the Loki API (garbage LogQL, huge and
// catastrophic regexes, absurd time ranges and steps) and the fetch/logs API (/api/v1/logs,
// /instances, /jobs, /usage with garbage parameters) — 4 000 generated from a seed, against a
// store holding lines made to trip backtracking regexes and the odd records of
// test/fixtures/hostile/ingest/. Each request is answered within REQUEST_MS with 2xx or 4xx
// (4xx with a DAYTWO_ERR code; Loki's error shape on /loki), never 5xx; refusals are counted;
// the process stays up with bounded RSS.

const SEED = 0x10c1
const LOKI_COUNT = 2500
const API_COUNT = 1500

const SELECTORS = ['{deployment="hostile"}', '{job=~"q-.*"}', '{deployment=~".+"}', '{}', '{deployment!="x"}', '{job=~"(a+)+$"}', '{deployment=~"(a|aa)+$", job!~"(.*a){25}"}', '{index="0",process=~"p|q"}', '{__name__="x"}', '{deployment="\\u0000"}']
const STAGES = ['|= "a"', '!= "b"', '|~ "(a+)+$"', '|~ "(a|aa)+$"', '!~ "(.*a){30}"', '|~ "^(\\\\w+\\\\s?)*$"', '|~ "(?i)ERROR"', '|~ "(?s).*"', '|~ "[" ', '|~ "a{1000000}"', '| json', '| logfmt', '| pattern "<a> <b>"', '| regexp "(?P<x>a+)+"', '| line_format "{{.x}}{{"', '| label_format a=b', '| unwrap x', '| drop a', '| keep a', '| x > 1', '| decolorize', '|= ``', '|> "<_>"', '| json a="b"', '|= "a" or "b"']
const RANGES = ['[1m]', '[5m]', '[0s]', '[-1m]', '[100000000h]', '[1ns]', '[1m:10s]', '[]', '[abc]']
const WRAPS = ['rate(X)', 'count_over_time(X)', 'bytes_over_time(X)', 'sum by (job) (count_over_time(X))', 'topk(5, rate(X))', 'quantile_over_time(0.99, X)', 'avg_over_time(X)', 'sum without (a) (rate(X))', 'absent_over_time(X)', 'label_replace(rate(X), "a", "$1", "job", "(.*)")', 'sort(rate(X))', 'rate(X) > 0', 'rate(X) / 0', 'vector(1)+vector(1)', '1/0', 'sum(rate(X)) by (job) * on(job) group_left rate(X)']
const TIMES = ['0', '-1', '1', '1795428000', '1795428000000000000', '9999999999999999999', '99999999999999999999999999', '-9223372036854775808', '1e400', 'NaN', 'Infinity', 'now', 'abc', '', '2026-11-23T10:00:00Z', '2026-11-23T10:00:00.123456789+14:00', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2262-04-11T23:47:16.854775807Z', '1677-09-21T00:12:43.145224192Z', '2026-13-45T99:99:99Z', '1.5', '0x10', '1_000']
const STEPS = ['0', '-1', '1', '0.000000001', '1e9', '1ms', '1ns', '99999999h', 'abc', '1.5s', '1w2d', '00000000000000000000001', '15', '', 'Infinity', '1y']
const LIMITS = ['0', '-1', '1', '100', '5000', '5001', '1e3', 'abc', '99999999999999999999', '1.5']

function logql (r: Rng): string {
  const sel = r.pick(SELECTORS)
  let q = sel
  for (let k = r.int(4); k > 0; k--) q += ' ' + r.pick(STAGES)
  if (r.int(2) === 0) q = r.pick(WRAPS).replaceAll('X', q + r.pick(RANGES))
  switch (r.int(8)) {
    case 0: { // random edits
      const chars = '{}()[]|=~!"`\\,. az09*+?$^<>'
      for (let k = 1 + r.int(4); k > 0; k--) {
        const at = r.int(q.length + 1)
        q = r.int(2) === 0 ? q.slice(0, at) + r.pick([...chars]) + q.slice(at) : q.slice(0, at) + q.slice(at + 1)
      }
      break
    }
    case 1: q = q.slice(0, r.int(q.length)); break
    case 2: q = r.str(1 + r.int(200), '{}()[]|=~!"`\\,. az09*+?$^<>#\n\u0000✓'); break
    case 3: { const n = r.pick([100, 1000, 3000]); q = '('.repeat(n) + 'vector(1)' + ')'.repeat(n); break }
    case 4: q = `sum(${'rate('.repeat(200)}${sel}[1m]${')'.repeat(200)})`; break
    case 5: q = `${sel} |~ "${'(a|b)'.repeat(r.pick([10, 500, 1500]))}"`; break
    default: break
  }
  return q
}

function qs (params: Array<[string, string]>): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
}

interface Req { path: string, token?: string | null }

function lokiRequests (r: Rng, n: number): Req[] {
  const out: Req[] = []
  for (let i = 0; i < n; i++) {
    const ep = r.pick(['query_range', 'query_range', 'query_range', 'query', 'query', 'labels', 'label/job/values', 'label/%ff/values', 'label/' + 'x'.repeat(300) + '/values', 'series', 'index/stats', 'index/volume', 'index/volume_range', 'tail', 'nope'])
    const params: Array<[string, string]> = []
    if (r.int(10) !== 0) params.push(['query', logql(r)])
    if (ep === 'series' && r.int(2) === 0) params.push(['match[]', logql(r)])
    if (r.int(2) === 0) params.push(['start', r.pick(TIMES)])
    if (r.int(2) === 0) params.push(['end', r.pick(TIMES)])
    if (r.int(4) === 0) params.push(['time', r.pick(TIMES)])
    if (r.int(3) === 0) params.push(['step', r.pick(STEPS)])
    if (r.int(6) === 0) params.push(['since', r.pick(STEPS)])
    if (r.int(4) === 0) params.push(['limit', r.pick(LIMITS)])
    if (r.int(5) === 0) params.push(['direction', r.pick(['forward', 'backward', 'FORWARD', 'sideways', ''])])
    if (r.int(8) === 0) params.push(['targetLabels', r.pick(['job', '', ',,,', 'a'.repeat(1000)])])
    if (r.int(8) === 0) params.push(['query', logql(r)]) // repeated parameter
    let path = `/loki/api/v1/${ep}?${qs(params)}`
    if (r.int(30) === 0) path += '&%zz=%' // broken percent-encoding
    out.push({ path, token: r.int(40) === 0 ? r.pick([null, 'wrong', '']) : OPERATOR })
  }
  return out
}

const GLOBS = ['*.log', '[z-a]', '[', ']', '[!]', '[]]', '***', '?', 'a/b/c', '[\\]', '\\', '(', '*'.repeat(200) + 'x', 'a'.repeat(5000) + '!', '[[:alpha:]]', '{a,b}']
const WORDS = ['hostile', 'q-0', '0', '', ' ', '%00', '%ff', '\u0000', '✓', 'x'.repeat(3000), '../..', "'; DROP TABLE streams; --", '*', '%', '_']

function apiRequests (r: Rng, n: number): Req[] {
  const out: Req[] = []
  for (let i = 0; i < n; i++) {
    const ep = r.pick(['logs', 'logs', 'logs', 'instances', 'jobs', 'usage', 'usage'])
    const params: Array<[string, string]> = []
    const maybe = (k: string, vals: string[], p = 2) => { for (let c = r.int(3) === 0 ? 2 : 1; c > 0; c--) if (r.int(p) === 0) params.push([k, r.pick(vals)]) }
    if (ep === 'logs' && r.int(8) !== 0) params.push(['deployment', r.pick(['hostile', 'hostile', ...WORDS])])
    maybe('deployment', WORDS, 6)
    maybe('job', WORDS, 3)
    maybe('index', WORDS, 4)
    maybe('since', TIMES, 3)
    maybe('until', TIMES, 3)
    maybe('num', [...LIMITS, '10000000', '10000001', '00001'], 3)
    maybe('only', GLOBS, 3)
    maybe('after', ['x:1', ':1', 'x:', 'x:-1', 'x:1e3', 'a:b:c', ',,,', 'x:99999999999999999999', 'x:1,'.repeat(3000)], 4)
    maybe('follow', ['0', 'false', 'no'], 8) // follow=1 keeps the answer open by design
    maybe('org', WORDS, 4)
    maybe('from', TIMES, 3)
    maybe('to', TIMES, 3)
    maybe('by', ['org', 'app', 'day', 'week', '', 'ORG'], 3)
    maybe('format', ['json', 'csv', 'html', '', 'xml'], 3)
    let path = `/api/v1/${ep}?${qs(params)}`
    if (r.int(30) === 0) path += '&deployment=%ff%fe'
    out.push({ path, token: r.int(40) === 0 ? r.pick([null, 'wrong', '']) : OPERATOR })
  }
  return out
}

/** Lines for regexes to backtrack on, and the odd records of the ingest fixtures. */
async function seed (x: Target): Promise<void> {
  let s = ''
  for (let j = 0; j < 4; j++) {
    const entries: unknown[] = []
    for (let i = 0; i < 300; i++) {
      const m = [`${'a'.repeat(40)}!`, `${'a '.repeat(30)}!`, `level=error msg="x${i}" a=${i}`, `{"x":${i},"a":{"b":"${'c'.repeat(i)}"}}`, 'ERROR ✓ ünïcödé\t"q"'][i % 5]
      entries.push([String(BigInt(Date.now() - 3_600_000 + i * 1000) * 1_000_000n), i, m, 'stdout'])
    }
    s += JSON.stringify({ stream: { id: `q-${j}`, source: 'file', node: 'n', deployment: 'hostile', job: `q-${j % 2}`, index: '0', process: 'p', path: `/q${j}.log`, labels: { a: 'b' } }, entries }) + '\n'
  }
  const send = async (body: Buffer) => await fetch(`${x.d.urls.collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': NDJSON, 'content-encoding': 'gzip' }, body: new Uint8Array(gzipSync(body)), signal: AbortSignal.timeout(REQUEST_MS) })
  assert.equal((await send(Buffer.from(s))).status, 200)
  for (const f of fixtures('ingest')) await send(f.data)
}

test('4 000 hostile Loki and logs API requests: answered in time, never 5xx, 4xx with a code and counted, the query service stays up', { timeout: 240_000 }, async (t) => {
  const x = await startTarget(t)
  await seed(x)
  const query = x.d.urls.query!
  const r = new Rng(SEED)
  const reqs = [...lokiRequests(r, LOKI_COUNT), ...apiRequests(r, API_COUNT)]
  const m0 = await metrics(query)
  const statuses = new Map<string, number>()
  let unauthorized = 0
  let apiClientErrors = 0
  let lokiClientErrors = 0
  await pool(reqs, 6, async (q) => {
    if (x.failCount() >= 12) return // a hung or crashed process: report what was seen, fast
    let status = 0
    let text = ''
    const headers: Record<string, string> = q.token === null ? {} : { authorization: `Bearer ${q.token}` }
    try {
      const res = await fetch(`${query}${q.path}`, { headers, signal: AbortSignal.timeout(REQUEST_MS) })
      status = res.status
      text = await res.text()
    } catch (err) {
      x.fail(`${show(q.path, 300)}: no answer (${(err as Error).name}: ${(err as Error).message})`)
      return
    }
    const family = q.path.startsWith('/loki/') ? 'loki' : 'api'
    const key = `${family} ${q.path.slice(0, q.path.indexOf('?')).split('/').slice(-1)[0]} ${status}`
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
    if (status === 401) unauthorized++
    // 431: Node's HTTP parser refuses the request line before any route or hook exists; it
    // is answered with a DAYTWO_ERR code (checked below) but cannot be counted per route.
    if (status >= 400 && status < 500 && status !== 431) { if (family === 'loki') lokiClientErrors++; else apiClientErrors++ }
    if (status >= 500) { x.fail(`${show(q.path, 300)}: HTTP ${status} ${text.slice(0, 300)}`); return }
    if (status >= 400) {
      let body: Record<string, unknown> = {}
      try { body = JSON.parse(text) as Record<string, unknown> } catch {}
      const code = String(family === 'loki' ? body.errorCode : body.code)
      if (!code.startsWith('DAYTWO_ERR_')) x.fail(`${show(q.path, 300)}: HTTP ${status} without a DAYTWO_ERR code: ${text.slice(0, 200)}`)
      if (family === 'loki' && (body.status !== 'error' || typeof body.error !== 'string')) x.fail(`${show(q.path, 300)}: HTTP ${status} not in Loki's error shape: ${text.slice(0, 200)}`)
    }
  })
  t.diagnostic(`answers: ${[...statuses].sort().map(([k, n]) => `${k}×${n}`).join(', ')}`)
  assert.deepEqual(x.failures, [], `${x.failCount()} of ${reqs.length} requests misbehaved (process exit ${x.d.child.exitCode ?? x.d.child.signalCode})\n${x.d.stderr().slice(-1500)}\n${x.d.stdout().slice(-1500)}`)
  assert.deepEqual(await healthy(x.d), [], 'every role still answers /healthz')
  const m1 = await metrics(query)
  const delta = (name: string, labels: Record<string, string> = {}) => metricValue(m1, name, labels) - metricValue(m0, name, labels)
  assert.equal(delta('daytwo_query_rejected_requests_total', { reason: 'unauthorized' }), unauthorized, 'every unauthorized request counted')
  let counted4xx = 0
  for (const line of m1.split('\n')) {
    const m = /^daytwo_query_requests_total\{([^}]*)\} (\d+)/.exec(line)
    if (m && /code="4\d\d"/.test(m[1]!)) counted4xx += Number(m[2]) - metricValue(m0, 'daytwo_query_requests_total', Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((g) => [g[1]!, g[2]!])))
  }
  assert.equal(counted4xx, apiClientErrors + lokiClientErrors, `every 4xx counted (${counted4xx} counted) in daytwo_query_requests_total (api ${apiClientErrors}, loki ${lokiClientErrors})`)
  assert.ok(x.peakRss() < RSS_BOUND, `RSS stayed under ${RSS_BOUND} bytes (peak ${x.peakRss()})`)
})
