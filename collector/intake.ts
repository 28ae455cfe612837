import { DaytwoError } from '../core/errors.js'
import { entryCount, messageBytes } from '../core/frames.js'
import type { StreamBatch } from '../core/record.js'
import type { LogStore, WriteResult } from '../store/log-store.js'
import { EntryBounds, OFFSET_OUT_OF_RANGE, TIME_OUT_OF_RANGE } from './identity/entry-bounds.js'
import { bindStreams } from './identity/stream-binding.js'
import type { CollectorMetrics } from './metrics.js'

export interface IntakeOptions {
  store: LogStore
  metrics: CollectorMetrics
  /** How far ahead of this clock a line's time may be (collector.maxFutureSkewMs). */
  maxFutureSkewMs?: number
  /** Enrichment and limits run here, between validation and the store. */
  transform?: (batches: StreamBatch[], scope?: PushScope) => StreamBatch[] | Promise<StreamBatch[]>
  /** After the store committed (accounting); not called when the write failed. */
  committed?: (batches: StreamBatch[], result: WriteResult) => void
}

/** The org a push named and its token may name (collector/receivers/scope-org.ts). */
export interface PushScope {
  org: string
}

export interface IntakeResult {
  /** Lines the client sent. */
  received: number
  /** Lines new to the store (may include collector notices, e.g. rate limits). */
  stored: number
  /** Lines the store already held (a retry). */
  duplicates: number
  /** Lines refused here for their time or offset (counted as drops): what OTLP reports as rejected. */
  refused: number
}

/**
 * The one path every decoded batch takes into the store, whatever protocol brought it (the
 * forwarder's own, or a receiver of another agent's): stream ids bound to the sender, lines
 * outside the accepted offsets and times dropped with a reason, enrichment and limits, the
 * store write, then the counters. A receiver decodes its protocol into StreamBatch[] and calls
 * `accept`; what it answers its client follows from the result or the DaytwoError thrown.
 */
export class Intake {
  readonly #opts: IntakeOptions
  readonly #bounds: EntryBounds

  constructor (opts: IntakeOptions) {
    this.#opts = opts
    this.#bounds = new EntryBounds(opts.maxFutureSkewMs ?? 3_600_000)
  }

  /**
   * Store `batches` sent by `sender` (TokenSet.identify's name for the token), in the org of
   * `scope` when the push named one its token may name. Frames decoded from an owned body
   * (core/frames.ts) may be taken by the store: do not read them after.
   */
  async accept (batches: StreamBatch[], sender: string, scope?: PushScope): Promise<IntakeResult> {
    const { store, metrics } = this.#opts
    let lines = 0
    let bytes = 0
    for (const b of batches) {
      lines += entryCount(b)
      bytes += messageBytes(b)
    }
    // Identity before anything reads the tags: stream ids bound to the sender, lines in range.
    bindStreams(batches, sender, scope?.org)
    const inRange = this.#bounds.apply(batches)
    if (inRange.offsets > 0) metrics.drop(OFFSET_OUT_OF_RANGE, inRange.offsets, 'offset at or above 2^50')
    if (inRange.times > 0) metrics.drop(TIME_OUT_OF_RANGE, inRange.times, 'time before 1970 or later than collector.maxFutureSkewMs ahead')
    batches = inRange.batches
    if (this.#opts.transform) batches = await this.#opts.transform(batches, scope)
    let result: WriteResult
    try {
      result = await store.write(batches)
    } catch (err) {
      metrics.reject('store_unavailable', 1, (err as Error).message)
      metrics.batches.inc({ code: '503' })
      throw err instanceof DaytwoError ? err : new DaytwoError('STORE_UNAVAILABLE', (err as Error).message)
    }
    this.#opts.committed?.(batches, result)
    metrics.batches.inc({ code: '200' })
    metrics.recordsReceived.inc(lines)
    metrics.bytesReceived.inc(bytes)
    metrics.recordsStored.inc(result.newLines)
    metrics.bytesStored.inc(result.newBytes)
    metrics.duplicates.inc(result.lines - result.newLines)
    return { received: lines, stored: result.newLines, duplicates: result.lines - result.newLines, refused: inRange.offsets + inRange.times }
  }
}
