import type { LabelFilterOp, Matcher, Stage } from './ast.js'
import type { Labels } from './labels.js'
import { compileRegex } from '../../core/regex.js'

// A log pipeline compiled once per query: line filters, `| json`, `| logfmt`, label filters
// and `| drop`, applied to each line in order. Returns the line's labels, or null to drop it.

export type Pipeline = (line: string, labels: Labels) => Labels | null

type Step = (line: string, labels: Labels) => Labels | null

/** Whether a label matcher accepts a value (a missing label is the empty string, as in Loki). */
export function matcherFn (m: Pick<Matcher, 'op' | 'value'>): (v: string) => boolean {
  switch (m.op) {
    case '=': return (v) => v === m.value
    case '!=': return (v) => v !== m.value
    case '=~': { const re = compileRegex(m.value, true); return (v) => re.test(v) }
    case '!~': { const re = compileRegex(m.value, true); return (v) => !re.test(v) }
  }
}

function lineFilter (op: string, value: string): Step {
  switch (op) {
    case '|=': return (line, l) => line.includes(value) ? l : null
    case '!=': return (line, l) => line.includes(value) ? null : l
    case '|~': { const re = compileRegex(value, false); return (line, l) => re.test(line) ? l : null }
    default: { const re = compileRegex(value, false); return (line, l) => re.test(line) ? null : l }
  }
}

function sanitize (key: string): string {
  let k = key.replace(/[^a-zA-Z0-9_]/g, '_')
  if (/^[0-9]/.test(k)) k = '_' + k
  return k
}

/** Loki adds `_extracted` to a parsed key that collides with a stream label. */
function put (out: Labels, streamNames: Set<string>, key: string, value: string): void {
  const k = sanitize(key)
  if (k === '') return
  out[streamNames.has(k) ? k + '_extracted' : k] = value
}

function flatten (prefix: string, v: unknown, out: Labels, names: Set<string>): void {
  if (v === null || v === undefined) return
  if (typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? prefix + '_' + k : k, x, out, names)
    return
  }
  if (Array.isArray(v)) { put(out, names, prefix, JSON.stringify(v)); return } // Loki skips arrays in older versions; keep them as JSON
  put(out, names, prefix, String(v))
}

function jsonStage (streamNames: Set<string>): Step {
  return (line, l) => {
    const out = { ...l }
    let v: unknown
    try { v = JSON.parse(line) } catch { out.__error__ = 'JSONParserErr'; out.__error_details__ = 'not JSON'; return out }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { out.__error__ = 'JSONParserErr'; return out }
    flatten('', v, out, streamNames)
    return out
  }
}

const LOGFMT_PAIR = /([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?/g

function logfmtStage (streamNames: Set<string>): Step {
  return (line, l) => {
    const out = { ...l }
    for (const m of line.matchAll(LOGFMT_PAIR)) {
      let v = m[2] ?? ''
      if (v.startsWith('"')) {
        try { v = JSON.parse(v) as string } catch { out.__error__ = 'LogfmtParserErr'; return out }
      }
      put(out, streamNames, m[1]!, v)
    }
    return out
  }
}

function labelFilter (name: string, op: LabelFilterOp, value: string | number): Step {
  if (typeof value === 'string') {
    const f = matcherFn({ op: op as Matcher['op'], value })
    return (_line, l) => f(l[name] ?? '') ? l : null
  }
  const cmp: (a: number) => boolean =
    op === '=' || op === '==' ? (a) => a === value
      : op === '!=' ? (a) => a !== value
        : op === '>' ? (a) => a > value
          : op === '>=' ? (a) => a >= value
            : op === '<' ? (a) => a < value
              : (a) => a <= value
  // As Loki: a line that already has an error passes (only string matchers filter errors out),
  // a line without the label is dropped, and a value that is not a number marks the line.
  return (_line, l) => {
    if (l.__error__ !== undefined) return l
    const raw = l[name]
    if (raw === undefined) return null
    const n = raw.trim() === '' ? NaN : Number(raw)
    if (Number.isNaN(n)) return { ...l, __error__: 'LabelFilterErr', __error_details__: `strconv.ParseFloat: parsing ${JSON.stringify(raw)}: invalid syntax` }
    return cmp(n) ? l : null
  }
}

export function compilePipeline (stages: Stage[], streamNames: Set<string>): Pipeline {
  const steps: Step[] = []
  for (const s of stages) {
    switch (s.kind) {
      case 'line': steps.push(lineFilter(s.op, s.value)); break
      case 'json': steps.push(jsonStage(streamNames)); break
      case 'logfmt': steps.push(logfmtStage(streamNames)); break
      case 'label': for (const f of s.filters) steps.push(labelFilter(f.name, f.op, f.value)); break
      case 'drop': {
        const names = s.names
        steps.push((_line, l) => {
          if (!names.some((n) => n in l)) return l
          const out = { ...l }
          for (const n of names) delete out[n]
          if (names.includes('__error__')) delete out.__error_details__ // as Loki does
          return out
        })
        break
      }
    }
  }
  return (line, labels) => {
    let l: Labels | null = labels
    for (let i = 0; i < steps.length && l !== null; i++) l = steps[i]!(line, l)
    return l
  }
}

/** Whether a pipeline only filters lines (no parser, label filter or drop), for fast paths. */
export function onlyLineFilters (stages: Stage[]): boolean {
  return stages.every((s) => s.kind === 'line')
}
