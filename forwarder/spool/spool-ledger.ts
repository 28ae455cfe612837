import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DaytwoError } from '../../core/errors.js'

// The spool's ledger: which segment files exist and how many bytes they take, the next
// sequence number, the acknowledged mark, the epoch — what the writer and the reader share.
// Of it only the mark and the epoch are saved (spool.json: temp file, fsync, rename); the
// segment list and the next sequence number are found again from the files at the start.
// Segments whose messages were all acknowledged are unlinked here; an unlink that fails keeps
// the segment's bytes in the count (its space is still taken) and is tried again on every
// sync, so the bound neither drifts nor stays full for good.

/**
 * Version 3: chunks carry a CRC32C (spool-codec.ts). Spools of versions 1 (no checksum) and 2
 * (a CRC32C per record) are read as they are.
 */
export const SPOOL_VERSION = 3
const READS_VERSIONS = [1, 2, 3]
const NAME = /^(\d{16})\.seg$/
const STATE_FILE = 'spool.json'
const SAVE_ACKED_MS = 1000

export interface Segment {
  firstSeq: number
  path: string
  size: number
  /** Bytes known to be on disk (fsynced), always at a record's end; only these are read. */
  durable: number
  /** Write descriptor: the active segment's, and a rolled one's until its last fsync is done (-1 after). */
  fd: number
  /** An fsync of `fd` is in flight. */
  syncing: boolean
  /** Unlinked or to be (acknowledged); its descriptor is closed once no fsync uses it. */
  deleted: boolean
}

export class SpoolLedger {
  /** Oldest first; the last is the active one (written to), never deleted, only rolled. */
  readonly segments: Segment[] = []
  nextSeq = 0
  acked = 0
  /** Bytes of every segment file, including those whose unlink failed and waits for a retry. */
  bytes = 0
  readonly epoch: string
  /** Unlinks that failed, and the segments waiting for another try. */
  unlinkFailures = 0
  private readonly unlinkPending: Segment[] = []
  private readonly unlinkFailed = new Set<Segment>()
  private savedAcked = -1
  private savedAtMs = 0
  /** Called when an unlink fails (the segment is kept in the count and tried again). */
  onUnlinkError: (path: string, message: string) => void = () => {}
  /** Called as a segment leaves the list, before its file is unlinked (the reader lets go of it). */
  onRemove: (seg: Segment) => void = () => {}

  constructor (readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const state = this.load()
    this.acked = state.ackedBelow
    this.epoch = state.epoch
    for (const name of readdirSync(dir).filter((n) => NAME.test(n)).sort()) {
      const path = join(dir, name)
      const size = statSync(path).size
      // What a killed process wrote may still be only in the page cache: make it durable before it counts as such.
      fsyncFile(path)
      this.segments.push({ firstSeq: Number(NAME.exec(name)![1]), path, size, durable: size, fd: -1, syncing: false, deleted: false })
      this.bytes += size
    }
  }

  get active (): Segment { return this.segments[this.segments.length - 1]! }
  get pendingUnlinks (): number { return this.unlinkPending.length }

  /** A new empty segment file for messages from nextSeq on; it becomes the active one. */
  addSegment (): Segment {
    const path = join(this.dir, String(this.nextSeq).padStart(16, '0') + '.seg')
    const fd = openSync(path, 'a', 0o600)
    fsyncFile(this.dir)
    const seg: Segment = { firstSeq: this.nextSeq, path, size: 0, durable: 0, fd, syncing: false, deleted: false }
    this.segments.push(seg)
    return seg
  }

  /** Every message with a sequence number below `seq` is acknowledged. */
  ack (seq: number): void {
    if (seq <= this.acked) return
    this.acked = Math.min(seq, this.nextSeq)
    this.deleteAcked()
  }

  /**
   * Delete segments all of whose messages were acknowledged (never the active one). The mark
   * is saved first, so a restart never finds a segment missing below its mark (it would count
   * the messages it lacks as lost, or resend an older segment whose unlink had failed); when
   * it cannot be saved, the segments stay until the next try.
   */
  deleteAcked (): void {
    if (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      try { this.save(true) } catch { return /* see above: the next sync tries again */ }
    }
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      const s = this.segments.shift()!
      s.deleted = true
      this.onRemove(s)
      if (s.fd !== -1 && !s.syncing) { closeSync(s.fd); s.fd = -1 }
      this.unlinkPending.push(s)
    }
    this.retryUnlinks()
  }

  /** Unlink the segments waiting for it; a failure keeps the segment's bytes counted until a later try works. */
  retryUnlinks (): void {
    const pending = this.unlinkPending
    for (let i = 0; i < pending.length;) {
      const s = pending[i]!
      try {
        unlinkSync(s.path)
      } catch (err) {
        // Gone already is gone; anything else (EACCES, EISDIR, EIO…) still takes the space.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          // Told once per segment: the retries run on every sync tick.
          if (!this.unlinkFailed.has(s)) { this.unlinkFailed.add(s); this.onUnlinkError(s.path, (err as Error).message) }
          this.unlinkFailures++
          i++
          continue
        }
      }
      this.bytes -= s.size
      this.unlinkFailed.delete(s)
      pending.splice(i, 1)
    }
  }

  private load (): { epoch: string, ackedBelow: number } {
    const file = join(this.dir, STATE_FILE)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { epoch: randomBytes(8).toString('hex'), ackedBelow: 0 }
      throw new DaytwoError('CONFIG', `cannot read ${file}: ${(err as Error).message}`)
    }
    let doc: { version?: unknown, epoch?: unknown, ackedBelow?: unknown }
    try { doc = JSON.parse(text) as typeof doc } catch (err) {
      throw new DaytwoError('CONFIG', `${file} is corrupt (${(err as Error).message}); move ${this.dir} away to start with an empty spool`)
    }
    if (!READS_VERSIONS.includes(doc.version as number) || typeof doc.ackedBelow !== 'number' || typeof doc.epoch !== 'string') {
      throw new DaytwoError('CONFIG', `${file} has version ${String(doc.version)}; this daytwo reads versions ${READS_VERSIONS.slice(0, -1).join(', ')} and ${READS_VERSIONS[READS_VERSIONS.length - 1]!}`)
    }
    return { epoch: doc.epoch, ackedBelow: doc.ackedBelow }
  }

  /**
   * Save the acknowledged mark (at most once a second unless `force`). It only saves
   * resending after a restart, so a caller may ignore a failure; the next save tries again.
   * Saving writes version 3: a daytwo that reads only older versions refuses it with a clear
   * error instead of misreading chunks.
   */
  save (force = false): void {
    if (this.acked === this.savedAcked) return
    const now = Date.now()
    if (!force && now - this.savedAtMs < SAVE_ACKED_MS) return
    const file = join(this.dir, STATE_FILE)
    const tmp = file + '.new'
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, JSON.stringify({ version: SPOOL_VERSION, epoch: this.epoch, ackedBelow: this.acked }))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
    this.savedAcked = this.acked
    this.savedAtMs = now
  }
}

export function fsyncFile (path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
