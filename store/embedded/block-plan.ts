import type Database from 'better-sqlite3'
import type { TsParts } from '../../core/frames.js'
import type { StreamInfo } from '../log-store.js'
import { parts } from '../step-span.js'

export { parts }

// Which blocks a question must look at: those of the selected streams whose time bounds
// reach into [from, to), with their bounds and (when kept) their summaries. Block metadata
// only (`block_meta`, schema.ts): the blocks' lines stay on disk until a scan worker reads them.

export interface PlannedBlock {
  /** With sid, the block's key (version-1 files' blocks have no rowid). */
  firstOffset: number
  sid: number
  stream: StreamInfo
  min: TsParts
  max: TsParts
  lines: number
  bytes: number
  summary: Buffer | null
  /** The summary per minute (block-index.ts), when asked for and kept. */
  minutes: Buffer | null
}

export interface PlanStream { sid: number, info: StreamInfo }

export class BlockPlanner {
  private readonly withSummary: Database.Statement
  private readonly withoutSummary: Database.Statement

  constructor (db: Database.Database) {
    const where = 'WHERE sid = ? AND max_ts >= ? AND min_ts < ?'
    this.withSummary = db.prepare(`SELECT first_offset, min_ts, max_ts, lines, bytes, summary, minutes FROM block_meta ${where}`)
    this.withoutSummary = db.prepare(`SELECT first_offset, min_ts, max_ts, lines, bytes, NULL AS summary, NULL AS minutes FROM block_meta ${where}`)
  }

  plan (streams: PlanStream[], fromNs: bigint, toNs: bigint, summaries: boolean): PlannedBlock[] {
    const stmt = summaries ? this.withSummary : this.withoutSummary
    const out: PlannedBlock[] = []
    for (const s of streams) {
      const rows = stmt.all(s.sid, fromNs, toNs) as Array<{ first_offset: bigint, min_ts: bigint, max_ts: bigint, lines: bigint, bytes: bigint, summary: Buffer | null, minutes: Buffer | null }>
      for (const r of rows) {
        out.push({ firstOffset: Number(r.first_offset), sid: s.sid, stream: s.info, min: parts(r.min_ts), max: parts(r.max_ts), lines: Number(r.lines), bytes: Number(r.bytes), summary: r.summary, minutes: r.minutes })
      }
    }
    return out
  }
}

export function compareParts (a: TsParts, b: TsParts): number {
  return a.hi !== b.hi ? a.hi - b.hi : a.lo - b.lo
}
