import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { NDJSON } from '../../core/wire.js'
import { startDaytwo, tempDir } from '../helpers/daytwo-process.js'
import { probe } from './attack-helpers.js'

// Issue 14, item 1: regexes that backtrack for seconds to minutes on V8's engine, sent to the
// Loki API as line filters and label matchers, against lines made for them (4 lines of 2 000
// `a`, one of 30 000, 3 000 ordinary JSON lines). RE2 semantics: each is answered (a result,
// or a 400 naming what RE2 refuses) within the deadline, /healthz keeps answering, and a
// query of 200 range aggregations is refused as too costly.

const INGEST = 'rx-ingest-token'
const OPERATOR = 'rx-operator-token'
const DEADLINE_MS = 10_000

const PATTERNS: Array<[string, 'ok' | 'refused']> = [
  ['(?i)a*a*b', 'ok'], ['(?=a*a*b)', 'refused'], ['a{0,3000}a{0,3000}b', 'refused'], ['(a)\\1*\\1*b', 'refused'],
  ['.*.*.*#', 'ok'], ['(a+)+$', 'ok'], ['(a|aa)+b', 'ok'], ['(.*a){30}', 'ok'], ['^(\\w+\\s?)*$', 'ok'], ['(?i)(a|A)*(a|A)*c', 'ok']
]

test('backtracking regexes in LogQL answer quickly (result or clear 400); costly queries are refused', { timeout: 120_000 }, async (t) => {
  const tmp = tempDir('daytwo-regex-')
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0 },
    collector: { port: 0, tokens: [INGEST] },
    query: { port: 0, tokens: [OPERATOR] }
  }
  const d = await startDaytwo('all', cfg, tmp.path)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  const nowNs = BigInt(Date.now()) * 1_000_000n
  const lines = [...Array.from({ length: 4 }, () => 'a'.repeat(2000)), 'a'.repeat(30_000)]
  for (let i = 0; i < 3000; i++) lines.push(`{"level":"info","msg":"GET /api/v1/users/${i} status=200","took_ms":${i % 300},"trace":"${(i * 2654435761 >>> 0).toString(16)}"}`)
  const entries = lines.map((l, i) => [String(nowNs - 60_000_000_000n + BigInt(i) * 1000n), i, l, 'stdout'])
  const batch = JSON.stringify({ stream: { id: 'rx', source: 'file', node: 'n', deployment: 'rx', job: 'aaaa', index: '0', process: 'p', path: '/rx.log' }, entries }) + '\n'
  const res = await fetch(`${d.urls.collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${INGEST}`, 'content-type': NDJSON }, body: batch })
  assert.equal(res.status, 200, await res.text())

  const prober = probe(Object.values(d.urls))
  const ask = async (query: string) => {
    const qs = new URLSearchParams({ query, start: String(nowNs - 3_600_000_000_000n), end: String(nowNs + 60_000_000_000n), limit: '100', step: '60' })
    const r = await fetch(`${d.urls.query}/loki/api/v1/query_range?${qs}`, { headers: { authorization: `Bearer ${OPERATOR}` }, signal: AbortSignal.timeout(DEADLINE_MS) })
    return { status: r.status, body: await r.json() as { status: string, error?: string, data?: { result: unknown[] } } }
  }
  const problems: string[] = []
  for (const [pattern, want] of PATTERNS) {
    const lit = JSON.stringify(pattern)
    for (const query of [`{deployment="rx"} |~ ${lit}`, `{deployment="rx"} !~ ${lit}`, `{deployment="rx", job=~${lit}}`, `sum(count_over_time({deployment="rx"} |~ ${lit} [5m]))`]) {
      try {
        const { status, body } = await ask(query)
        if (want === 'ok' && status !== 200) problems.push(`${query}: ${status} ${JSON.stringify(body).slice(0, 200)}`)
        if (want === 'refused' && (status !== 400 || !/error parsing regexp|invalid regex/.test(body.error ?? ''))) problems.push(`${query}: expected a 400 naming the regex, got ${status} ${JSON.stringify(body).slice(0, 200)}`)
      } catch (err) {
        problems.push(`${query}: ${(err as Error).message}`)
      }
    }
  }
  // A result is computed, not only survived: the long lines match `(a+)+$`, the JSON ones do not.
  const matched = await ask(`{deployment="rx"} |~ "(a+)+$"`)
  const values = (matched.body.data?.result as Array<{ values: unknown[] }> ?? []).reduce((n, s) => n + s.values.length, 0)
  assert.equal(values, 5)
  // 200 sub-queries joined by `+`: refused before reading a line.
  const costly = await ask(Array.from({ length: 200 }, () => 'count_over_time({deployment="rx"}[1m])').join(' + '))
  assert.equal(costly.status, 400)
  assert.match(costly.body.error ?? '', /more than 32 range aggregations/)
  const probed = await prober.stop()

  assert.deepEqual(problems, [])
  assert.deepEqual(probed.failures, [])
  assert.ok(probed.slowestMs < 1000, `slowest /healthz answer took ${probed.slowestMs.toFixed(0)} ms while the regexes ran`)
})
