import { isUtf8 } from 'node:buffer'
import type { FileHandle } from 'node:fs/promises'
import type { ForwarderConfig } from '../../core/config-schema.js'
import { streamId } from '../../core/ids.js'
import type { Entry, StreamTags } from '../../core/record.js'
import { nowNs, storableNs } from '../../core/time.js'
import type { Checkpoint, CheckpointStore } from '../checkpoints.js'
import { fingerprint, type Fingerprint } from '../fingerprint.js'
import { PartialAssembler } from '../formats/assembler.js'
import { parseCri } from '../formats/cri.js'
import { parseDocker } from '../formats/docker.js'
import { MultilineJoiner, type Piece } from '../formats/multiline.js'
import { LineSplitter, type RawLine } from '../line-splitter.js'
import type { ForwarderMetrics } from '../metrics.js'
import { StreamHandle, type Shipper } from '../shipper.js'
import type { PathTags } from '../tags.js'

const READ_CHUNK = 256 * 1024

export interface TailerInit {
  node: string
  path: string
  logicalPath: string
  file: FileHandle
  dev: number
  ino: number
  fp: Fingerprint
  /** The fingerprint the stream id comes from (the original's, for a copytruncate copy). */
  streamKey: string
  generation: number
  startOffset: number
  tags: PathTags
  cfg: ForwarderConfig
  multiline: MultilineJoiner | null
}

/** live: the path leads here; rotated: only a rotated name does; gone: no path does. */
export type TailerState = 'live' | 'rotated' | 'gone'

/**
 * Reads one file from an offset to its end, again and again: splits lines, takes off the
 * CRI or Docker envelope, joins partial and multiline records, and hands them to the
 * shipper. The stream id is (node, stream key, generation): a truncation (copytruncate)
 * starts a new generation at offset 0, and the file's last state before it is kept in the
 * checkpoints so that the copy can continue the old stream where it stopped.
 */
export class Tailer {
  path: string
  readonly logicalPath: string
  readonly dev: number
  readonly ino: number
  fp: Fingerprint
  private streamKey: string
  private generation: number
  private file: FileHandle | null
  private readOffset: number
  private acked: number
  private handle!: StreamHandle
  private readonly splitter: LineSplitter
  private readonly assembler: PartialAssembler
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK)
  private readonly lines: RawLine[] = []
  private readonly pieces: Piece[] = []
  /** After a truncation, until the file has a first line to fingerprint again. */
  private awaitingIdentity = false
  state: TailerState = 'live'
  stateSinceMs = Date.now()
  /** When the next poll is due (adaptive: idle files are polled less often while watched). */
  nextPollMs = 0
  private idleStreak = 0
  /** Size and mtime at the last identity check: unchanged means nothing to re-read. */
  private verifiedAt = ''

  constructor (private readonly init: TailerInit, private readonly shipper: Shipper, private readonly checkpoints: CheckpointStore, private readonly metrics: ForwarderMetrics) {
    this.path = init.path
    this.logicalPath = init.logicalPath
    this.dev = init.dev
    this.ino = init.ino
    this.fp = init.fp
    this.streamKey = init.streamKey
    this.file = init.file
    this.generation = init.generation
    this.readOffset = init.startOffset
    this.acked = init.startOffset
    const split = init.cfg.longLines === 'split' && init.tags.format === 'plain' ? 'split' : 'truncate'
    this.splitter = new LineSplitter(init.cfg.maxLineBytes, split)
    this.splitter.reset(init.startOffset)
    this.assembler = new PartialAssembler(init.cfg.maxLineBytes)
    this.newHandle()
    this.saveCheckpoint(init.startOffset)
  }

  get closed (): boolean { return this.file === null }
  /** Bytes read but not yet acknowledged. */
  get lagBytes (): number { return this.readOffset - this.acked }
  get offset (): number { return this.readOffset }

  setState (state: TailerState, nowMs: number): void {
    if (state === this.state) return
    this.state = state
    this.stateSinceMs = nowMs
    this.wake()
  }

  /** Poll at the next tick (inotify said something changed). */
  wake (): void {
    this.nextPollMs = 0
    this.idleStreak = 0
  }

  private newHandle (): void {
    const t = this.init.tags
    const tags: StreamTags = {
      id: streamId(this.init.node, this.streamKey, this.generation),
      source: 'file', node: this.init.node, deployment: t.deployment, job: t.job, index: t.index, process: t.process, path: this.logicalPath
    }
    if (t.namespace !== undefined) tags.namespace = t.namespace
    if (t.pod !== undefined) tags.pod = t.pod
    if (t.container !== undefined) tags.container = t.container
    const generation = this.generation
    this.handle = new StreamHandle(tags, (offset) => {
      // An ack for an older generation (before a truncation) must not move the new one.
      if (generation !== this.generation || this.awaitingIdentity) return
      this.acked = offset
      this.saveCheckpoint(offset)
    })
  }

  /** The stream's tags, as shipped (refined tags apply to lines read after the change). */
  get tags (): StreamTags { return this.handle.tags }

  retag (tags: Partial<PathTags>): void {
    Object.assign(this.init.tags, tags)
    this.newHandle()
  }

  private checkpoint (offset: number): Checkpoint {
    return {
      fingerprint: this.fp.key, streamKey: this.streamKey, generation: this.generation, offset, path: this.path, logicalPath: this.logicalPath,
      dev: this.dev, ino: this.ino, firstLine: this.fp.firstLine, updatedMs: Date.now()
    }
  }

  private saveCheckpoint (offset: number): void {
    this.checkpoints.set(this.checkpoint(offset))
  }

  /**
   * Read what is new, while the shipper has room; returns the bytes read.
   * `final`: the file will not grow any more (rotated or deleted, and waited for): its
   * unfinished last line and pending partial and multiline records are shipped as they are.
   */
  async poll (nowMs: number, final = false): Promise<number> {
    if (this.file === null) return 0
    const st = await this.file.stat()
    if (st.size < this.readOffset) this.truncated()
    if (this.awaitingIdentity && !await this.reidentify()) return 0
    let total = 0
    while (this.shipper.hasCapacity) {
      const { bytesRead } = await this.file.read(this.buf, 0, READ_CHUNK, this.readOffset)
      if (bytesRead === 0) break
      total += bytesRead
      this.splitter.push(this.buf.subarray(0, bytesRead), this.readOffset, this.lines)
      this.readOffset += bytesRead
      this.emitLines(nowMs)
    }
    if (total > 0) this.metrics.bytesRead.inc({ source: 'file' }, total)
    if (final && this.shipper.hasCapacity) {
      this.splitter.flush(this.readOffset, this.lines)
      this.emitLines(nowMs)
      // Drained partials get offsets past the end: unique and increasing, like real ones.
      let k = 0
      for (const a of this.assembler.drain()) this.ship({ ...a, offset: this.readOffset + k++, resume: this.readOffset }, nowMs)
      this.init.multiline?.flush(this.pieces)
      this.shipPieces()
      this.shipper.advance(this.handle, this.readOffset)
    } else if (this.init.multiline) {
      this.init.multiline.flushIdle(nowMs, this.pieces)
      this.shipPieces()
    }
    this.schedule(nowMs, total > 0)
    return total
  }

  private schedule (nowMs: number, busy: boolean): void {
    if (busy) { this.idleStreak = 0; this.nextPollMs = 0; return }
    this.idleStreak = Math.min(this.idleStreak + 1, 16)
    const cfg = this.init.cfg
    const cap = cfg.watch ? cfg.idlePollMaxMs : cfg.pollIntervalMs
    let wait = Math.min(cfg.pollIntervalMs * 2 ** (this.idleStreak - 1), cap)
    const since = this.init.multiline?.pendingSince ?? 0
    if (since > 0) wait = Math.min(wait, cfg.pollIntervalMs) // a pending multiline record needs its flush
    this.nextPollMs = nowMs + wait
  }

  /**
   * Re-read the first line: if it changed, the file was truncated and written again
   * (copytruncate) before a poll could see it shorter.
   */
  async verify (): Promise<void> {
    if (this.file === null || this.awaitingIdentity) return
    const st = await this.file.stat()
    if (st.size < this.readOffset) { this.truncated(); return }
    const seen = `${st.size}:${st.mtimeMs}`
    if (seen === this.verifiedAt) return
    this.verifiedAt = seen
    const fp = await fingerprint(this.file, this.dev, this.ino)
    if (fp !== null && fp.firstLine !== this.fp.firstLine) this.truncated()
  }

  private truncated (): void {
    // Keep the last state before the truncation: the copy logrotate made continues it.
    const frozen = { ...this.checkpoint(this.acked), truncated: true }
    this.checkpoints.set(frozen, `${this.fp.key}@${this.generation}`)
    this.metrics.truncations.inc()
    this.readOffset = 0
    this.acked = 0
    this.splitter.reset(0)
    this.assembler.reset()
    this.init.multiline?.flush(this.pieces)
    this.shipPieces()
    this.awaitingIdentity = true
  }

  /** After a truncation: the new content's identity, once it has a first line. */
  private async reidentify (): Promise<boolean> {
    const fp = await fingerprint(this.file!, this.dev, this.ino)
    if (fp === null) return false
    if (fp.key === this.fp.key) {
      this.generation++ // same first line: only a new generation tells old offsets from new
    } else {
      this.checkpoints.delete(this.fp.key)
      this.fp = fp
      this.streamKey = fp.key
      this.generation = 0
    }
    this.awaitingIdentity = false
    this.newHandle()
    this.saveCheckpoint(0)
    return true
  }

  private emitLines (nowMs: number): void {
    const lines = this.lines
    if (lines.length === 0) return
    this.metrics.linesRead.inc({ source: 'file' }, lines.length)
    const container = this.init.tags.format === 'container'
    // Plain lines carry no time of their own: they get the time they were read, one per
    // chunk (offsets order them; a BigInt per line would cost more than the split).
    const readNs = container ? '' : nowNs()
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!
      let text: string
      if (isUtf8(raw.bytes)) {
        text = raw.bytes.toString('utf8')
      } else {
        text = raw.bytes.toString('utf8') // invalid sequences become U+FFFD
        this.metrics.altered.inc({ reason: 'invalid_utf8' })
      }
      if (raw.truncated) this.metrics.altered.inc({ reason: 'truncated' })
      if (raw.split) this.metrics.altered.inc({ reason: 'split' })
      if (!container) {
        this.ship({ ts: readNs, stdio: '', message: text, truncated: false, offset: raw.offset, resume: raw.offset }, nowMs)
        continue
      }
      const parsed = text.charCodeAt(0) === 0x7b ? parseDocker(text) : parseCri(text)
      if (parsed === null) {
        // Not the envelope this file should have (a line cut by maxLineBytes, or garbage).
        this.metrics.drop('unparsed_envelope', 1, this.path)
        continue
      }
      if (!storableNs(parsed.ts)) {
        // A time before 1970 or after 2262 cannot be stored: keep the line, at its read time.
        parsed.ts = nowNs()
        this.metrics.altered.inc({ reason: 'bad_timestamp' })
      }
      const resume = this.assembler.safeOffset(raw.offset)
      const done = this.assembler.add(parsed, raw.offset)
      if (done === null) continue
      if (done.truncated) this.metrics.altered.inc({ reason: 'truncated' })
      this.ship({ ts: done.ts, stdio: done.stdio, message: done.message, truncated: done.truncated, offset: raw.offset, resume }, nowMs)
    }
    lines.length = 0
    this.shipPieces()
    // Nothing pending: every byte read so far is accounted for.
    const safe = this.safeOffset()
    this.shipper.advance(this.handle, safe)
  }

  private safeOffset (): number {
    const a = this.assembler.safeOffset(this.splitter.pendingOffset)
    return this.init.multiline ? this.init.multiline.safeOffset(a) : a
  }

  private ship (p: Piece, nowMs: number): void {
    if (this.init.multiline) this.init.multiline.add(p, nowMs, this.pieces)
    else this.pieces.push(p)
  }

  private shipPieces (): void {
    const pieces = this.pieces
    if (pieces.length === 0) return
    const safe = this.safeOffset()
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!
      const entry: Entry = [p.ts, p.offset, p.message, p.stdio]
      // Resume after this record, unless an earlier line is still pending.
      const next = i + 1 < pieces.length ? pieces[i + 1]!.resume : safe
      this.shipper.add(this.handle, entry, Buffer.byteLength(p.message), Math.min(next, safe))
    }
    pieces.length = 0
  }

  async close (): Promise<void> {
    const f = this.file
    this.file = null
    if (f) await f.close()
  }
}
