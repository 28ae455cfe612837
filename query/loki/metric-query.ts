import { DaytwoError } from '../../core/errors.js'
import type { TsParts } from '../../core/frames.js'
import type { LogStore } from '../../store/log-store.js'
import type { ReadStats } from '../../store/select-params.js'
import { nsBetween, parts, stepSpan } from '../../store/step-span.js'
import type { AggOp, BinOp, Grouping, MetricExpr } from './ast.js'
import { labelsKey, labelsString, sortedLabels, type Labels } from './labels.js'
import { LineLabeler, question } from './select.js'

// Metric queries evaluated at steps t = start + k·step (k = 0 … n-1), each range function over
// the window (t - range, t] as in Loki. Each matching line is added to the steps whose window
// holds it through a difference array, so a line costs O(1) whatever range/step is.

export interface Series { labels: Labels, values: Float64Array }

export interface EvalContext {
  store: LogStore
  org: string | undefined
  startNs: bigint
  stepNs: bigint
  steps: number
  /** What the store read, over every sub-query. */
  read: ReadStats
  signal?: AbortSignal
}


/** Series a range function may hold before aggregation: Loki's max_query_series default, or more while they fit MAX_CELLS points. */
export const MAX_SERIES = 500
const MAX_CELLS = 4_000_000

/** Loki refuses more than 11 000 points per series; so do we, with its advice. */
export const MAX_POINTS = 11000

export function stepCount (startNs: bigint, endNs: bigint, stepNs: bigint): number {
  if (stepNs <= 0n) throw new DaytwoError('BAD_LOGQL', 'zero or negative query resolution step widths are not accepted. Try a positive integer')
  if (endNs < startNs) throw new DaytwoError('BAD_LOGQL', 'end timestamp must not be before start time')
  const n = (endNs - startNs) / stepNs + 1n
  if (n > BigInt(MAX_POINTS)) throw new DaytwoError('BAD_LOGQL', `exceeded maximum resolution of ${MAX_POINTS} points per timeseries. Try decreasing the query resolution (?step=XX)`)
  return Number(n)
}

export async function evalMetric (expr: MetricExpr, ctx: EvalContext): Promise<Series[] | number> {
  switch (expr.kind) {
    case 'number': return expr.value
    case 'vector': return [{ labels: {}, values: new Float64Array(ctx.steps).fill(expr.value) }]
    case 'range': return await rangeAgg(expr, ctx, undefined)
    case 'agg': {
      // sum by (…) of a range function is grouped while lines are counted: the same answer,
      // without a series per raw label set (a `| json` can make thousands).
      const inner = expr.op === 'sum' && expr.expr.kind === 'range'
        ? await rangeAgg(expr.expr, ctx, expr.grouping)
        : await evalMetric(expr.expr, ctx)
      if (typeof inner === 'number') throw new DaytwoError('BAD_LOGQL', `${expr.op}: expected a vector, got a number`)
      return aggregate(expr.op, expr.grouping, inner, ctx.steps)
    }
    case 'binary': {
      const l = await evalMetric(expr.left, ctx)
      const r = await evalMetric(expr.right, ctx)
      return binary(expr.op, l, r, ctx.steps)
    }
  }
}

/** A range function's series; `grouping` (from an enclosing sum) projects labels first: null sums all into one. */
async function rangeAgg (expr: Extract<MetricExpr, { kind: 'range' }>, ctx: EvalContext, grouping: Grouping | null | undefined): Promise<Series[]> {
  const { startNs, stepNs, steps } = ctx
  const step = Number(stepNs)
  const range = Number(expr.rangeNs)
  const lastNs = startNs + stepNs * BigInt(steps - 1)
  const fromNs = startNs - expr.rangeNs + 1n
  if (Number(lastNs - fromNs) > Number.MAX_SAFE_INTEGER) throw new DaytwoError('BAD_LOGQL', 'the query spans more than 104 days; narrow the time range')
  const wantBytes = expr.fn === 'bytes_over_time' || expr.fn === 'bytes_rate'
  const q = question(expr.log)
  const labeler = new LineLabeler()
  // d: the value's difference array; c: the line count's (a window of empty lines has 0 bytes, not none).
  const diffs = new Map<string, { labels: Labels, d: Float64Array, c: Float64Array }>()
  const keyCache = new Map<Labels, string>()
  const maxSeries = Math.max(MAX_SERIES, Math.floor(MAX_CELLS / (steps + 1)))
  const accumulator = (raw: Labels) => {
    let key = keyCache.get(raw)
    const labels = grouping === undefined ? raw : groupLabels(raw, grouping)
    if (key === undefined) { key = labelsKey(labels); if (keyCache.size < 100000) keyCache.set(raw, key) }
    let acc = diffs.get(key)
    if (acc === undefined) {
      if (diffs.size >= maxSeries) throw new DaytwoError('BAD_LOGQL', `maximum number of series (${maxSeries}) reached for a single query; aggregate with sum by (…) or narrow the selector`)
      const d = new Float64Array(steps + 1)
      acc = { labels, d, c: wantBytes ? new Float64Array(steps + 1) : d }
      diffs.set(key, acc)
    }
    return acc
  }
  const params = { matchers: expr.log.matchers, lineFilters: q.lineFilters, fromNs, toNs: lastNs + 1n, stats: ctx.read, ...(ctx.org !== undefined ? { org: ctx.org } : {}), ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}) }
  if (q.pipeline === null) {
    // Only line filters: the store counts (from block summaries where it can).
    for (const v of await ctx.store.selectSamples({ ...params, startNs, stepNs, steps, rangeNs: expr.rangeNs })) {
      const acc = accumulator(labeler.labels(v.stream, v.stdio, v.level))
      const val = wantBytes ? v.bytes : v.lines
      for (let k = 0; k <= steps; k++) acc.d[k]! += val[k]!
      if (wantBytes) for (let k = 0; k <= steps; k++) acc.c[k]! += v.lines[k]!
    }
  } else {
    // Parsers or label filters: the lines come here, and each is counted after the pipeline.
    const start = parts(startNs)
    for await (const batch of ctx.store.selectLogs({ ...params, direction: 'forward' })) {
      for (const l of batch) {
        const labels = q.pipeline(l.line, labeler.of(l))
        if (labels === null) continue
        if (labels.__error__ !== undefined) throw pipelineError(labels)
        const [kMin, kEnd] = stepSpan(nsBetween(start, tsParts(l.ts)), step, range, steps)
        if (kMin >= kEnd) continue
        const acc = accumulator(labels)
        const v = wantBytes ? Buffer.byteLength(l.line) : 1
        acc.d[kMin]! += v
        acc.d[kEnd]! -= v
        if (wantBytes) { acc.c[kMin]! += 1; acc.c[kEnd]! -= 1 }
      }
    }
  }
  const perSecond = expr.fn === 'rate' || expr.fn === 'bytes_rate'
  const seconds = range / 1e9
  const out: Series[] = []
  for (const { labels, d, c } of diffs.values()) {
    const values = new Float64Array(steps)
    let run = 0
    let lines = 0
    for (let k = 0; k < steps; k++) {
      run += d[k]!
      if (c !== d) lines += c[k]!
      else lines = run
      values[k] = lines > 0 ? (perSecond ? run / seconds : run) : NaN
    }
    out.push({ labels, values })
  }
  return out
}

/** A decimal ns time as TsParts. */
function tsParts (ts: string): TsParts {
  const neg = ts.charCodeAt(0) === 0x2d
  const digits = neg ? ts.slice(1) : ts
  const split = Math.max(0, digits.length - 9)
  const hi = split === 0 ? 0 : Number(digits.slice(0, split))
  const lo = Number(digits.slice(split))
  return neg ? { hi: -hi, lo: -lo } : { hi, lo }
}

function pipelineError (labels: Labels): DaytwoError {
  return new DaytwoError('BAD_LOGQL', `pipeline error: '${labels.__error__}' for series: '${labelsString(labels)}'. Use a label filter to intentionally skip this error (e.g. | __error__!="${labels.__error__}"), or | drop __error__`)
}

function groupLabels (l: Labels, g: Grouping | null): Labels {
  const out: Labels = {}
  if (g === null) return out
  if (g.mode === 'by') {
    for (const n of g.labels) if (l[n] !== undefined && l[n] !== '') out[n] = l[n]
    return out
  }
  for (const [n, v] of Object.entries(l)) if (!g.labels.includes(n)) out[n] = v
  return out
}

function aggregate (op: AggOp, g: Grouping | null, input: Series[], steps: number): Series[] {
  const groups = new Map<string, { labels: Labels, sum: Float64Array, n: Float64Array, min: Float64Array, max: Float64Array }>()
  for (const s of input) {
    const labels = groupLabels(s.labels, g)
    const key = labelsKey(labels)
    let a = groups.get(key)
    if (a === undefined) {
      a = { labels, sum: new Float64Array(steps), n: new Float64Array(steps), min: new Float64Array(steps).fill(Infinity), max: new Float64Array(steps).fill(-Infinity) }
      groups.set(key, a)
    }
    for (let k = 0; k < steps; k++) {
      const v = s.values[k]!
      if (Number.isNaN(v)) continue
      a.sum[k]! += v
      a.n[k]! += 1
      if (v < a.min[k]!) a.min[k] = v
      if (v > a.max[k]!) a.max[k] = v
    }
  }
  const out: Series[] = []
  for (const a of groups.values()) {
    const values = new Float64Array(steps)
    for (let k = 0; k < steps; k++) {
      const n = a.n[k]!
      values[k] = n === 0 ? NaN
        : op === 'sum' ? a.sum[k]!
          : op === 'count' ? n
            : op === 'avg' ? a.sum[k]! / n
              : op === 'min' ? a.min[k]! : a.max[k]!
    }
    out.push({ labels: a.labels, values })
  }
  return out
}

function apply (op: BinOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b
    case '-': return a - b
    case '*': return a * b
    case '/': return a / b
    case '%': return a % b
  }
}

/** Arithmetic: number ∘ number, series ∘ number, and series ∘ series matched on identical labels. */
function binary (op: BinOp, l: Series[] | number, r: Series[] | number, steps: number): Series[] | number {
  if (typeof l === 'number' && typeof r === 'number') return apply(op, l, r)
  if (typeof r === 'number') return (l as Series[]).map((s) => ({ labels: s.labels, values: s.values.map((v) => apply(op, v, r)) }))
  if (typeof l === 'number') return r.map((s) => ({ labels: s.labels, values: s.values.map((v) => apply(op, l, v)) }))
  const right = new Map<string, Series>()
  for (const s of r) {
    const key = labelsKey(s.labels)
    if (right.has(key)) throw new DaytwoError('BAD_LOGQL', 'found duplicate series for the match group on the right hand side of the operation')
    right.set(key, s)
  }
  const out: Series[] = []
  for (const s of l) {
    const o = right.get(labelsKey(s.labels))
    if (o === undefined) continue
    const values = new Float64Array(steps)
    for (let k = 0; k < steps; k++) values[k] = apply(op, s.values[k]!, o.values[k]!)
    out.push({ labels: s.labels, values })
  }
  return out
}

/** Loki's float text: shortest round-trip decimal, without exponent for ordinary magnitudes. */
export function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** A step's time as Loki writes it in matrix and vector results: Unix seconds, ms precision. */
export function stepSeconds (ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000
}

export interface MatrixSeries { metric: Labels, values: Array<[number, string]> }
export interface VectorSample { metric: Labels, value: [number, string] }

export function toMatrix (series: Series[], startNs: bigint, stepNs: bigint): MatrixSeries[] {
  const out: MatrixSeries[] = []
  for (const s of series) {
    const values: Array<[number, string]> = []
    for (let k = 0; k < s.values.length; k++) {
      const v = s.values[k]!
      if (!Number.isNaN(v)) values.push([stepSeconds(startNs + stepNs * BigInt(k)), formatValue(v)])
    }
    if (values.length > 0) out.push({ metric: sortedLabels(s.labels), values })
  }
  return out.sort((a, b) => compareKeys(a.metric, b.metric))
}

export function toVector (series: Series[], atNs: bigint): VectorSample[] {
  const out: VectorSample[] = []
  for (const s of series) {
    const v = s.values[0]!
    if (!Number.isNaN(v)) out.push({ metric: sortedLabels(s.labels), value: [stepSeconds(atNs), formatValue(v)] })
  }
  return out.sort((a, b) => compareKeys(a.metric, b.metric))
}

function compareKeys (a: Labels, b: Labels): number {
  const x = labelsKey(a)
  const y = labelsKey(b)
  return x < y ? -1 : x > y ? 1 : 0
}
