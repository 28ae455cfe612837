import type { Entry } from '../../core/record.js'
import type { LogStore, StreamInfo, StreamSelector } from '../../store/log-store.js'
import type { LineFilter, ReadStats, SelectedLine } from '../../store/select-params.js'
import type { LogExpr, Matcher, Stage } from './ast.js'
import { detectLevel, severityLevel, streamLabels, type Labels } from './labels.js'
import { compilePipeline, matcherFn, type Pipeline } from './pipeline.js'

// From a stream selector to lines with their Loki labels: equality matchers on identity tags
// narrow the store query, the other matchers filter daytwo streams by their labels, and
// matchers on the per-line labels (stream, level) filter lines.

const STORE_KEYS: Record<string, keyof StreamSelector> = { deployment: 'deployment', job: 'job', index: 'index', process: 'process', org: 'org' }
const PER_LINE = new Set(['stream', 'level'])

export interface SelectedStream {
  info: StreamInfo
  labels: Labels
  /** Line label sets by `${stdio}\0${level}`, built once: pipelines copy before they change one. */
  variants: Map<string, Labels>
}

export interface Selection {
  streams: SelectedStream[]
  lineMatchers: Array<{ name: string, test: (v: string) => boolean }>
  pipeline: Pipeline
}

/** Daytwo streams matching a selector, limited to `org` when it is set (tenant tokens). */
export async function selectStreams (store: LogStore, matchers: Matcher[], org: string | undefined, fromNs?: bigint): Promise<SelectedStream[]> {
  const sel: StreamSelector = {}
  for (const m of matchers) {
    const key = STORE_KEYS[m.name]
    if (key !== undefined && m.op === '=' && m.value !== '') {
      if (sel[key] !== undefined && sel[key] !== m.value) return []
      ;(sel as Record<string, string>)[key] = m.value
    }
  }
  if (org !== undefined) {
    if (sel.org !== undefined && sel.org !== org) return []
    sel.org = org
  }
  const tests = matchers.filter((m) => !PER_LINE.has(m.name)).map((m) => ({ name: m.name, test: matcherFn(m) }))
  const out: SelectedStream[] = []
  for (const info of await store.streams(sel)) {
    if (fromNs !== undefined && BigInt(info.lastTsNs) < fromNs) continue
    const labels = streamLabels(info)
    if (tests.every((t) => t.test(labels[t.name] ?? ''))) out.push({ info, labels, variants: new Map() })
  }
  return out
}

export async function select (store: LogStore, expr: LogExpr, org: string | undefined, fromNs?: bigint): Promise<Selection> {
  const streams = await selectStreams(store, expr.matchers, org, fromNs)
  const streamNames = new Set<string>()
  for (const s of streams) for (const n of Object.keys(s.labels)) streamNames.add(n)
  streamNames.add('stream')
  streamNames.add('level')
  return {
    streams,
    lineMatchers: expr.matchers.filter((m) => PER_LINE.has(m.name)).map((m) => ({ name: m.name, test: matcherFn(m) })),
    pipeline: compilePipeline(expr.stages, streamNames)
  }
}

/** The labels of one line before the pipeline: the stream's, plus `stream` (when known) and `level`. */
export function lineLabels (s: SelectedStream, e: Entry): Labels {
  const severity = e[4]?.severity
  const level = severity !== undefined ? severityLevel(severity) : detectLevel(e[2])
  const key = e[3] + '\u0000' + level
  let l = s.variants.get(key)
  if (l === undefined) {
    l = { ...s.labels }
    if (e[3] !== '') l.stream = e[3]
    l.level = level
    l.detected_level = level
    s.variants.set(key, l)
  }
  return l
}

export interface Line { ts: string, line: string, labels: Labels }

/**
 * Each selected line in [fromNs, toNs] (inclusive), stream by stream in offset order, after the
 * line matchers and the pipeline. `onChunk` gets the surviving lines of one store chunk.
 */
export async function scan (store: LogStore, sel: Selection, fromNs: bigint | undefined, toNs: bigint | undefined, onChunk: (stream: SelectedStream, lines: Line[]) => void | 'stop', after?: Map<string, number>): Promise<{ linesProcessed: number, bytesProcessed: number }> {
  let linesProcessed = 0
  let bytesProcessed = 0
  if (sel.streams.length === 0) return { linesProcessed, bytesProcessed }
  const byId = new Map(sel.streams.map((s) => [s.info.id, s]))
  const req = { selector: { streamIds: [...byId.keys()] }, ...(fromNs !== undefined ? { fromNs } : {}), ...(toNs !== undefined ? { toNs } : {}), ...(after ? { after } : {}) }
  for await (const chunk of store.read(req)) {
    const s = byId.get(chunk.stream.id)
    if (s === undefined) continue
    const lines: Line[] = []
    for (const e of chunk.entries) {
      linesProcessed++
      bytesProcessed += Buffer.byteLength(e[2])
      if (after !== undefined) after.set(s.info.id, e[1])
      let labels: Labels | null = lineLabels(s, e)
      let ok = true
      for (const m of sel.lineMatchers) if (!m.test(labels[m.name] ?? '')) { ok = false; break }
      if (!ok) continue
      labels = sel.pipeline(e[2], labels)
      if (labels !== null) lines.push({ ts: e[0], line: e[2], labels })
    }
    if (lines.length > 0 && onChunk(s, lines) === 'stop') break
  }
  return { linesProcessed, bytesProcessed }
}

// The store's questions (store/select-params.ts) made from a LogQL selector and pipeline.
// Every line filter goes to the store, wherever it stands in the pipeline: parsers and label
// filters do not change a line, so a line filter means the same before or after them. The
// rest of the pipeline runs here, on the lines the store hands back.

export interface Question {
  lineFilters: LineFilter[]
  /** The stages the store does not run (parsers, label filters, drop); empty: none. */
  rest: Stage[]
  pipeline: Pipeline | null
}

export function question (expr: LogExpr): Question {
  const lineFilters: LineFilter[] = []
  const rest: Stage[] = []
  for (const s of expr.stages) {
    if (s.kind === 'line') lineFilters.push({ op: s.op, value: s.value })
    else rest.push(s)
  }
  if (rest.length === 0) return { lineFilters, rest, pipeline: null }
  // Names a parser must not overwrite: every stream label plus the per-line ones.
  const names = new Set(['deployment', 'job', 'index', 'process', 'org', 'space', 'app', 'namespace', 'node', 'stream', 'level', 'detected_level'])
  return { lineFilters, rest, pipeline: compilePipeline(rest, names) }
}

export function newStats (): ReadStats {
  return { lines: 0, bytes: 0, blocks: 0, skipped: 0 }
}

/**
 * The Loki labels of a line before the pipeline: its stream's, `stream` when it has one, and
 * `level` with `detected_level` (the same value, under the name Logs Drilldown reads). Label
 * sets are made once per (stream, stdio, level) and shared: pipelines copy before changing one.
 */
export class LineLabeler {
  private readonly cache = new Map<string, Labels>()

  labels (stream: StreamInfo, stdio: string, level: string): Labels {
    const key = stream.id + '\u0000' + stdio + '\u0000' + level
    let l = this.cache.get(key)
    if (l === undefined) {
      l = streamLabels(stream)
      if (stdio !== '') l.stream = stdio
      l.level = level
      l.detected_level = level
      this.cache.set(key, l)
    }
    return l
  }

  of (line: SelectedLine): Labels {
    return this.labels(line.stream, line.stdio, line.level)
  }
}
