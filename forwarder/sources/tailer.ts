import { isAscii, isUtf8 } from 'node:buffer'
import { fstatSync, readSync, statSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import type { ForwarderConfig } from '../../core/config-schema.js'
import { streamId } from '../../core/ids.js'
import type { Entry, StreamTags } from '../../core/record.js'
import { nowNs, rfc3339ToNs, storableNs } from '../../core/time.js'
import { ANCHOR_BYTES, type Checkpoint, type CheckpointStore } from '../checkpoints.js'
import { FINGERPRINT_BYTES, fingerprint, fingerprintSync, firstLineHash, type Fingerprint } from '../fingerprint.js'
import { PartialAssembler } from '../formats/assembler.js'
import { CRI_SECOND_PREFIX, criScan, parseCri, scanCri } from '../formats/cri.js'
import { parseDocker } from '../formats/docker.js'
import { lineTimeNs, mayStartTime } from '../formats/line-time.js'
import { MultilineJoiner, type Piece } from '../formats/multiline.js'
import { LineSplitter, SPLIT, TRUNCATED, type LineSink } from '../line-splitter.js'
import type { ForwarderMetrics } from '../metrics.js'
import { StreamHandle, type Shipper } from '../shipper.js'
import type { PathTags } from '../tags.js'

/** Size of a source's read buffer (TailerInit.readBuffer). */
export const READ_CHUNK = 256 * 1024

export interface TailerInit {
  node: string
  path: string
  logicalPath: string
  file: FileHandle
  dev: number
  ino: number
  fp: Fingerprint
  /** Which stream the file's content continues (null: not known yet, ask `identify` at each poll). */
  identity: Identity | null
  identify: Identify
  /** Keep a truncated file's last state for its copy. */
  freeze: (cp: Checkpoint) => void
  tags: PathTags
  cfg: ForwarderConfig
  multiline: MultilineJoiner | null
  /** Where reads land: one buffer for all of a source's tailers, which are polled one at a time. */
  readBuffer: Buffer
}

/** The stream a file's bytes continue and where: the stream id is (node, streamKey, generation). */
export interface Identity {
  streamKey: string
  generation: number
  startOffset: number
  /** The bytes before startOffset that identify checked (base64; '' at 0, where the first line is checked instead). */
  anchor: string
}

/** What `identify` is asked about: a file (by its open descriptor) and its current content. */
export interface IdentityQuestion {
  path: string
  logicalPath: string
  dev: number
  ino: number
  fp: Fingerprint
  size: number
  fd: number
  /** The file was read before and its bytes were replaced (not first opened). */
  replaced: boolean
}

/** Decides which stream a file continues; null: not yet (a copy still being made, or its original not truncated yet). */
export type Identify = (q: IdentityQuestion) => Identity | null

/** A generation no earlier stream of this file can have had, even one whose checkpoint was lost. */
export function newGeneration (previous: number): number {
  return Math.max(previous + 1, Date.now() * 1000 + Math.floor(Math.random() * 1000))
}

/** The bytes just before `offset` (up to ANCHOR_BYTES), read from `fd`. */
export function anchorAt (fd: number, offset: number): Buffer {
  const n = Math.min(offset, ANCHOR_BYTES)
  const b = Buffer.alloc(n)
  const got = n === 0 ? 0 : readSync(fd, b, 0, n, offset - n)
  return got === n ? b : b.subarray(0, got)
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
  private readonly pieces: Piece[] = []
  /** Per chunk: the chunk being split, whether its whole lines are valid UTF-8, the read time. */
  private chunk: Buffer | null = null
  private chunkUtf8 = false
  private chunkAscii = false
  /**
   * A plain line without a time of its own gets the read time, made strictly increasing
   * within the stream (max(read time, previous + 1 ns)): no ties, and time order is file
   * order. Kept as its seconds digits and a nanosecond count, so a line costs no string.
   */
  private seqSec = ''
  private seqFrac = 0
  private nowMs = 0
  private chunkLines = 0
  /** The last CRI time's second (`YYYY-MM-DDTHH:MM:SS`, the part consecutive lines share, as bytes) and its Unix seconds digits. */
  private readonly secondKey = Buffer.alloc(CRI_SECOND_PREFIX)
  private secondDigits = ''
  private readonly container: boolean
  /** Where scanCri puts a line's envelope: one for all lines. */
  private readonly cri = criScan()
  /** After a truncation, until the file has a first line to fingerprint again. */
  private awaitingIdentity = false
  /** Since when `awaitingIdentity` holds. */
  unidentifiedSinceMs = 0
  state: TailerState = 'live'
  stateSinceMs = Date.now()
  /** When the next poll is due (adaptive: idle files are polled less often while watched). */
  nextPollMs = 0
  private idleStreak = 0
  /** Size and mtime at the last identity check: unchanged means nothing to re-read. */
  private verifiedAt = ''
  /** The start of the last line that took the general way, and the envelope of the last partial. */
  private lastGeneralOffset = 0
  private partialFormat = 'cri'
  /** The last bytes read (up to ANCHOR_BYTES before readOffset): each read starts with them, to see replaced content. */
  private readonly anchor = Buffer.alloc(ANCHOR_BYTES)
  private anchorLen = 0
  /** `anchor` of the acknowledged offset, as the checkpoint keeps it (base64). */
  private ackedAnchor = ''
  /** Changes with each new identity: acks of an earlier one must not move this one. */
  private epoch = 0
  /** The next read starts at 0 and must begin with the identified first line. */
  private checkFirstLine = false
  private inPoll = false

  constructor (private readonly init: TailerInit, private readonly shipper: Shipper, private readonly checkpoints: CheckpointStore, private readonly metrics: ForwarderMetrics) {
    this.path = init.path
    this.logicalPath = init.logicalPath
    this.dev = init.dev
    this.ino = init.ino
    this.fp = init.fp
    this.file = init.file
    const id = init.identity
    this.streamKey = id?.streamKey ?? init.fp.key
    this.generation = id?.generation ?? 0
    this.readOffset = id?.startOffset ?? 0
    this.acked = this.readOffset
    this.awaitingIdentity = id === null
    this.unidentifiedSinceMs = Date.now()
    const split = init.cfg.longLines === 'split' && init.tags.format === 'plain' ? 'split' : 'truncate'
    this.splitter = new LineSplitter(init.cfg.maxLineBytes, split)
    this.splitter.reset(this.readOffset)
    this.assembler = new PartialAssembler(init.cfg.maxLineBytes)
    this.container = init.tags.format === 'container'
    this.newHandle()
    if (id !== null) this.startAt(id)
  }

  /**
   * Start reading the identified stream where identify said, with the bytes it checked
   * there as the anchor: if the file changes before the first read, that read sees it. At
   * offset 0 the first read checks the first line against the fingerprint instead.
   */
  private startAt (id: Identity): void {
    const offset = id.startOffset
    this.readOffset = offset
    this.acked = offset
    this.splitter.reset(offset)
    const a = Buffer.from(id.anchor, 'base64')
    a.copy(this.anchor)
    this.anchorLen = a.length
    this.ackedAnchor = id.anchor
    this.checkFirstLine = offset === 0
    this.saveCheckpoint(offset)
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
    const epoch = this.epoch
    this.handle = new StreamHandle(tags, (offset) => {
      // An ack for an older identity (before a truncation) must not move the new one.
      if (epoch !== this.epoch || this.awaitingIdentity) return
      const anchor = this.anchorOf(offset)
      if (anchor === null) return // the file changed under us: keep the last checkpoint we can vouch for
      this.acked = offset
      this.ackedAnchor = anchor
      this.saveCheckpoint(offset)
    })
  }

  /**
   * The anchor of an acknowledged offset, read back from the file; null unless the file still
   * holds what was read (its bytes before readOffset are the ones in memory).
   */
  private anchorOf (offset: number): string | null {
    if (offset === this.readOffset) return this.anchor.toString('base64', 0, this.anchorLen)
    if (this.file === null || offset > this.readOffset) return null
    try {
      const now = anchorAt(this.file.fd, this.readOffset)
      if (now.length !== this.anchorLen || now.compare(this.anchor, 0, this.anchorLen) !== 0) return null
      return anchorAt(this.file.fd, offset).toString('base64')
    } catch {
      return null
    }
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
      dev: this.dev, ino: this.ino, firstLine: this.fp.firstLine, anchor: this.ackedAnchor, updatedMs: Date.now()
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
    if (this.file === null || this.inPoll) return 0
    this.inPoll = true
    try {
      return await this.pollOnce(nowMs, final)
    } finally {
      this.inPoll = false
    }
  }

  private async pollOnce (nowMs: number, final: boolean): Promise<number> {
    if (this.file === null) return 0
    const st = await this.file.stat()
    if (st.size < this.readOffset) this.truncated()
    if (this.awaitingIdentity && !await this.reidentify()) { this.nextPollMs = nowMs + this.init.cfg.pollIntervalMs; return 0 }
    let total = 0
    while (this.shipper.hasCapacity) {
      const buf = this.init.readBuffer
      // Each read starts with the bytes before readOffset: if they are not the ones read
      // before, the file was truncated and written again (a copy made onto it, in place),
      // whatever its size now.
      const a = this.anchorLen
      // A synchronous read: from the page cache it takes ~0.1 ms for 256 KiB, less than the
      // thread pool's round trip, which left the loop idle a third of the time (measured, F1).
      const bytesRead = readSync(this.file.fd, buf, 0, buf.length, this.readOffset - a)
      if (a > 0 && (bytesRead < a || buf.compare(this.anchor, 0, a, 0, a) !== 0)) {
        this.truncated()
        if (!await this.reidentify()) break
        continue
      }
      if (bytesRead === a) break
      if (this.checkFirstLine && a === 0) {
        // Identified at offset 0: the bytes read must start with the first line identified.
        if (firstLineHash(buf.subarray(0, Math.min(bytesRead, FINGERPRINT_BYTES))) !== this.fp.firstLine) {
          this.truncated()
          if (!await this.reidentify()) break
          continue
        }
        this.checkFirstLine = false
      }
      total += bytesRead - a
      const chunk = buf.subarray(a, bytesRead)
      this.startChunk(chunk, nowMs)
      this.splitter.scan(chunk, this.readOffset, this.onLine)
      this.readOffset += chunk.length
      const n = Math.min(ANCHOR_BYTES, bytesRead)
      buf.copy(this.anchor, 0, bytesRead - n, bytesRead)
      this.anchorLen = n
      this.endChunk()
    }
    if (total > 0) this.metrics.bytesRead.inc({ source: 'file' }, total)
    if (final && this.shipper.hasCapacity) {
      this.startChunk(null, nowMs)
      this.splitter.flushTo(this.readOffset, this.onLine)
      this.endChunk()
      // Drained partials get offsets past the end: unique and increasing, like real ones.
      let k = 0
      for (const a of this.assembler.drain()) {
        this.metrics.partialsFlushed.inc({ format: this.partialFormat })
        this.ship({ ...a, offset: this.readOffset + k++, resume: this.readOffset }, this.readOffset, nowMs)
      }
      this.init.multiline?.flush(this.pieces)
      this.shipPieces()
      this.shipper.advance(this.handle, this.readOffset)
    } else {
      if (this.assembler.hasPending && nowMs - this.assembler.pendingSince >= this.init.cfg.partialFlushMs) this.flushStalePartials(nowMs)
      if (this.init.multiline) {
        this.init.multiline.flushIdle(nowMs, this.pieces)
        this.shipPieces()
      }
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
    const partial = this.assembler.pendingSince
    if (partial > 0) wait = Math.min(wait, Math.max(cfg.pollIntervalMs, partial + cfg.partialFlushMs - nowMs))
    this.nextPollMs = nowMs + wait
  }

  /**
   * Re-read the first line: if it changed, the file was truncated and written again
   * (copytruncate) before a poll could see it shorter.
   */
  async verify (): Promise<void> {
    if (this.file === null || this.awaitingIdentity || this.inPoll) return
    // A poll may run while this awaits (scans and polls interleave): whatever it found by
    // then wins, or the same truncation would start two generations.
    const epoch = this.epoch
    const unchanged = () => epoch === this.epoch && !this.inPoll && !this.awaitingIdentity && this.file !== null
    const st = await this.file.stat()
    if (!unchanged()) return
    if (st.size < this.readOffset) { this.truncated(); return }
    const seen = `${st.size}:${st.mtimeMs}`
    if (seen === this.verifiedAt) return
    this.verifiedAt = seen
    const fp = await fingerprint(this.file, this.dev, this.ino)
    if (unchanged() && fp !== null && fp.firstLine !== this.fp.firstLine) this.truncated()
  }

  /** Whether the live name leads to this file now (not only a rotated one). */
  private isLive (): boolean {
    try {
      const st = statSync(this.logicalPath)
      return st.ino === this.ino && st.dev === this.dev
    } catch {
      return false
    }
  }

  private truncated (): void {
    // Keep the last state before the truncation: the copy logrotate made continues it. A
    // rotated file that was written over (a copy made onto it) has no copy of its own.
    if (this.isLive()) {
      const frozen: Checkpoint = {
        ...this.checkpoint(this.acked), truncated: true, readOffset: this.readOffset, readAnchor: this.anchor.toString('base64', 0, this.anchorLen)
      }
      this.init.freeze(frozen)
    }
    this.metrics.truncations.inc()
    this.epoch++
    this.readOffset = 0
    this.acked = 0
    this.anchorLen = 0
    this.ackedAnchor = ''
    this.splitter.reset(0)
    this.assembler.reset()
    this.init.multiline?.flush(this.pieces)
    this.shipPieces()
    this.awaitingIdentity = true
    this.unidentifiedSinceMs = Date.now()
  }

  /** After a truncation (or at open, for a copy not yet tied to its original): the content's identity, once it has a first line. */
  private async reidentify (): Promise<boolean> {
    const file = this.file!
    // Synchronously, so that the first line, the size and the anchors identify checks are
    // all of the same bytes (an await between them let a copy land in between).
    const fp = fingerprintSync(file.fd, this.dev, this.ino)
    if (fp === null) return false
    const size = fstatSync(file.fd).size
    const id = this.init.identify({ path: this.path, logicalPath: this.logicalPath, dev: this.dev, ino: this.ino, fp, size, fd: file.fd, replaced: true })
    if (id === null) return false
    if (fp.key !== this.fp.key) this.checkpoints.delete(this.fp.key)
    this.fp = fp
    this.streamKey = id.streamKey
    this.generation = id.generation
    this.awaitingIdentity = false
    this.epoch++
    this.verifiedAt = ''
    this.newHandle()
    this.startAt(id)
    // A new identity is written at once: after a crash, the old one must not be resumed on these bytes.
    try { this.checkpoints.flush() } catch { /* the timer's flush retries and reports the error */ }
    // A rotated file written over is busy again: not closed as idle yet.
    this.stateSinceMs = Date.now()
    return true
  }

  /** Still waiting to learn which stream the file continues. */
  get unidentified (): boolean { return this.awaitingIdentity }

  /**
   * Partials no line finished within partialFlushMs, shipped as they are. Their offsets come
   * just after the start of the last line read (a line is longer than two bytes, and every
   * line since a partial became pending took the general way, so none is past it): above
   * every id shipped so far, below the next line's, and inside a line, so no other record
   * ever has them.
   */
  private flushStalePartials (nowMs: number): void {
    let k = 1
    for (const a of this.assembler.drainStale(nowMs, this.init.cfg.partialFlushMs)) {
      this.metrics.partialsFlushed.inc({ format: this.partialFormat })
      this.ship({ ...a, offset: this.lastGeneralOffset + k++, resume: a.start ?? this.readOffset }, this.readOffset, nowMs)
    }
    this.shipPieces()
    this.shipper.advance(this.handle, this.safeOffset())
  }

  private startChunk (chunk: Buffer | null, nowMs: number): void {
    this.chunk = chunk
    const lastNl = chunk === null ? -1 : chunk.lastIndexOf(0x0a)
    // One check for all the chunk's whole lines, instead of one per line.
    this.chunkAscii = lastNl >= 0 && isAscii(chunk!.subarray(0, lastNl + 1))
    this.chunkUtf8 = this.chunkAscii || (lastNl >= 0 && isUtf8(chunk!.subarray(0, lastNl + 1)))
    if (!this.container) this.advanceReadTime(nowNs())
    this.nowMs = nowMs
    this.chunkLines = 0
  }

  private endChunk (): void {
    this.chunk = null
    if (this.chunkLines === 0) return
    this.metrics.linesRead.inc({ source: 'file' }, this.chunkLines)
    this.shipPieces()
    // Nothing pending: every byte read so far is accounted for.
    this.shipper.advance(this.handle, this.safeOffset())
  }

  /**
   * One line from the splitter. Most lines take the direct way: their bytes are written
   * into the batch in the wire format (no string, no object per line). Whatever that way
   * does not cover — Docker JSON, CRI partials and what is pending behind them, multiline
   * records, invalid UTF-8, unusual times, envelopes that do not parse — takes the general
   * way below it, which does the same with strings.
   */
  private readonly onLine: LineSink = (buf, start, end, offset, next, flags) => {
    this.chunkLines++
    if (flags !== 0) {
      if ((flags & TRUNCATED) !== 0) this.metrics.altered.inc({ reason: 'truncated' })
      if ((flags & SPLIT) !== 0) this.metrics.altered.inc({ reason: 'split' })
    }
    if (this.init.multiline === null && !this.assembler.hasPending &&
        ((buf === this.chunk && this.chunkUtf8) || isUtf8(buf.subarray(start, end)))) {
      if (!this.container) {
        const ts = mayStartTime(buf, start, end) ? this.leadingTime(buf, start, end) : null
        if (ts !== null) { this.followLineTime(ts); this.writeDirect(buf, start, end, offset, next, ts, '', '', 0) } else this.writeReadTime(buf, start, end, offset, next)
        return
      }
      if (this.writeCri(buf, start, end, offset, next)) return
    }
    this.generalLine(buf.subarray(start, end), offset, next)
  }

  /**
   * A CRI line `<time> <stdout|stderr> F[:tags] <message>` whose time is UTC (`Z`) with up
   * to nine fractional digits: written directly. False for anything else (the general way
   * then parses it, or counts it as unparsed). The envelope is read by scanCri, as parseCri reads it.
   */
  private writeCri (buf: Buffer, start: number, end: number, offset: number, next: number): boolean {
    const r = this.cri
    if (!scanCri(buf, start, end, r) || r.partial /* a P goes the general way */) return false
    const fracEnd = r.fracEnd
    if (buf[start + 10] !== 0x54 /* T */ || fracEnd - r.fracStart > 9 || buf[fracEnd] !== 0x5a /* Z */ || r.timeEnd !== fracEnd + 1) return false
    if (!this.sameSecond(buf, start) && !this.newSecond(buf, start, r.timeEnd)) return false
    this.writeDirect(buf, r.msgStart, end, offset, next, this.secondDigits, r.stdio, buf, r.fracStart, fracEnd)
    return true
  }

  private sameSecond (buf: Buffer, start: number): boolean {
    if (this.secondDigits === '') return false
    const key = this.secondKey
    for (let k = CRI_SECOND_PREFIX - 1; k >= 0; k--) if (buf[start + k] !== key[k]) return false
    return true
  }

  /** A new second: parsed once the general way, then cached. False if it cannot be stored as it is. */
  private newSecond (buf: Buffer, start: number, end: number): boolean {
    const ns = rfc3339ToNs(buf.toString('latin1', start, end))
    // Whole seconds from 1 to 9223372035: any nine fractional digits then fit signed 64 bits.
    if (ns === null || !storableNs(ns) || ns.length < 10 || (ns.length === 19 && ns >= '9223372036')) return false
    buf.copy(this.secondKey, 0, start, start + CRI_SECOND_PREFIX)
    this.secondDigits = ns.slice(0, ns.length - 9)
    return true
  }

  /**
   * Write one record into the open batch: time = `seconds` + fractional digits
   * `frac[fracStart, fracEnd)` padded to nine (or `seconds` alone, a whole ns time, when
   * `frac` is ''), message = `buf[start, end)`.
   */
  private writeDirect (buf: Buffer, start: number, end: number, offset: number, next: number, seconds: string, stdio: string, frac: Buffer | '', fracStart: number, fracEnd = fracStart): void {
    const shipper = this.shipper
    const w = shipper.writer(this.handle)
    const len = end - start
    w.begin(len)
    w.ascii(seconds)
    if (frac !== '') {
      w.raw(frac, fracStart, fracEnd)
      w.zeros(9 - (fracEnd - fracStart))
    }
    w.finish(offset, stdio, buf, start, end)
    if (shipper.observers.length > 0) shipper.observeBytes(this.handle, stdio, buf, start, end, buf === this.chunk && this.chunkAscii)
    shipper.wrote(len, next)
  }

  /**
   * The time a plain line starts with (forwarder/formats/line-time.ts), or null: none, or
   * one that is no real time or lies more than lineTimeMaxSkewMs from the read time — then
   * the line keeps the read time, counted in lines_altered_total.
   */
  private leadingTime (buf: Buffer, start: number, end: number): string | null {
    const t = lineTimeNs(buf, start, end, { zone: 'local', nowMs: this.nowMs })
    if (t === 'none') return null
    if (t === 'bad' || !storableNs(t)) { this.metrics.altered.inc({ reason: 'unparsed_timestamp' }); return null }
    if (Math.abs(Number(t.slice(0, -6)) - this.nowMs) > this.init.cfg.lineTimeMaxSkewMs) { this.metrics.altered.inc({ reason: 'far_timestamp' }); return null }
    return t
  }

  /** A new read time (Unix ns): the sequence moves to it unless it is not past the last one. */
  private advanceReadTime (ns: string): void {
    const sec = ns.slice(0, -9)
    const frac = Number(ns.slice(-9))
    const cur = this.seqSec
    if (sec.length > cur.length || (sec.length === cur.length && (sec > cur || (sec === cur && frac > this.seqFrac)))) {
      this.seqSec = sec
      this.seqFrac = frac - 1 // nextReadTime adds the 1
    }
  }

  /**
   * A line that carries its time moves the sequence there, up or down: the lines after it that
   * carry none (a stack trace's, a wrapped message's) get its time + 1 ns, + 2 ns…, and so
   * sort right after it, as Promtail's timestamp stage does (action_on_failure: fudge). The
   * next read moves the sequence on to the read time again (advanceReadTime).
   */
  private followLineTime (ns: string): void {
    this.seqSec = ns.slice(0, -9)
    this.seqFrac = Number(ns.slice(-9))
  }

  private nextReadTime (): void {
    if (++this.seqFrac > 999_999_999) { this.seqFrac = 0; this.seqSec = String(Number(this.seqSec) + 1) }
  }

  /** writeDirect at the next read time, its digits written without a string. */
  private writeReadTime (buf: Buffer, start: number, end: number, offset: number, next: number): void {
    this.nextReadTime()
    const shipper = this.shipper
    const w = shipper.writer(this.handle)
    w.begin(end - start)
    w.ascii(this.seqSec)
    w.digits9(this.seqFrac)
    w.finish(offset, '', buf, start, end)
    if (shipper.observers.length > 0) shipper.observeBytes(this.handle, '', buf, start, end, buf === this.chunk && this.chunkAscii)
    shipper.wrote(end - start, next)
  }

  /** The general way: a string per line, the envelope parsed, partials joined. */
  private generalLine (bytes: Buffer, offset: number, next: number): void {
    const nowMs = this.nowMs
    this.lastGeneralOffset = offset
    // Invalid sequences are decoded as U+FFFD.
    if (!isUtf8(bytes)) this.metrics.altered.inc({ reason: 'invalid_utf8' })
    if (!this.container) {
      let ts = mayStartTime(bytes, 0, bytes.length) ? this.leadingTime(bytes, 0, bytes.length) : null
      if (ts === null) { this.nextReadTime(); ts = this.seqSec + String(this.seqFrac).padStart(9, '0') } else this.followLineTime(ts)
      this.ship({ ts, stdio: '', message: bytes.toString('utf8'), truncated: false, offset, resume: offset }, next, nowMs)
      return
    }
    const docker = bytes[0] === 0x7b
    // A CRI line is scanned as bytes (forwarder/formats/cri.ts): only its message becomes a string.
    const parsed = docker ? parseDocker(bytes.toString('utf8')) : parseCri(bytes)
    if (parsed === null) {
      // Not the envelope this file should have (a line cut by maxLineBytes, or garbage).
      this.metrics.drop('unparsed_envelope', 1, this.path)
      return
    }
    if (!storableNs(parsed.ts)) {
      // A time before 1970 or after 2262 cannot be stored: keep the line, at its read time.
      parsed.ts = nowNs()
      this.metrics.altered.inc({ reason: 'bad_timestamp' })
    }
    const resume = this.assembler.safeOffset(offset)
    if (parsed.partial) this.partialFormat = docker ? 'docker' : 'cri'
    const done = this.assembler.add(parsed, offset, nowMs)
    if (done === null) return
    if (done.truncated) this.metrics.altered.inc({ reason: 'truncated' })
    this.ship({ ts: done.ts, stdio: done.stdio, message: done.message, truncated: done.truncated, offset, resume }, next, nowMs)
  }

  private safeOffset (): number {
    const a = this.assembler.safeOffset(this.splitter.pendingOffset)
    return this.init.multiline ? this.init.multiline.safeOffset(a) : a
  }

  /**
   * A finished record. Without multiline joining it goes to the batch at once (resuming
   * after its line, or at a partial still pending); with it, it waits in `pieces`.
   */
  private ship (p: Piece, next: number, nowMs: number): void {
    if (this.init.multiline) { this.init.multiline.add(p, nowMs, this.pieces); return }
    this.shipper.add(this.handle, [p.ts, p.offset, p.message, p.stdio], Buffer.byteLength(p.message), this.assembler.safeOffset(next))
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
