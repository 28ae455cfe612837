import type Database from 'better-sqlite3'
import { RECORD_INDEX as X, tsBigInt, type TsParts } from '../../core/frames.js'
import { isReceiverSource, type StreamTags } from '../../core/record.js'
import { BLOCK_FRAMES_LZ4, BlockEncoder } from './block-codec.js'
import { BlockIndexer } from './block-indexer.js'
import { RecordKeys, type KeyWindow } from './record-keys.js'

import type { DropRow } from '../log-store.js'

export interface RetentionOptions {
  /** Delete lines older than this (0: never). */
  days: number
  /** Delete the oldest blocks while the blocks take more than this (0: no limit). */
  maxBytes: number
  checkMs: number
}

export interface RetentionResult { blocks: number, lines: number, bytes: number }

/**
 * A stream's lines as the writer takes them: E records (core/frames.ts) and their index;
 * offsets increasing, or for a receiver's stream record keys in arrival order (record-keys.ts).
 */
export interface RecordBatch {
  stream: StreamTags
  frames: Buffer
  index: Float64Array
}

export interface WriterResult {
  lines: number
  bytes: number
  newLines: number
  newBytes: number
  perStream: Array<[string, number, number]>
}

/**
 * Writes batches in one transaction, skipping lines at or below each stream's mark, and for
 * receiver streams lines whose record key was stored before (record-keys.ts).
 */
export class BlockWriter {
  private readonly getStream: Database.Statement
  private readonly insertStream: Database.Statement
  private readonly updateStream: Database.Statement
  private readonly updateTags: Database.Statement
  private readonly insertBlock: Database.Statement
  private readonly insertMeta: Database.Statement
  private readonly insertLines: Database.Statement
  private readonly insertBloom: Database.Statement
  private readonly addUsage: Database.Statement
  private readonly tx: (writes: RecordBatch[][], nowMs: number) => WriterResult[]
  private readonly addDrops: Database.Statement
  private readonly encoder = new BlockEncoder()
  private readonly indexer = new BlockIndexer()
  private readonly lowerTotals: Database.Statement
  private readonly keys: RecordKeys

  constructor (private readonly db: Database.Database, private readonly blockLines: number, keyWindow?: KeyWindow) {
    this.keys = new RecordKeys(db, keyWindow)
    this.getStream = db.prepare('SELECT sid, hwm, org, app, deployment, job, idx FROM streams WHERE id = ?').safeIntegers(false)
    this.insertStream = db.prepare(`INSERT INTO streams (id, source, node, deployment, job, idx, process, path, namespace, pod, container, org, space, app, labels, first_seen, last_ts)
      VALUES (@id, @source, @node, @deployment, @job, @idx, @process, @path, @namespace, @pod, @container, @org, @space, @app, @labels, @first, @first)`)
    this.updateStream = db.prepare('UPDATE streams SET hwm = ?, lines = lines + ?, bytes = bytes + ?, last_ts = max(last_ts, ?) WHERE sid = ?')
    // Tags may be refined after a stream started (kubelet metadata, tenant directory).
    this.updateTags = db.prepare('UPDATE streams SET deployment = @deployment, job = @job, idx = @idx, org = @org, space = @space, app = @app WHERE sid = @sid')
    this.insertBlock = db.prepare(`INSERT OR IGNORE INTO blocks (sid, first_offset, last_offset, min_ts, max_ts, lines, bytes, data, format)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${BLOCK_FRAMES_LZ4})`)
    this.insertMeta = db.prepare('INSERT OR IGNORE INTO block_meta (sid, first_offset, min_ts, max_ts, lines, bytes, summary, minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    this.insertLines = db.prepare('INSERT OR IGNORE INTO block_lines (sid, first_offset, levels, line_index) VALUES (?, ?, ?, ?)')
    this.insertBloom = db.prepare('INSERT OR IGNORE INTO block_blooms (sid, first_offset, bloom) VALUES (?, ?, ?)')
    this.lowerTotals = db.prepare('UPDATE streams SET lines = max(0, lines - ?), bytes = max(0, bytes - ?) WHERE sid = ?')
    this.addUsage = db.prepare(`INSERT INTO usage (minute, org, app, lines, bytes) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (minute, org, app) DO UPDATE SET lines = lines + excluded.lines, bytes = bytes + excluded.bytes`)
    this.addDrops = db.prepare(`INSERT INTO usage (minute, org, app, dropped_lines, dropped_bytes) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (minute, org, app) DO UPDATE SET dropped_lines = dropped_lines + excluded.dropped_lines, dropped_bytes = dropped_bytes + excluded.dropped_bytes`)
    this.tx = db.transaction((writes: RecordBatch[][], nowMs: number) => {
      this.keys.prune(nowMs)
      return writes.map((w) => this.writeAll(w, nowMs))
    })
  }

  write (batches: RecordBatch[]): WriterResult {
    return this.tx([batches], Date.now())[0]!
  }

  /**
   * Several writes in one transaction (group commit: one fsync for all of them). A write that
   * fails fails them all; the caller then writes them one by one.
   */
  writeMany (writes: RecordBatch[][]): WriterResult[] {
    return this.tx(writes, Date.now())
  }

  /**
   * Retention by age, then by size (oldest blocks first). Stream rows stay: they hold the
   * high-water marks that keep a late retry from storing a line twice; their line and byte
   * totals go down by what was deleted, in the same transaction, so that they count only the
   * lines still stored. Deleted pages are reused by SQLite rather than returned to the file
   * system.
   */
  enforceRetention (opts: RetentionOptions, nowMs: number): RetentionResult {
    const res: RetentionResult = { blocks: 0, lines: 0, bytes: 0 }
    const take = (rows: DeletedBlock[]) => {
      const perStream = new Map<number, [number, number]>()
      for (const r of rows) {
        res.blocks++
        res.lines += r.lines
        res.bytes += r.size
        const t = perStream.get(r.sid)
        if (t) { t[0] += r.lines; t[1] += r.bytes } else perStream.set(r.sid, [r.lines, r.bytes])
      }
      for (const [sid, [lines, bytes]] of perStream) this.lowerTotals.run(lines, bytes, sid)
    }
    if (opts.days > 0) {
      const cutoff = BigInt(Math.floor(nowMs - opts.days * 86_400_000)) * 1_000_000n
      const del = this.db.prepare('DELETE FROM blocks WHERE max_ts < ? RETURNING sid, lines, bytes, length(data) AS size')
      this.db.transaction(() => { take(del.all(cutoff) as DeletedBlock[]) })()
    }
    if (opts.maxBytes > 0) {
      let over = (this.db.prepare('SELECT coalesce(sum(length(data)), 0) AS n FROM blocks').get() as { n: number }).n - opts.maxBytes
      const oldest = this.db.prepare('SELECT sid, first_offset, lines, bytes, length(data) AS size FROM blocks ORDER BY max_ts LIMIT 256')
      const del = this.db.prepare('DELETE FROM blocks WHERE sid = ? AND first_offset = ?')
      while (over > 0) {
        const rows = oldest.all() as Array<DeletedBlock & { first_offset: number }>
        if (rows.length === 0) break
        this.db.transaction(() => {
          const deleted: DeletedBlock[] = []
          for (const r of rows) {
            if (over <= 0) break
            del.run(r.sid, r.first_offset)
            deleted.push(r)
            over -= r.size
          }
          take(deleted)
        })()
      }
    }
    return res
  }

  recordDrops (rows: DropRow[]): void {
    const minute = Math.floor(Date.now() / 60000) * 60000
    this.db.transaction(() => { for (const r of rows) this.addDrops.run(minute, r.org, r.app, r.lines, r.bytes) })()
  }

  private writeAll (batches: RecordBatch[], nowMs: number): WriterResult {
    const res: WriterResult = { lines: 0, bytes: 0, newLines: 0, newBytes: 0, perStream: [] }
    const minute = Math.floor(nowMs / 60000) * 60000
    const usage = new Map<string, [string, string, number, number]>()
    for (const given of batches) {
      const t = given.stream
      if (given.index.length === 0) continue
      const org = t.org ?? ''
      const app = t.app ?? ''
      let row = this.getStream.get(t.id) as { sid: number, hwm: number, org: string, app: string, deployment: string, job: string, idx: string } | undefined
      if (row === undefined) {
        this.insertStream.run({
          id: t.id, source: t.source, node: t.node, deployment: t.deployment, job: t.job, idx: t.index, process: t.process, path: t.path,
          namespace: t.namespace ?? null, pod: t.pod ?? null, container: t.container ?? null, org, space: t.space ?? '', app,
          labels: t.labels ? JSON.stringify(t.labels) : null, first: tsBigInt({ hi: given.index[X.tsHi]!, lo: given.index[X.tsLo]! })
        })
        row = this.getStream.get(t.id) as { sid: number, hwm: number, org: string, app: string, deployment: string, job: string, idx: string }
      } else if (row.org !== org || row.app !== app || row.deployment !== t.deployment || row.job !== t.job || row.idx !== t.index) {
        this.updateTags.run({ sid: row.sid, deployment: t.deployment, job: t.job, idx: t.index, org, space: t.space ?? '', app })
      }
      const sent = given.index.length / X.width
      for (let i = 0; i < sent; i++) res.bytes += given.index[i * X.width + X.msgLen]!
      res.lines += sent
      // A receiver's lines: those not stored before, renumbered from the mark on.
      const { frames, index } = isReceiverSource(t.source) ? this.keys.admit(row.sid, row.hwm, given, nowMs) : given
      const count = index.length / X.width
      // Offsets increase within a stream: lines at or below the mark were stored before.
      let from = 0
      while (from < count && index[from * X.width + X.offset]! <= row.hwm) from++
      if (from === count) continue
      const maxTs: TsParts = { hi: -Infinity, lo: -Infinity }
      let newBytes = 0
      for (let i = from; i < count; i += this.blockLines) {
        const b = block(index, i, Math.min(count, i + this.blockLines), frames.length)
        if (before(maxTs, b.max)) { maxTs.hi = b.max.hi; maxTs.lo = b.max.lo }
        newBytes += b.bytes
        const data = this.encoder.encode(frames.subarray(b.start, b.end))
        const ix = this.indexer.index(frames, b.start, b.end, b.lines, data.length, { index, first: i }, b.min, b.max)
        const lo = tsBigInt(b.min)
        const hi = tsBigInt(b.max)
        // Only a block stored now gets its metadata (a retried one keeps what it has).
        if (this.insertBlock.run(row.sid, b.firstOffset, b.lastOffset, lo, hi, b.lines, b.bytes, data).changes === 0) continue
        this.insertMeta.run(row.sid, b.firstOffset, lo, hi, b.lines, b.bytes, ix.summary, ix.minutes)
        this.insertLines.run(row.sid, b.firstOffset, ix.levels, ix.lineIndex)
        this.insertBloom.run(row.sid, b.firstOffset, ix.bloom)
      }
      const newLines = count - from
      this.updateStream.run(index[(count - 1) * X.width + X.offset]!, newLines, newBytes, tsBigInt(maxTs), row.sid)
      res.newLines += newLines
      res.newBytes += newBytes
      res.perStream.push([t.id, newLines, newBytes])
      const key = org + '\0' + app
      const u = usage.get(key)
      if (u) { u[2] += newLines; u[3] += newBytes } else usage.set(key, [org, app, newLines, newBytes])
    }
    for (const [org, app, lines, bytes] of usage.values()) this.addUsage.run(minute, org, app, lines, bytes)
    return res
  }
}

/** A deleted block: its stream, lines and message bytes, and its stored size. */
interface DeletedBlock { sid: number, lines: number, bytes: number, size: number }

interface Block { start: number, end: number, firstOffset: number, lastOffset: number, min: TsParts, max: TsParts, lines: number, bytes: number }

/** Records [from, to) of a stream as one block: where its bytes are, and its bounds. */
function block (index: Float64Array, from: number, to: number, framesEnd: number): Block {
  const W = X.width
  const min = { hi: index[from * W + X.tsHi]!, lo: index[from * W + X.tsLo]! }
  const max = { hi: min.hi, lo: min.lo }
  let bytes = 0
  for (let k = from * W; k < to * W; k += W) {
    const hi = index[k + X.tsHi]!
    const lo = index[k + X.tsLo]!
    if (hi < min.hi || (hi === min.hi && lo < min.lo)) { min.hi = hi; min.lo = lo }
    if (hi > max.hi || (hi === max.hi && lo > max.lo)) { max.hi = hi; max.lo = lo }
    bytes += index[k + X.msgLen]!
  }
  return {
    start: index[from * W + X.start]!,
    end: to * W < index.length ? index[to * W + X.start]! : framesEnd,
    firstOffset: index[from * W + X.offset]!,
    lastOffset: index[(to - 1) * W + X.offset]!,
    min,
    max,
    lines: to - from,
    bytes
  }
}

function before (a: TsParts, b: TsParts): boolean {
  return a.hi < b.hi || (a.hi === b.hi && a.lo < b.lo)
}
