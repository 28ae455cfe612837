import { FramedBatch, RECORD_INDEX } from '../../core/frames.js'
import type { Entry, StreamBatch } from '../../core/record.js'
import type { DropRow } from '../../store/log-store.js'

export const TOO_OLD = 'too_old'

export interface OldLinesResult {
  batches: StreamBatch[]
  drops: DropRow[]
  droppedLines: number
}

/**
 * Refuses lines whose time is older than the store keeps lines (Loki's
 * `reject_old_samples_max_age`): accepted, they would be acknowledged, counted in usage, and
 * deleted by the next retention pass — a loss nobody would see. The bound is retentionDays
 * less one retention interval, what the next pass would delete. Refused lines are counted
 * (daytwo_collector_dropped_total{reason="too_old"}) and recorded as usage drops.
 */
export class OldLineFilter {
  private readonly maxAgeMs: number

  constructor (retentionDays: number, retentionCheckMs: number, private readonly clock: () => number = Date.now) {
    this.maxAgeMs = retentionDays > 0 ? Math.max(0, retentionDays * 86_400_000 - retentionCheckMs) : 0
  }

  get enabled (): boolean { return this.maxAgeMs > 0 }

  apply (batches: StreamBatch[]): OldLinesResult {
    // Whole seconds are enough for the bound: a line within a second of it is kept.
    const cutoffS = Math.floor((this.clock() - this.maxAgeMs) / 1000)
    const out: StreamBatch[] = []
    const drops = new Map<string, DropRow>()
    let droppedLines = 0
    for (const group of batches) {
      if (!this.hasOld(group, cutoffS)) { out.push(group); continue }
      const kept: Entry[] = []
      for (const e of group.entries) {
        if (seconds(e[0]) >= cutoffS) { kept.push(e); continue }
        droppedLines++
        const org = group.stream.org ?? ''
        const app = group.stream.app ?? ''
        const key = org + '\0' + app
        const bytes = Buffer.byteLength(e[2])
        const row = drops.get(key)
        if (row) { row.lines++; row.bytes += bytes } else drops.set(key, { org, app, reason: TOO_OLD, lines: 1, bytes })
      }
      if (kept.length > 0) out.push({ stream: group.stream, entries: kept })
    }
    return { batches: out, drops: [...drops.values()], droppedLines }
  }

  /** Whether any record is older than the bound: from the record index for frames, without parsing. */
  private hasOld (group: StreamBatch, cutoffS: number): boolean {
    if (group instanceof FramedBatch) {
      const idx = group.index
      for (let i = RECORD_INDEX.tsHi; i < idx.length; i += RECORD_INDEX.width) if (idx[i]! < cutoffS) return true
      return false
    }
    for (const e of group.entries) if (seconds(e[0]) < cutoffS) return true
    return false
  }
}

/** Whole seconds of a decimal ns time (negative times are refused before this). */
function seconds (ts: string): number {
  return ts.length <= 9 ? 0 : Number(ts.slice(0, ts.length - 9))
}
