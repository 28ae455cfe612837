import { MS, prng, S, SPAN, T0, TICK } from './equivalence-corpus.js'

// Query shapes for the engine-equivalence test: a cartesian product of selectors (a regex and
// a negative matcher on every label, per-line ones too), line filters and parser stages,
// range functions, ranges, steps and groupings, plus random combinations from a seeded PRNG.

/** Selectors: every label with =, !=, =~ and !~; `stream` and `level` are per line. */
export const SELECTORS = [
  '{namespace="shop"}',
  '{deployment="cf"}',
  '{job=~"web|api"}',
  '{deployment=~"shop|payments", job!="db"}',
  '{namespace!~"shop|kube-system", deployment=~".+"}',
  '{org="acme"}',
  '{org="", deployment=~".+"}',
  '{app=~"gor.*|db"}',
  '{node="node-2"}',
  '{node!~"node-.*", job=~".+"}',
  '{space!="prod", job=~".+"}',
  '{index="1"}',
  '{index=~"[0-9]+", index!="0"}',
  '{process=~"(?i)GOROUTER|uaa"}',
  '{job=~".+", stream="stderr"}',
  '{job=~".+", stream!="stdout"}',
  '{deployment=~".+", stream=""}',
  '{deployment=~".+", level="error"}',
  '{deployment=~".+", level=~"warn|critical"}',
  '{namespace=~"pay.*", level!~"info|debug"}',
  '{deployment="edge"}',
  '{job="haproxy", level!="unknown"}',
  '{deployment="nonexistent"}',
  '{app!~"web|api", org=~".+"}',
  '{org!="acme", space=~"dev|routing"}',
  '{deployment=~".*", level="warn"}',
  '{namespace="jobs"}',
  '{job="nats"}'
]

const JSON_KEYS = 'req, msg, path, duration_ms, user_id, user_name, level_extracted, lvl, severity, status'
const LOGFMT_KEYS = 'ts, level_extracted, msg, status, duration_ms, req'

/** Pipelines that leave no `__error__` and add no per-line labels: usable under any metric. */
export const METRIC_FILTERS = [
  '',
  '|= "timeout"',
  '!= "GET"',
  '|~ `5\\d\\d`',
  '!~ "(?i)debug|trace"',
  '|= "ünï"',
  '|= "timeout" != "retry"',
  '|~ "(?i)Upstream" |= "req="',
  `| json | __error__="" | status >= 500 | drop ${JSON_KEYS}`,
  `|= "ts=2026" | logfmt | duration_ms > 1000 and status != 200 | drop ${LOGFMT_KEYS}`,
  '| drop level',
  '| level=~"warn|error"',
  '|= "日本語"'
]

/** Pipelines for log queries: the metric ones and parsers whose labels show in the answer. */
export const LOG_FILTERS = [
  ...METRIC_FILTERS,
  '| json | __error__="" | status >= 500',
  '|= "ts=2026" | logfmt | msg=~"slow.*"',
  '| json | user_name="ünïcödé"',
  '| json | level_extracted=~"(?i)err.*"',
  '| json',
  '|= ""'
]

const RANGE_FNS = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']
const RANGES = ['1m', '37s', '5m', '250ms', '1s', '90s']
const WRAPS: Array<(r: string, m: string) => string> = [
  (r) => r,
  (r) => `sum(${r})`,
  (r) => `sum by (level) (${r})`,
  (r) => `sum by (job, stream) (${r})`,
  (r) => `count by (namespace) (${r})`,
  (r) => `avg without (index, node) (${r})`,
  (r) => `max by (deployment) (${r})`,
  (r) => `min(${r})`,
  (r) => `sum by (level) (${r}) * 2`,
  (r) => `10 / sum(${r})`,
  (r, m) => `sum by (org) (${r}) / sum by (org) (count_over_time(${m}[5m]))`,
  (r) => `sum(${r}) - sum(${r.replace(/\[[^\]]+\]/, '[30s]')})`,
  (r) => `sum(${r}) + vector(1)`,
  (r) => `sum without (stream) (${r}) % 3`
]

export interface LogShape { kind: 'log', query: string, startNs: bigint, endNs: bigint, direction: 'forward' | 'backward', limit: number | 'tie' }
export interface MetricShape { kind: 'metric', query: string, startNs: bigint, endNs: bigint, stepNs: bigint }
export interface InstantShape { kind: 'instant', query: string, timeNs: bigint }
export type Shape = LogShape | MetricShape | InstantShape

/** A time on the 250 ms grid the corpus's lines fall on, so bounds meet lines exactly. */
function gridTime (r: () => number, from: bigint, span: bigint): bigint {
  return from + BigInt(Math.floor(r() * Number(span / TICK))) * TICK
}

/** A window of the corpus: all of it, or a part whose bounds fall on line times. */
function window (r: () => number): { startNs: bigint, endNs: bigint } {
  if (r() < 0.3) return { startNs: T0 - 60n * S, endNs: T0 + SPAN + 60n * S }
  const startNs = gridTime(r, T0, SPAN - 5n * 60n * S)
  return { startNs, endNs: startNs + gridTime(r, 60n * S, 10n * 60n * S) - 0n }
}

const LIMITS: Array<number | 'tie'> = ['tie', 'tie', 1, 7, 50, 137, 1000]
const STEPS = [60n * S, 37n * S, 15n * S, 45n * S + 250n * MS, 100n * S]

/** A step and a range that keep the number of points small enough for the brute force. */
function metricWindow (r: () => number, rangeText: string): { startNs: bigint, endNs: bigint, stepNs: bigint } {
  if (rangeText === '250ms' || rangeText === '1s') {
    // Short ranges: a short window and a step of a few ticks, with windows that touch line times.
    const startNs = gridTime(r, T0, SPAN - 3n * 60n * S) + (r() < 0.5 ? 0n : 1n)
    const stepNs = TICK * BigInt(1 + Math.floor(r() * 3)) + (r() < 0.3 ? 0n : 250n * MS / 5n)
    return { startNs, endNs: startNs + 90n * S, stepNs }
  }
  const stepNs = STEPS[Math.floor(r() * STEPS.length)]!
  const w = window(r)
  return { ...w, stepNs }
}

export function shapes (seed: number): Shape[] {
  const r = prng(seed)
  const out: Shape[] = []
  // Log queries: every selector with several pipelines, both directions.
  SELECTORS.forEach((sel, i) => {
    for (let j = 0; j < 4; j++) {
      const f = LOG_FILTERS[(i * 5 + j * 7) % LOG_FILTERS.length]!
      out.push({ kind: 'log', query: `${sel} ${f}`.trim(), ...window(r), direction: (i + j) % 2 === 0 ? 'backward' : 'forward', limit: LIMITS[(i + j * 3) % LIMITS.length]! })
    }
  })
  // Every pipeline at least once, over everything, with a limit that cuts inside a tie.
  LOG_FILTERS.forEach((f, j) => {
    out.push({ kind: 'log', query: `{deployment=~".+"} ${f}`.trim(), ...window(r), direction: j % 2 === 0 ? 'forward' : 'backward', limit: 'tie' })
  })
  // Metric queries: every function under every grouping, the selector and pipeline rotating.
  let n = 0
  for (const fn of RANGE_FNS) {
    for (const wrap of WRAPS) {
      const sel = SELECTORS[(n * 7) % SELECTORS.length]!
      const f = METRIC_FILTERS[(n * 5) % METRIC_FILTERS.length]!
      const rangeText = RANGES[n % RANGES.length]!
      out.push({ kind: 'metric', query: wrap(`${fn}(${sel} ${f} [${rangeText}])`.replace(/ +\[/, '['), sel), ...metricWindow(r, rangeText) })
      n++
    }
  }
  // Random combinations: range queries and instant queries.
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  for (let k = 0; k < 90; k++) {
    const sel = pick(SELECTORS)
    const rangeText = pick(RANGES)
    const q = pick(WRAPS)(`${pick(RANGE_FNS)}(${sel} ${pick(METRIC_FILTERS)}[${rangeText}])`, sel)
    if (k % 3 === 2) out.push({ kind: 'instant', query: q, timeNs: gridTime(r, T0, SPAN + 60n * S) + (r() < 0.5 ? 0n : 1n) })
    else out.push({ kind: 'metric', query: q, ...metricWindow(r, rangeText) })
  }
  for (let k = 0; k < 50; k++) {
    out.push({ kind: 'log', query: `${pick(SELECTORS)} ${pick(LOG_FILTERS)}`.trim(), ...window(r), direction: r() < 0.5 ? 'forward' : 'backward', limit: pick(LIMITS) })
  }
  return out
}
