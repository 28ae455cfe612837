import type Database from 'better-sqlite3'
import { RECORD_INDEX as X, EntryView, readEntry, tsBigInt } from '../../core/frames.js'
import type { RecordBatch } from './writer.js'

// Exactly-once for receiver streams (Loki push, OTLP, Elasticsearch _bulk, Fluent forward).
//
// A forwarder's stream has real offsets (bytes into a file, a persisted syslog sequence): a
// line at or below the stream's high-water mark was stored before. A receiver's lines have
// none: their senders retry whole requests, send lines older than the stream's newest (Loki
// accepts out-of-order lines), and several lines in one millisecond. So for these streams:
//  - the receiver gives each line a record key instead of an offset: 48 bits of a hash of
//    the line's identity (time and text; a _bulk document's own `_id` when it has one),
//    collector/receivers/record-key.ts;
//  - here, in the transaction that stores the lines, a line whose (stream, time, key) is in
//    the `record_keys` table is a duplicate (a retry, or the same line twice, which Loki also
//    keeps once); every other line gets the stream's next dense offset (arrival order) and its
//    key is recorded. Keys and blocks commit together, so a retry after kill -9 is recognised
//    exactly when its lines were stored: nothing is lost, nothing doubled.
//  - what is kept is bounded: keys are forgotten `windowMs` after they were written, and the
//    oldest first when more than `maxKeys` are kept. A retry later than that is stored again.
// A table of its own, made here, not a schema version: older daytwo versions ignore it.

/** How long a line's key is kept: longer than any sender's retries run (Promtail's backoff ends after ~5 min). */
export const KEY_WINDOW_MS = 30 * 60_000
/** At most this many keys are kept (≈ 50 bytes each on disk). */
export const MAX_KEYS = 2_000_000

export interface KeyWindow { windowMs: number, maxKeys: number }

const DDL = `
CREATE TABLE IF NOT EXISTS record_keys (
  sid INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  key INTEGER NOT NULL,
  seen_ms INTEGER NOT NULL,
  PRIMARY KEY (sid, ts, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_keys_seen ON record_keys (seen_ms);`

/** Turns a receiver stream's keyed lines into its new lines, with dense offsets. */
export class RecordKeys {
  private readonly remember: Database.Statement
  private readonly expire: Database.Statement
  private readonly trim: Database.Statement
  private kept: number
  private readonly view = new EntryView()

  constructor (db: Database.Database, private readonly window: KeyWindow = { windowMs: KEY_WINDOW_MS, maxKeys: MAX_KEYS }) {
    db.exec(DDL)
    this.remember = db.prepare('INSERT INTO record_keys (sid, ts, key, seen_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
    this.expire = db.prepare('DELETE FROM record_keys WHERE seen_ms < ?')
    this.trim = db.prepare('DELETE FROM record_keys WHERE (sid, ts, key) IN (SELECT sid, ts, key FROM record_keys ORDER BY seen_ms LIMIT ?)')
    this.kept = (db.prepare('SELECT count(*) AS n FROM record_keys').get() as { n: number }).n
  }

  /**
   * The lines of `batch` not stored before, as a batch of their own whose offsets run on from
   * `hwm` (the stream's highest offset) in the order they came. Call inside the transaction
   * that stores them.
   */
  admit (sid: number, hwm: number, batch: RecordBatch, nowMs: number): RecordBatch {
    const { frames, index } = batch
    const count = index.length / X.width
    const parts: Buffer[] = []
    const kept: number[] = []
    let next = hwm + 1
    let pos = 0
    for (let i = 0; i < count; i++) {
      const k = i * X.width
      const key = index[k + X.offset]!
      const ts = tsBigInt({ hi: index[k + X.tsHi]!, lo: index[k + X.tsLo]! })
      if (this.remember.run(sid, ts, key, nowMs).changes === 0) continue
      this.kept++
      // The record as it came, its offset field (the key) replaced by the dense offset.
      const start = index[k + X.start]!
      readEntry(frames, start, this.view)
      const head = Buffer.from(`E ${frames.toString('latin1', this.view.tsStart, this.view.tsEnd)} ${next}`)
      const rest = frames.subarray(this.view.stdioStart - 1, this.view.end + 1)
      kept.push(pos, next, index[k + X.tsHi]!, index[k + X.tsLo]!, index[k + X.msgLen]!, index[k + X.level]!, head.length + this.view.msgStart - (this.view.stdioStart - 1), index[k + X.stdio]!)
      parts.push(head, rest)
      pos += head.length + rest.length
      next++
    }
    return { stream: batch.stream, frames: Buffer.concat(parts, pos), index: Float64Array.from(kept) }
  }

  /** Forget keys past the window; once per transaction. */
  prune (nowMs: number): void {
    this.kept -= this.expire.run(nowMs - this.window.windowMs).changes
    if (this.kept > this.window.maxKeys) this.kept -= this.trim.run(this.kept - this.window.maxKeys).changes
  }
}
