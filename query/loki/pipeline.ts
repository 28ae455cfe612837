import type { LabelFilterOp, Matcher, Stage } from './ast.js'
import type { Labels } from './labels.js'
import { matcherFn } from '../../core/label-match.js'
import { compileRegex } from '../../core/regex.js'

// A log pipeline compiled once per query: line filters, `| json`, `| logfmt`, label filters
// and `| drop`, applied to each line in order. Returns the line's labels, or null to drop it.

export type Pipeline = (line: string, labels: Labels) => Labels | null

type Step = (line: string, labels: Labels) => Labels | null

export { matcherFn } from '../../core/label-match.js'

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
/**
 * The labels a line had before its pipeline ran (its stream's and per-line labels): a parsed
 * key that collides with one of them gets `_extracted`, as in Loki. Set by the pipeline
 * runner for each line; pipelines run synchronously, one line at a time.
 */
let base: Labels = {}

function put (out: Labels, _names: Set<string>, key: string, value: string): void {
  const k = sanitize(key)
  if (k === '') return
  out[k in base ? k + '_extracted' : k] = value
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

/**
 * The JSON object a line starts with, as Loki's `| json` reads it: the whole line when it is
 * one object, else the leading object of a line like `{"a":1} trailing text` (Loki's parser
 * walks the first object and ignores what follows). Undefined when the line does not start
 * with a complete object.
 */
export function leadingJsonObject (line: string): Record<string, unknown> | undefined {
  let i = 0
  while (i < line.length && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++
  if (line.charCodeAt(i) !== 0x7b /* { */) return undefined
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    const end = leadingObjectEnd(line, i)
    if (end < 0) return undefined
    try { v = JSON.parse(line.slice(i, end)) } catch { return undefined }
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
}

/** The index just past the `}` closing the object that opens at `from`, or -1. */
function leadingObjectEnd (line: string, from: number): number {
  let depth = 0
  let inString = false
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b /* [ */) {
      depth++
    } else if (c === 0x7d || c === 0x5d /* ] */) {
      if (--depth === 0) return c === 0x7d ? i + 1 : -1
    }
  }
  return -1
}

function jsonStage (streamNames: Set<string>): Step {
  return (line, l) => {
    const out = { ...l }
    const v = leadingJsonObject(line)
    if (v === undefined) { out.__error__ = 'JSONParserErr'; out.__error_details__ = 'not JSON'; return out }
    flatten('', v, out, streamNames)
    return out
  }
}

/** A field a parser finds in a line: its label name (as `| json` names it), value and JSON path. */
export interface ParsedField { name: string, value: string, path?: string[] }

/** The fields `| json` would add for a line's leading object, with their JSON paths; null when not JSON. */
export function jsonFields (line: string, streamNames: Set<string>): ParsedField[] | null {
  const v = leadingJsonObject(line)
  if (v === undefined) return null
  const out: ParsedField[] = []
  const walk = (prefix: string, path: string[], x: unknown): void => {
    if (x === null || x === undefined) return
    if (typeof x === 'object' && !Array.isArray(x)) {
      for (const [k, y] of Object.entries(x as Record<string, unknown>)) walk(prefix ? prefix + '_' + k : k, [...path, k], y)
      return
    }
    const name = fieldName(prefix, streamNames)
    if (name !== '') out.push({ name, value: Array.isArray(x) ? JSON.stringify(x) : String(x), path })
  }
  walk('', [], v)
  return out
}

/** The fields `| logfmt` would add for a line (those with a value); null when the line is not logfmt. */
export function logfmtFields (line: string, streamNames: Set<string>): ParsedField[] | null {
  const out: ParsedField[] = []
  const ok = scanLogfmt(line, (k, v) => {
    const name = fieldName(k, streamNames)
    if (name !== '' && v !== '') out.push({ name, value: v })
  })
  return ok ? out : null
}

function fieldName (key: string, streamNames: Set<string>): string {
  const k = sanitize(key)
  return k === '' ? '' : streamNames.has(k) ? k + '_extracted' : k
}

const LOGFMT_PAIR = /([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?/g

function blank (line: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (line.charCodeAt(i) > 0x20) return false
  return true
}

/**
 * Each `key=value` (or bare `key`) of a logfmt line, in order. False at the first syntax error,
 * as Loki's logfmt decoder stops there: a `"` or `=` where a key should start, a `"` inside a
 * key or an unquoted value, an unterminated or malformed quoted value. So a JSON line is not
 * logfmt (its first key runs into a `"`).
 */
function scanLogfmt (line: string, visit: (key: string, value: string) => void): boolean {
  let last = 0
  for (const m of line.matchAll(LOGFMT_PAIR)) {
    if (!blank(line, last, m.index)) return false
    last = m.index + m[0].length
    // A key or value that runs into a `"` is an error there, before it is read.
    if (last < line.length && line.charCodeAt(last) > 0x20) return false
    let v = m[2] ?? ''
    if (v.startsWith('"')) {
      try { v = JSON.parse(v) as string } catch { return false }
    }
    visit(m[1]!, v)
  }
  return blank(line, last, line.length)
}

function logfmtStage (streamNames: Set<string>): Step {
  return (line, l) => {
    const out = { ...l }
    if (!scanLogfmt(line, (k, v) => put(out, streamNames, k, v))) out.__error__ = 'LogfmtParserErr'
    return out
  }
}

/**
 * A pattern filter's pattern (`<_> timeout after <_>`, as the patterns endpoint writes them) as
 * a test, matching as Loki's pattern matcher does: a leading literal at the start of the line,
 * then each literal at its first occurrence after the previous one (each capture, `<_>` or
 * `<name>`, takes the text up to it); after a final literal the line may go on. Linear in the
 * line: no backtracking.
 */
export function patternMatcher (pattern: string): (line: string) => boolean {
  const parts = pattern.split(/<[A-Za-z_][A-Za-z0-9_]*>/)
  const first = parts[0]!
  const rest = parts.slice(1).filter((x) => x !== '')
  return (line) => {
    if (!line.startsWith(first)) return false
    let at = first.length
    for (const lit of rest) {
      const i = line.indexOf(lit, at)
      if (i < 0) return false
      at = i + lit.length
    }
    return true
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
      case 'pattern': {
        const tests = s.patterns.map(patternMatcher)
        const negate = s.negate
        steps.push((line, l) => tests.some((t) => t(line)) !== negate ? l : null)
        break
      }
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
    base = labels
    let l: Labels | null = labels
    for (let i = 0; i < steps.length && l !== null; i++) l = steps[i]!(line, l)
    return l
  }
}
