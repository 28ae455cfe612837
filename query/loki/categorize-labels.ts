import type { Attributes } from '../../core/record.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'

// Loki's answer to `X-Loki-Response-Encoding-Flags: categorize-labels` (Loki 3,
// pkg/util/marshal/query.go `encodeStream`; what Grafana 11 and 12 send for log queries): a
// stream carries its stream labels only, and each value is `[ts, line, {structuredMetadata?,
// parsed?}]` (the object always there, each key only when it has labels); `data.encodingFlags`
// says so. Grafana shows the three kinds apart (indexed, structured metadata, parsed) and offers
// filters that fit each.

export const ENCODING_FLAGS_HEADER = 'x-loki-response-encoding-flags'
export const CATEGORIZE_LABELS = 'categorize-labels'

/** Whether a request's header value (a comma-separated list of flags) asks for categorized labels. */
export function wantsCategorizedLabels (header: string | string[] | undefined): boolean {
  if (header === undefined) return false
  const all = Array.isArray(header) ? header.join(',') : header
  return all.split(',').some((f) => f.trim().toLowerCase() === CATEGORIZE_LABELS)
}

/** One returned line with what is known of it, before categorizing. */
export interface LineToCategorize {
  ts: string
  line: string
  /** The line's stream labels (indexed in Loki's terms). */
  stream: Labels
  /** Per-line attributes (syslog `facility`, `severity`, `msgid`, `sd.<id>.<param>`): structured metadata. */
  attributes?: Attributes
  /** Kubernetes pod labels of the line's stream: structured metadata too. */
  podLabels?: Labels
  /** Other per-line labels that are structured metadata in Loki (`detected_level`). */
  metadata?: Labels
  /** Labels a parser stage (`| json`, `| logfmt`) added, and `__error__`: marked `parsed`. */
  parsed?: Labels
}

export interface Categories { structuredMetadata?: Labels, parsed?: Labels }
export interface CategorizedStream { stream: Labels, values: Array<[string, string, Categories]> }

/**
 * Structured metadata names are label names, so queryable (`| sd_origin_ip="…"`): any other
 * character becomes `_`, as Loki's OTLP ingestion and Promtail's label maps do
 * (`app.kubernetes.io/name` → `app_kubernetes_io_name`, `sd.origin.ip` → `sd_origin_ip`).
 */
export function metadataName (name: string): string {
  const n = name.replace(/[^a-zA-Z0-9_]/g, '_')
  return /^[0-9]/.test(n) ? '_' + n : n
}

function metadataOf (l: LineToCategorize): Labels | undefined {
  let out: Labels | undefined
  for (const src of [l.podLabels, l.attributes, l.metadata]) {
    if (src === undefined) continue
    for (const [k, v] of Object.entries(src)) {
      if (v === '') continue
      out ??= {}
      out[metadataName(k)] = v
    }
  }
  return out === undefined ? undefined : sortedLabels(out)
}

/**
 * Lines (in the order they are to be answered) as Loki's categorized streams: grouped by their
 * stream labels alone, so lines that differ only in metadata or parsed labels share a stream;
 * streams in the order of their first line.
 */
export function categorizeLines (lines: LineToCategorize[]): CategorizedStream[] {
  const groups = new Map<string, CategorizedStream>()
  const keys = new Map<Labels, string>()
  for (const l of lines) {
    let key = keys.get(l.stream)
    if (key === undefined) { key = labelsKey(l.stream); keys.set(l.stream, key) }
    let g = groups.get(key)
    if (g === undefined) { g = { stream: sortedLabels(l.stream), values: [] }; groups.set(key, g) }
    const c: Categories = {}
    const md = metadataOf(l)
    if (md !== undefined) c.structuredMetadata = md
    if (l.parsed !== undefined && Object.keys(l.parsed).length > 0) c.parsed = sortedLabels(l.parsed)
    g.values.push([l.ts, l.line, c])
  }
  return [...groups.values()]
}

/**
 * A line's labels as the query engine answers them, split into the three kinds: `streamNames`
 * are stream labels (daytwo's stream tags and the per-line `stream` and `level` it selects on),
 * `metadataNames` are structured metadata, any other label was added by a parser.
 */
export function splitLabels (labels: Labels, streamNames: ReadonlySet<string>, metadataNames: ReadonlySet<string>): Pick<LineToCategorize, 'stream' | 'metadata' | 'parsed'> {
  const stream: Labels = {}
  let metadata: Labels | undefined
  let parsed: Labels | undefined
  for (const [k, v] of Object.entries(labels)) {
    if (metadataNames.has(k)) (metadata ??= {})[k] = v
    else if (streamNames.has(k)) stream[k] = v
    else (parsed ??= {})[k] = v
  }
  return { stream, ...(metadata !== undefined ? { metadata } : {}), ...(parsed !== undefined ? { parsed } : {}) }
}

/** `data` of a categorized log answer: `encodingFlags` beside the result, as Loki writes it. */
export function categorizedData<S> (result: CategorizedStream[], stats: S): { resultType: 'streams', encodingFlags: string[], result: CategorizedStream[], stats: S } {
  return { resultType: 'streams', encodingFlags: [CATEGORIZE_LABELS], result, stats }
}
