import type { Attributes } from '../core/record.js'
import type { StreamInfo } from './log-store.js'

// The question a store is asked, whole, as Loki's Querier is asked it (SelectLogs /
// SelectSamples): every matcher of the selector, the line filters that open the pipeline, the
// time range, direction and an AbortSignal. A store does natively what it can (matchers,
// time, line filters, counts) and the query service runs the rest of the pipeline on what
// comes back. Every answer must equal a brute-force evaluation of the same question over the
// stored lines.

export type MatchOp = '=' | '!=' | '=~' | '!~'

/**
 * A label matcher. Names are Loki label names: a stream's labels (core/stream-labels.ts) and
 * the per-line labels `stream` (stdout/stderr), `level` and `detected_level`. A missing label
 * is the empty string; regexes are RE2 and anchored at both ends.
 */
export interface LabelMatcher { name: string, op: MatchOp, value: string }

export type LineFilterOp = '|=' | '!=' | '|~' | '!~'

/** A line filter, exact: `|=`/`!=` contain (or not) the bytes of `value`; `|~`/`!~` an RE2 match anywhere. */
export interface LineFilter { op: LineFilterOp, value: string }

export interface SelectParams {
  /** Every matcher of the stream selector, on stream labels and per-line labels alike. */
  matchers: LabelMatcher[]
  /** The org a tenant token is limited to: streams of other orgs are never read. */
  org?: string
  /** The line filters that open the pipeline, all applied by the store. */
  lineFilters: LineFilter[]
  /** [fromNs, toNs): Unix nanoseconds. */
  fromNs: bigint
  toNs: bigint
  /** Aborted when the client went away or the query's deadline passed: stop all work and throw. */
  signal?: AbortSignal
  /** What the store read to answer, added to as it goes (Loki's query statistics). */
  stats?: ReadStats
}

export interface ReadStats {
  /** Lines and message bytes decoded and looked at. */
  lines: number
  bytes: number
  /** Blocks (or chunks, pages) read, and those ruled out by an index without reading. */
  blocks: number
  skipped: number
}

export type Direction = 'forward' | 'backward'

export interface SelectLogsParams extends SelectParams {
  direction: Direction
}

/** One selected line and what the query service needs to label it. */
export interface SelectedLine {
  stream: StreamInfo
  /** Unix ns as a decimal string (exact). */
  ts: string
  offset: number
  line: string
  /** 'stdout' | 'stderr' | '' */
  stdio: string
  /** The line's level as core/level.ts names them, found once at ingest where the store keeps it. */
  level: string
  attrs?: Attributes
}

export interface SampleParams extends SelectParams {
  /**
   * Steps t = startNs + k·stepNs for k < steps; step k counts the lines in (t - rangeNs, t],
   * as Loki's range functions do. fromNs/toNs must cover (startNs - rangeNs, last step].
   */
  startNs: bigint
  stepNs: bigint
  steps: number
  rangeNs: bigint
}

/**
 * Counts of one label variant (a stream, stdio, level), as difference arrays of steps + 1
 * cells: the count at step k is the sum of cells 0…k. `lines` counts lines, `bytes` their
 * message bytes.
 */
export interface SampleVariant {
  stream: StreamInfo
  stdio: string
  level: string
  lines: Float64Array
  bytes: Float64Array
}

/** The label variants (stream, stdio, level) with lines in the range, and their totals. */
export interface VariantTotals {
  stream: StreamInfo
  stdio: string
  level: string
  lines: number
  bytes: number
}
