import type { Entry, StreamTags } from '../../core/record.js'
import type { AggOp, BinOp, Expr, Grouping, LabelFilterOp, LogExpr, Matcher, MetricExpr, Stage } from '../../query/loki/ast.js'
import { detectLevel, syslogSeverityLevel } from '../../core/level.js'
import { serviceName } from '../../core/stream-labels.js'

// A brute-force evaluator of the LogQL subset daytwo answers, written from Loki's documented
// semantics and kept deliberately simple: every query looks at every line, nothing is indexed,
// cached or skipped. The engine's answers are compared with it (test/query/engine-equivalence.test.ts),
// so it shares nothing with query/loki/ but the syntax tree (from the parser), the level
// detector (the product's definition of a line's `level`) and the choice of `service_name`.

export type Labels = Record<string, string>

/** One stored line with the labels Loki shows before any pipeline stage. */
export interface BruteLine {
  ts: bigint
  line: string
  bytes: number
  labels: Labels
}

/** A line's labels: its stream's tags (empty ones left out), `stream` when the line has one, and `level`. */
export function lineLabels (tags: StreamTags, e: Entry): Labels {
  const l: Labels = {}
  const put = (name: string, v: string | undefined) => { if (v !== undefined && v !== '') l[name] = v }
  put('deployment', tags.deployment)
  put('job', tags.job)
  put('index', tags.index)
  put('process', tags.process)
  put('org', tags.org)
  put('space', tags.space)
  put('app', tags.app)
  put('namespace', tags.namespace)
  put('node', tags.node)
  put('service_name', serviceName(tags))
  put('stream', e[3])
  const severity = e[4]?.severity
  l.level = severity !== undefined ? syslogSeverityLevel(severity) : detectLevel(e[2])
  l.detected_level = l.level
  return l
}

export function toBruteLine (tags: StreamTags, e: Entry): BruteLine {
  return { ts: BigInt(e[0]), line: e[2], bytes: Buffer.byteLength(e[2]), labels: lineLabels(tags, e) }
}

/** A stable key for a label set. */
export function key (l: Labels): string {
  return JSON.stringify(Object.keys(l).sort().map((n) => [n, l[n]]))
}

/** Loki leaves labels with an empty value out of a label set; `__error_details__` wording is the engine's own. */
export function normalize (l: Labels): Labels {
  const out: Labels = {}
  for (const n of Object.keys(l).sort()) if (l[n] !== '' && n !== '__error_details__') out[n] = l[n]!
  return out
}

// RE2 regexes: JavaScript's agree on the subset used here; `(?i)` is a flag; matchers are anchored.
const compiled = new Map<string, RegExp>()

function regex (src: string, anchored: boolean): RegExp {
  const k = (anchored ? '^' : '~') + src
  let re = compiled.get(k)
  if (re === undefined) {
    const flags = src.startsWith('(?i)') ? 'i' : ''
    const body = flags === 'i' ? src.slice(4) : src
    re = new RegExp(anchored ? `^(?:${body})$` : body, flags)
    compiled.set(k, re)
  }
  return re
}

export function matches (m: Pick<Matcher, 'op' | 'value'>, v: string): boolean {
  switch (m.op) {
    case '=': return v === m.value
    case '!=': return v !== m.value
    case '=~': return regex(m.value, true).test(v)
    case '!~': return !regex(m.value, true).test(v)
  }
}

function sanitizeKey (k: string): string {
  let s = k.replace(/[^a-zA-Z0-9_]/g, '_')
  if (/^[0-9]/.test(s)) s = '_' + s
  return s
}

/** Loki's rule for parsed keys: one that a line already has as a label gets `_extracted`. */
function setParsed (out: Labels, base: Labels, k: string, v: string): void {
  const s = sanitizeKey(k)
  if (s === '') return
  out[s in base ? s + '_extracted' : s] = v
}

function parseJson (line: string, base: Labels): Labels {
  const out: Labels = { ...base }
  let doc: unknown
  try { doc = JSON.parse(line) } catch { out.__error__ = 'JSONParserErr'; return out }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) { out.__error__ = 'JSONParserErr'; return out }
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix === '' ? k : prefix + '_' + k, x)
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      setParsed(out, base, prefix, String(v))
    }
  }
  walk('', doc)
  return out
}

/** logfmt as go-logfmt reads it: `key`, `key=value`, `key="quoted \"value\""`, separated by spaces. */
function parseLogfmt (line: string, base: Labels): Labels {
  const out: Labels = { ...base }
  let i = 0
  const n = line.length
  while (i < n) {
    while (i < n && line[i] === ' ') i++
    if (i >= n) break
    let k = ''
    while (i < n && line[i] !== ' ' && line[i] !== '=' && line[i] !== '"') k += line[i++]
    if (k === '' || line[i] === '"') { out.__error__ = 'LogfmtParserErr'; return out }
    let v = ''
    if (line[i] === '=') {
      i++
      if (line[i] === '"') {
        let j = i + 1
        let raw = '"'
        while (j < n && line[j] !== '"') { if (line[j] === '\\') raw += line[j++]; raw += line[j++] }
        if (j >= n) { out.__error__ = 'LogfmtParserErr'; return out }
        raw += '"'
        try { v = JSON.parse(raw) as string } catch { out.__error__ = 'LogfmtParserErr'; return out }
        i = j + 1
      } else {
        while (i < n && line[i] !== ' ') {
          if (line[i] === '"' || line[i] === '=') { out.__error__ = 'LogfmtParserErr'; return out }
          v += line[i++]
        }
      }
    }
    setParsed(out, base, k, v)
  }
  return out
}

function labelFilter (f: { name: string, op: LabelFilterOp, value: string | number }, l: Labels): Labels | null {
  if (typeof f.value === 'string') return matches({ op: f.op as Matcher['op'], value: f.value }, l[f.name] ?? '') ? l : null
  // Numeric comparison, as Loki: a line already in error passes, one without the label is
  // dropped, a value that is no number puts the line in error.
  if (l.__error__ !== undefined) return l
  const raw = l[f.name]
  if (raw === undefined) return null
  const x = raw === '' ? NaN : Number(raw)
  if (Number.isNaN(x)) return { ...l, __error__: 'LabelFilterErr' }
  const v = f.value
  const ok = f.op === '>' ? x > v : f.op === '>=' ? x >= v : f.op === '<' ? x < v : f.op === '<=' ? x <= v : f.op === '!=' ? x !== v : x === v
  return ok ? l : null
}

function runStage (s: Stage, line: string, l: Labels): Labels | null {
  switch (s.kind) {
    case 'line': {
      const hit = s.op === '|=' || s.op === '!=' ? line.includes(s.value) : regex(s.value, false).test(line)
      return (s.op === '|=' || s.op === '|~') === hit ? l : null
    }
    case 'json': return parseJson(line, l)
    case 'logfmt': return parseLogfmt(line, l)
    case 'label': {
      let out: Labels | null = l
      for (const f of s.filters) { out = labelFilter(f, out); if (out === null) return null }
      return out
    }
    case 'drop': {
      const out = { ...l }
      for (const n of s.names) delete out[n]
      return out
    }
    case 'pattern': throw new Error('the brute force does not evaluate pattern filters')
  }
}

export interface Selected { ts: bigint, line: string, bytes: number, labels: Labels }

export type Direction = 'forward' | 'backward'

export interface MetricSeries { labels: Labels, points: Map<bigint, number> }

export class BruteError extends Error {}

export class Brute {
  constructor (readonly lines: BruteLine[]) {}

  /** Lines of a log expression with ts in [fromNs, toNs] (inclusive), with their labels after the pipeline. */
  select (e: LogExpr, fromNs: bigint, toNs: bigint): Selected[] {
    const out: Selected[] = []
    for (const l of this.lines) {
      if (l.ts < fromNs || l.ts > toNs) continue
      if (!e.matchers.every((m) => matches(m, l.labels[m.name] ?? ''))) continue
      let labels: Labels | null = l.labels
      for (const s of e.stages) { labels = runStage(s, l.line, labels); if (labels === null) break }
      if (labels !== null) out.push({ ts: l.ts, line: l.line, bytes: l.bytes, labels })
    }
    return out
  }

  /** Every line a log query over [start, end) selects, nearest the start (forward) or the end (backward) first. */
  logLines (e: LogExpr, startNs: bigint, endNs: bigint, direction: Direction): Selected[] {
    const all = this.select(e, startNs, endNs - 1n)
    all.sort((a, b) => a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)
    if (direction === 'backward') all.reverse()
    return all
  }

  /** A metric expression at t = start + k·step for k = 0 … n-1 (n = steps). Throws BruteError where Loki refuses. */
  metric (e: MetricExpr, startNs: bigint, stepNs: bigint, steps: number): MetricSeries[] | number {
    const times: bigint[] = []
    for (let k = 0; k < steps; k++) times.push(startNs + stepNs * BigInt(k))
    return this.evalMetric(e, times)
  }

  private evalMetric (e: MetricExpr, times: bigint[]): MetricSeries[] | number {
    switch (e.kind) {
      case 'number': return e.value
      case 'vector': return [{ labels: {}, points: new Map(times.map((t) => [t, e.value])) }]
      case 'range': return this.range(e, times)
      case 'agg': {
        const inner = this.evalMetric(e.expr, times)
        if (typeof inner === 'number') throw new BruteError('aggregation of a number')
        return aggregate(e.op, e.grouping, inner)
      }
      case 'binary': return binary(e.op, this.evalMetric(e.left, times), this.evalMetric(e.right, times), times)
    }
  }

  private range (e: Extract<MetricExpr, { kind: 'range' }>, times: bigint[]): MetricSeries[] {
    const first = times[0]!
    const last = times[times.length - 1]!
    const lines = this.select(e.log, first - e.rangeNs + 1n, last)
    const seconds = Number(e.rangeNs) / 1e9
    // Times as ns after the first window's start: exact in a double for any span under 104 days.
    const origin = first - e.rangeNs
    const at = times.map((t) => Number(t - origin))
    const range = Number(e.rangeNs)
    const series = new Map<string, { labels: Labels, n: Float64Array, bytes: Float64Array }>()
    for (const l of lines) {
      const ts = Number(l.ts - origin)
      let s: { labels: Labels, n: Float64Array, bytes: Float64Array } | undefined
      for (let k = 0; k < at.length; k++) {
        const t = at[k]!
        if (!(ts > t - range && ts <= t)) continue // the window (t - range, t]
        if (l.labels.__error__ !== undefined) throw new BruteError(`pipeline error ${l.labels.__error__}`)
        if (s === undefined) {
          const labels = normalize(l.labels)
          const id = key(labels)
          s = series.get(id)
          if (s === undefined) { s = { labels, n: new Float64Array(at.length), bytes: new Float64Array(at.length) }; series.set(id, s) }
        }
        s.n[k]!++
        s.bytes[k]! += l.bytes
      }
    }
    return [...series.values()].map((s) => {
      const points = new Map<bigint, number>()
      for (let k = 0; k < times.length; k++) {
        const n = s.n[k]!
        if (n === 0) continue
        const b = s.bytes[k]!
        points.set(times[k]!, e.fn === 'count_over_time' ? n : e.fn === 'rate' ? n / seconds : e.fn === 'bytes_over_time' ? b : b / seconds)
      }
      return { labels: s.labels, points }
    })
  }
}

function group (l: Labels, g: Grouping | null): Labels {
  const out: Labels = {}
  if (g === null) return out
  for (const [n, v] of Object.entries(l)) if (g.mode === 'by' ? g.labels.includes(n) : !g.labels.includes(n)) out[n] = v
  return out
}

function aggregate (op: AggOp, g: Grouping | null, input: MetricSeries[]): MetricSeries[] {
  const groups = new Map<string, { labels: Labels, values: Map<bigint, number[]> }>()
  for (const s of input) {
    const labels = group(s.labels, g)
    const k = key(labels)
    let a = groups.get(k)
    if (a === undefined) { a = { labels, values: new Map() }; groups.set(k, a) }
    for (const [t, v] of s.points) {
      const list = a.values.get(t) ?? []
      list.push(v)
      a.values.set(t, list)
    }
  }
  return [...groups.values()].map((a) => ({
    labels: a.labels,
    points: new Map([...a.values].map(([t, vs]) => {
      const sum = vs.reduce((x, y) => x + y, 0)
      const v = op === 'sum' ? sum : op === 'count' ? vs.length : op === 'avg' ? sum / vs.length : op === 'min' ? Math.min(...vs) : Math.max(...vs)
      return [t, v]
    }))
  }))
}

function apply (op: BinOp, a: number, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b
}

/** Arithmetic as Prometheus and Loki do it: with a scalar, per sample; between vectors, one-to-one on identical label sets. */
function binary (op: BinOp, l: MetricSeries[] | number, r: MetricSeries[] | number, times: bigint[]): MetricSeries[] | number {
  if (typeof l === 'number' && typeof r === 'number') return apply(op, l, r)
  if (typeof l === 'number') return (r as MetricSeries[]).map((s) => ({ labels: s.labels, points: new Map([...s.points].map(([t, v]) => [t, apply(op, l, v)])) }))
  if (typeof r === 'number') return l.map((s) => ({ labels: s.labels, points: new Map([...s.points].map(([t, v]) => [t, apply(op, v, r)])) }))
  const right = new Map(r.map((s) => [key(s.labels), s]))
  const out: MetricSeries[] = []
  for (const s of l) {
    const o = right.get(key(s.labels))
    if (o === undefined) continue
    const points = new Map<bigint, number>()
    for (const t of times) {
      const a = s.points.get(t)
      const b = o.points.get(t)
      if (a !== undefined && b !== undefined) points.set(t, apply(op, a, b))
    }
    if (points.size > 0) out.push({ labels: s.labels, points })
  }
  return out
}

export function isLog (e: Expr): e is LogExpr {
  return e.kind === 'log'
}
