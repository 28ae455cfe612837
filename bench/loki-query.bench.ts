// node dist/bench/loki-query.bench.js — time and lines/s through the Loki API's query paths over
// the embedded store: a Grafana log query (backward, limit 1000), the logs-volume metric query
// (sum by level of count_over_time), and a `| json` filter — against a plain read of the store.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Entry, StreamTags } from '../core/record.js'
import { EmbeddedStore } from '../store/embedded/embedded-store.js'
import { isLogExpr, type MetricExpr } from '../query/loki/ast.js'
import { runLogQuery } from '../query/loki/log-query.js'
import { evalMetric, stepCount } from '../query/loki/metric-query.js'
import { parseLogQL } from '../query/loki/parser.js'

const N = 500_000
const STREAMS = 5
const dir = mkdtempSync(join(tmpdir(), 'daytwo-loki-bench-'))
const store = await EmbeddedStore.open(dir)
const t0 = 1795392000000000000n
const levels = ['info', 'info', 'info', 'warn', 'error']
for (let s = 0; s < STREAMS; s++) {
  const tags: StreamTags = { id: `s${s}`, source: 'file', node: 'node-1', deployment: 'cf', job: `job${s}`, index: '0', process: 'p', path: `/var/log/p${s}.log`, namespace: 'cf' }
  for (let base = 0; base < N / STREAMS; base += 10000) {
    const entries: Entry[] = []
    for (let i = base; i < base + 10000; i++) {
      const k = i * STREAMS + s
      entries.push([(t0 + BigInt(k) * 10_000_000n).toString(), i * 120, `{"level":"${levels[k % 5]}","msg":"request ${k}","status":${k % 50 === 0 ? 500 : 200},"path":"/v2/apps"}`, 'stdout'])
    }
    await store.write([{ stream: tags, entries }])
  }
}
const endNs = t0 + BigInt(N) * 10_000_000n

async function plainRead (): Promise<number> {
  let n = 0
  for await (const c of store.read({ selector: { deployment: 'cf' }, fromNs: t0, toNs: endNs })) n += c.entries.length
  return n
}

async function logQuery (q: string): Promise<number> {
  const e = parseLogQL(q)
  if (!isLogExpr(e)) throw new Error('not a log query')
  const r = await runLogQuery(store, e, undefined, t0, endNs + 1n, 1000, 'backward')
  return r.linesProcessed
}

async function metric (q: string): Promise<number> {
  const stepNs = 60_000_000_000n
  const steps = stepCount(t0, endNs, stepNs)
  const read = { lines: 0, bytes: 0, blocks: 0, skipped: 0 }
  await evalMetric(parseLogQL(q) as MetricExpr, { store, org: undefined, startNs: t0, stepNs, steps, read })
  return read.lines
}

const cases: Array<[string, () => Promise<number>]> = [
  ['store read (baseline)', plainRead],
  ['{deployment="cf"} backward 1000', () => logQuery('{deployment="cf"}')],
  ['|= "status\\":500" backward 1000', () => logQuery('{deployment="cf"} |= "status\\":500"')],
  ['| json | status >= 500', () => logQuery('{deployment="cf"} | json | status >= 500')],
  ['| json | status >= 999 (no match)', () => logQuery('{deployment="cf"} | json | status >= 999')],
  ['sum by (level) count_over_time', () => metric('sum by (level) (count_over_time({deployment="cf"} | drop __error__ [1m]))')]
]
try {
  for (const [name, fn] of cases) {
    await fn()
    const start = process.hrtime.bigint()
    const lines = await fn()
    const s = Number(process.hrtime.bigint() - start) / 1e9
    console.log(`${name.padEnd(34)} ${(s * 1000).toFixed(1).padStart(8)} ms  ${lines.toLocaleString('en').padStart(8)} lines read  ${Math.round(lines / s).toLocaleString('en').padStart(11)} lines/s`)
  }
} finally {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
