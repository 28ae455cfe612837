import { FramedBatch, RECORD_INDEX as X } from '../../core/frames.js'
import type { Entry, StreamBatch } from '../../core/record.js'

// Range checks on what a forwarder says about each line, beyond the wire format's own
// (core/wire.ts, core/frames.ts: safe integers, signed 64-bit nanoseconds):
//   - offset below MAX_OFFSET (2^50, a petabyte into a file, or 10^15 syslog messages): the
//     store's per-stream high-water mark makes every line at or below the highest offset seen
//     a duplicate, so one line at 2^53 - 1 would silence the stream for ever;
//   - time not before 1970 and not more than maxFutureSkewMs ahead of the collector's clock:
//     a line dated in 2200 stays "the newest" of every query until then.
// Lines outside are dropped and counted (daytwo_collector_dropped_total{reason}), the rest of
// their batch is stored: one broken line does not make a forwarder resend a whole batch.

export const MAX_OFFSET = 2 ** 50
export const OFFSET_OUT_OF_RANGE = 'offset_out_of_range'
export const TIME_OUT_OF_RANGE = 'timestamp_out_of_range'

export interface BoundsResult {
  batches: StreamBatch[]
  /** Lines dropped because of their offset. */
  offsets: number
  /** Lines dropped because of their time. */
  times: number
}

export class EntryBounds {
  constructor (private readonly maxFutureSkewMs: number, private readonly clock: () => number = Date.now) {}

  apply (batches: StreamBatch[]): BoundsResult {
    // Seconds suffice: a time is refused when its whole seconds are past the limit's.
    const maxSec = Math.floor((this.clock() + this.maxFutureSkewMs) / 1000)
    let out: StreamBatch[] | null = null
    let offsets = 0
    let times = 0
    for (let g = 0; g < batches.length; g++) {
      const b = batches[g]!
      if (this.allIn(b, maxSec)) { out?.push(b); continue }
      out ??= batches.slice(0, g)
      const kept: Entry[] = []
      for (const e of b.entries) {
        if (e[1] >= MAX_OFFSET) offsets++
        else if (!timeIn(e[0], maxSec)) times++
        else kept.push(e)
      }
      if (kept.length > 0) out.push({ stream: b.stream, entries: kept })
    }
    return { batches: out ?? batches, offsets, times }
  }

  /** Whether every line of the group is in range, without parsing a FramedBatch's records. */
  private allIn (b: StreamBatch, maxSec: number): boolean {
    if (b instanceof FramedBatch) {
      const ix = b.index
      for (let k = 0; k < ix.length; k += X.width) {
        const hi = ix[k + X.tsHi]!
        if (ix[k + X.offset]! >= MAX_OFFSET || hi > maxSec || hi < 0 || ix[k + X.tsLo]! < 0) return false
      }
      return true
    }
    for (const e of b.entries) if (e[1] >= MAX_OFFSET || !timeIn(e[0], maxSec)) return false
    return true
  }
}

/** A decimal nanosecond time (core/wire.ts checked its form) at or after 0 and at most maxSec's second. */
function timeIn (ts: string, maxSec: number): boolean {
  if (ts.charCodeAt(0) === 0x2d) return /^-0+$/.test(ts)
  const sec = ts.length > 9 ? Number(ts.slice(0, ts.length - 9)) : 0
  return sec <= maxSec
}
