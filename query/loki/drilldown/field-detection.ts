import type { Labels } from '../labels.js'
import type { StreamResult } from '../log-query.js'
import { jsonFields, logfmtFields, type ParsedField } from '../pipeline.js'
import { displayValue, fieldType, type FieldType } from './field-types.js'
import { lineMetadata } from './request.js'

// Fields of sampled lines, as Loki's detected_fields finds them
// (pkg/querier/queryrange/detected_fields.go): each line is parsed with `| json`, and with
// `| logfmt` when it is not JSON; labels the query's own parsers added count too, and a
// line's structured metadata gives fields without a parser. Error labels are not fields.

export interface DetectedField {
  label: string
  type: FieldType
  cardinality: number
  /** null for structured metadata, which no parser extracts. */
  parsers: Array<'json' | 'logfmt'> | null
  jsonPath?: string[]
}

interface Acc { values: Set<string>, type: FieldType, parsers: Set<'json' | 'logfmt'>, jsonPath?: string[] }

const ERROR_LABELS = new Set(['__error__', '__error_details__', '__preserve_error__'])

/** Each field of each sampled line, in sample order, with the parser that found it. */
export function forEachField (streams: StreamResult[], base: Set<string>, visit: (name: string, value: string, parser: 'json' | 'logfmt' | null, path?: string[]) => void): void {
  for (const s of streams) {
    const own = new Set<string>()
    for (const n of Object.keys(s.stream)) if (base.has(n)) own.add(n)
    // Labels the query's parsers added; a bare logfmt word (`ERROR` in `ERROR upstream …`) has
    // no value and is no field.
    const added: Labels = {}
    for (const [n, v] of Object.entries(s.stream)) if (!own.has(n) && !ERROR_LABELS.has(n) && v !== '') added[n] = v
    for (const value of s.values) {
      const md = lineMetadata(value)
      if (md !== undefined) for (const [n, v] of Object.entries(md)) visit(n, v, null)
      let parser: 'json' | 'logfmt' = 'json'
      let fields: ParsedField[] | null = jsonFields(value[1], own)
      if (fields === null) { parser = 'logfmt'; fields = logfmtFields(value[1], own) }
      if (fields === null) continue
      const seen = new Set<string>()
      for (const f of fields) { seen.add(f.name); visit(f.name, f.value, parser, f.path) }
      for (const [n, v] of Object.entries(added)) if (!seen.has(n)) visit(n, v, parser)
    }
  }
}

/** The detected fields of a sample, at most `limit` of them (the first found). */
export function detectFields (streams: StreamResult[], base: Set<string>, limit: number): DetectedField[] {
  const acc = new Map<string, Acc>()
  forEachField(streams, base, (name, value, parser, path) => {
    let a = acc.get(name)
    if (a === undefined) {
      if (acc.size >= limit) return
      // The type is the newest value's: the sample is read newest first.
      a = { values: new Set(), type: fieldType(value), parsers: new Set() }
      acc.set(name, a)
    }
    a.values.add(value)
    if (parser !== null) a.parsers.add(parser)
    if (parser === 'json' && path !== undefined && a.jsonPath === undefined) a.jsonPath = path
  })
  return [...acc.entries()].sort((x, y) => x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0).map(([label, a]) => ({
    label,
    type: a.type,
    cardinality: a.values.size,
    parsers: a.parsers.size === 0 ? null : [...a.parsers].sort(),
    ...(a.jsonPath !== undefined ? { jsonPath: a.jsonPath } : {})
  }))
}

/** The distinct values of one field in a sample, at most `limit`, byte sizes in query form. */
export function fieldValues (streams: StreamResult[], base: Set<string>, name: string, limit: number): string[] {
  const values = new Set<string>()
  forEachField(streams, base, (n, v, parser) => {
    if (n === name && values.size < limit) values.add(parser === null ? v : displayValue(v))
  })
  return [...values].sort()
}
