import type { Entry, StreamBatch, StreamTags } from '../core/record.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectedLine, SelectParams, VariantTotals } from './select-params.js'

// The LogStore interface every role reads and writes through (docs/architecture.md "The store interface").

export interface WriteResult {
  /** Lines and message bytes in the request. */
  lines: number
  bytes: number
  /** Lines and bytes newly committed: the rest were already stored (a retry). */
  newLines: number
  newBytes: number
  /** Newly committed lines and bytes per stream id, for accounting. */
  perStream: Map<string, { lines: number, bytes: number }>
}

export interface StreamSelector {
  deployment?: string
  job?: string
  index?: string
  process?: string
  org?: string
  streamIds?: string[]
}

/** The tags a selector can require, in the order stores apply them. */
export const SELECTOR_FIELDS = ['deployment', 'job', 'index', 'process', 'org'] as const

/** The equality conditions a selector sets: one meaning of a selector for every store. */
export function selectorEquals (sel: StreamSelector): Array<[typeof SELECTOR_FIELDS[number], string]> {
  const out: Array<[typeof SELECTOR_FIELDS[number], string]> = []
  for (const f of SELECTOR_FIELDS) {
    const v = sel[f]
    if (v !== undefined) out.push([f, v])
  }
  return out
}

export interface StreamInfo extends StreamTags {
  firstSeenNs: string
  lastTsNs: string
  lines: number
  bytes: number
}

export interface ReadRequest {
  selector: StreamSelector
  /** Inclusive bounds in Unix ns. */
  fromNs?: bigint
  toNs?: bigint
  /** Entries with offset greater than this, per stream id (used to resume a follow). */
  after?: Map<string, number>
}

export interface UsageRow {
  /** Start of the minute, Unix ms. */
  minute: number
  org: string
  app: string
  lines: number
  bytes: number
  /** Records dropped before the store (rate limits), by the same org/app and minute. */
  droppedLines: number
  droppedBytes: number
}

export interface DropRow {
  org: string
  app: string
  reason: string
  lines: number
  bytes: number
}

export interface UsageRequest {
  fromMs: number
  toMs: number
  org?: string
}

/**
 * Usage summed by the store into time buckets (and per org, or per org and app): what a usage
 * report needs, answered where the rows are (the embedded store's usage table, the search
 * engines' aggregations) instead of every per-minute row paged into the caller.
 */
export interface UsageRollupRequest extends UsageRequest {
  /** Bucket width in ms: a whole number of minutes dividing a day, or a whole number of days; buckets start at multiples of it since the Unix epoch (UTC). */
  stepMs: number
  /** Sum per org and app; otherwise per org (app is then ''). */
  byApp: boolean
  signal?: AbortSignal
}

/** One bucket of a rollup: `minute` is the bucket's start (Unix ms), the rest as in UsageRow. */
export type UsageBucket = UsageRow

/** Whether a rollup step is one the stores accept (see UsageRollupRequest.stepMs). */
export function validRollupStep (stepMs: number): boolean {
  const DAY = 86_400_000
  return Number.isSafeInteger(stepMs) && stepMs > 0 && stepMs % 60_000 === 0 && (DAY % stepMs === 0 || stepMs % DAY === 0)
}

export interface LogStore {
  readonly kind: string
  /**
   * Idempotent by (stream id, offset): returns what was new. Resolves after commit. A store
   * may take the memory of frames whose body is `owned` (core/frames.ts FramesBody) instead
   * of copying it; their entries are not readable after.
   */
  write (batches: StreamBatch[]): Promise<WriteResult>
  /** Streams matching the selector, oldest first. */
  streams (selector: StreamSelector): Promise<StreamInfo[]>
  /**
   * The matching entries, stream by stream (in `streams()` order) and in offset order within
   * a stream, in chunks so that a large read keeps memory flat.
   */
  read (req: ReadRequest): AsyncIterable<{ stream: StreamInfo, entries: Entry[] }>
  /**
   * The lines a query selects (store/select-params.ts), in time order (forward: oldest first;
   * backward: newest first), in batches: every line of a batch comes before every line of the
   * next. Equal times are ordered by stream id, then offset. The consumer stops reading when it
   * has what it needs, and the store stops its work then: what is read follows the answer.
   */
  selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]>
  /** Range-function counts per label variant, for queries whose pipeline is only line filters. */
  selectSamples (p: SampleParams): Promise<SampleVariant[]>
  /**
   * The label variants (stream, stdio, level) with lines in [fromNs, toNs), with their lines
   * and bytes in the range, exactly (a store may count whole blocks from summaries, but only
   * those inside the range); only
   * lines still stored. Labels, series, index stats and volume are answered from these.
   */
  variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]>
  /** Per-minute usage rows, oldest first (tests and exports; reports ask usageRollup). */
  usage (req: UsageRequest): Promise<UsageRow[]>
  /**
   * Usage summed into buckets by the store, ordered by bucket start, org, app. Optional while
   * a store does not answer it natively: store/usage-rollup.ts then sums usage() rows.
   */
  usageRollup? (req: UsageRollupRequest): Promise<UsageBucket[]>
  /** Count records dropped before the store (e.g. rate limited), for usage reports. */
  recordDrops (rows: DropRow[]): Promise<void>
  /** null when the store answers; otherwise why not. */
  check (): Promise<string | null>
  close (): Promise<void>
}
