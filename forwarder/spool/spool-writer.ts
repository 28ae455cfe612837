import { closeSync, fsync, fsyncSync, openSync, writeSync } from 'node:fs'
import type { Attributes, StreamTags } from '../../core/record.js'
import { encodeAttributes, encodeStream, messageAt, messageRecordBound, sealRecord, setIndex, writeMessageRecord } from './spool-codec.js'
import type { Segment, SpoolLedger } from './spool-ledger.js'

// The spool's writer: encodes appended messages into a write buffer, writes it to the active
// segment with one write() per socket callback, rolls segments, and fsyncs on its policy.
//
// The first append schedules a flush with process.nextTick, which runs before any other I/O
// callback (a /metrics request, the fsync timer, another socket). So whenever anything else
// runs, every message `append` accepted is in the segment file (the page cache: it survives
// kill -9), exactly as when each message was written on its own.
//
// fsync policy: on the timer (fsyncIntervalMs), and at once (syncNow) when the reader caught
// up and at least SYNC_NOW_BYTES wait. A segment's `durable` moves only after an fsync, and
// only to the end of a record that was wholly written, so the reader never sees half a record.

/** Unsynced bytes for which a reader that caught up asks for an fsync before the timer's. */
const SYNC_NOW_BYTES = 1 << 20
/** The write buffer; one message larger than this grows it. */
const WRITE_CHUNK = 256 << 10

export interface WriterOptions {
  maxBytes: number
  segmentBytes: number
}

export class SpoolWriter {
  /** Stream id → its number in the active segment, and the next number. */
  private streams = new Map<string, number>()
  private nextStream = 0
  /** Encoded records not yet written to the active segment (they count in its size). */
  private wbuf = Buffer.allocUnsafe(WRITE_CHUNK)
  private wlen = 0
  /** The active segment's bytes up to the end of the last record wholly written. */
  private written = 0
  private flushQueued = false
  private readonly flushTick = (): void => { this.flushQueued = false; this.flush() }
  /** Why the last write failed (ENOSPC: the disk is full), until a write succeeds again. */
  writeError: string | null = null
  /** Called when writing starts failing (with the error) and when it works again (null). */
  onWriteError: (message: string | null) => void = () => {}
  /** Called after an fsync made more messages readable. */
  onDurable: () => void = () => {}
  /** The attributes object appended last and its JSON (senders repeat them message after message). */
  private lastAttrs: Attributes | undefined = undefined
  private lastAttrsJson: Buffer | null = null
  /** Where the last record starts in wbuf, and its message. */
  private lastRecord = 0
  private lastMessage = 0
  /** appendBytes' last record up to its message, and what it is made of; the last call's inputs. */
  private prefix: Buffer | null = null
  private prefixTags: StreamTags | null = null
  private prefixTs = ''
  private prefixAttrs: Attributes | undefined = undefined
  private prefixSeg: Segment | null = null
  private headTags: StreamTags | null = null
  private headTs = ''
  private headAttrs: Attributes | undefined = undefined
  private closed = false

  /**
   * `streams` are the active segment's stream numbers (from recovery), `nextStream` the
   * number after its highest.
   */
  constructor (private readonly ledger: SpoolLedger, private readonly opts: WriterOptions, streams: Array<StreamTags | undefined>) {
    streams.forEach((t, i) => { if (t !== undefined) this.streams.set(t.id, i) })
    this.nextStream = streams.length
    this.written = ledger.active.size
  }

  /** Append one message; returns its sequence number, or null when the spool is full. */
  append (tags: StreamTags, tsNs: string, message: string, attrs?: Attributes): number | null {
    if (this.writeError !== null && !this.flush()) return null
    return this.appendRecord(tags, tsNs, message, 0, message.length * 3, attrs)
  }

  /** Append the message `src[start, end)` (valid UTF-8); like `append`, without a string. */
  appendBytes (tags: StreamTags, tsNs: string, src: Buffer, start: number, end: number, attrs?: Attributes): number | null {
    if (this.writeError !== null && !this.flush()) return null
    const l = this.ledger
    const active = l.active
    const pre = this.prefix
    if (pre !== null && tags === this.prefixTags && tsNs === this.prefixTs && attrs === this.prefixAttrs && active === this.prefixSeg && active.size < this.opts.segmentBytes) {
      // The same stream, time and attributes as the last record: copy its bytes up to the message.
      const need = pre.length + end - start + 4
      if (l.bytes + need <= this.opts.maxBytes) {
        if (this.wlen + need > this.wbuf.length) {
          if (!this.flush()) return null
          if (need > this.wbuf.length) this.wbuf = Buffer.allocUnsafe(need)
        }
        const b = this.wbuf
        const p = this.wlen
        pre.copy(b, p)
        setIndex(b, p, l.nextSeq - active.firstSeq)
        src.copy(b, p + pre.length, start, end)
        this.wlen = sealRecord(b, p, p + pre.length + end - start)
        active.size += need
        l.bytes += need
        this.queueFlush()
        return l.nextSeq++
      }
    }
    const seq = this.appendRecord(tags, tsNs, src, start, end, attrs)
    // Learn the record's head once the same (stream, time, attributes) came twice in a row.
    if (seq !== null && tags === this.headTags && tsNs === this.headTs && attrs === this.headAttrs) {
      this.prefix = Buffer.from(this.wbuf.subarray(this.lastRecord, this.lastMessage))
      this.prefixTags = tags
      this.prefixTs = tsNs
      this.prefixAttrs = attrs
      this.prefixSeg = l.active
    }
    this.headTags = tags
    this.headTs = tsNs
    this.headAttrs = attrs
    return seq
  }

  /** `end` is the message's end in `src` (bytes), or for a string its largest UTF-8 length. */
  private appendRecord (tags: StreamTags, tsNs: string, src: string | Buffer, start: number, end: number, attrs: Attributes | undefined): number | null {
    const l = this.ledger
    let active = l.active
    if (active.size >= this.opts.segmentBytes) {
      const next = this.roll()
      if (next === null) return null
      active = next
    }
    const known = this.streams.get(tags.id)
    const streamNo = known ?? this.nextStream
    const def = known === undefined ? encodeStream(streamNo, tags) : null
    let json: Buffer | null = null
    if (attrs !== undefined) {
      if (attrs !== this.lastAttrs) { this.lastAttrsJson = encodeAttributes(attrs); this.lastAttrs = attrs }
      json = this.lastAttrsJson
    }
    const bound = (def?.length ?? 0) + messageRecordBound(tsNs, json, typeof src === 'string' ? end : end - start)
    if (this.wlen + bound > this.wbuf.length) {
      if (!this.flush()) return null
      if (bound > this.wbuf.length) this.wbuf = Buffer.allocUnsafe(bound)
    }
    // Encode where the record would go; it counts only once the bound checks pass.
    let p = this.wlen
    if (def !== null) p += def.copy(this.wbuf, p)
    const recordAt = p
    p = writeMessageRecord(this.wbuf, p, l.nextSeq - active.firstSeq, streamNo, tsNs, json, src, start, end)
    const need = p - this.wlen
    if (l.bytes + need > this.opts.maxBytes) {
      // Everything spooled was acknowledged, but the active segment still holds it: roll.
      if (l.acked === l.nextSeq && active.size > 0) {
        if (this.roll() === null) return null
        return this.appendRecord(tags, tsNs, src, start, end, attrs)
      }
      return null
    }
    if (def !== null) { this.streams.set(tags.id, streamNo); this.nextStream++ }
    this.lastRecord = recordAt
    this.lastMessage = recordAt + messageAt
    this.wlen = p
    active.size += need
    l.bytes += need
    this.queueFlush()
    return l.nextSeq++
  }

  private queueFlush (): void {
    if (!this.flushQueued) { this.flushQueued = true; process.nextTick(this.flushTick) }
  }

  /**
   * Write what was appended to the active segment. False when the write failed (a full disk):
   * what was not written stays, in order, for the next try, and appends are refused meanwhile
   * (the caller counts them) instead of the process crashing.
   */
  flush (): boolean {
    if (this.wlen === 0) return true
    const b = this.wbuf
    const n = this.wlen
    let off = 0
    const fd = this.ledger.active.fd
    try {
      while (off < n) off += writeSync(fd, b, off, n - off)
    } catch (err) {
      if (off > 0) b.copyWithin(0, off, n)
      this.wlen = n - off
      const message = (err as Error).message
      if (this.writeError === null) this.onWriteError(message)
      this.writeError = message
      return false
    }
    this.wlen = 0
    this.written = this.ledger.active.size
    if (this.writeError !== null) { this.writeError = null; this.onWriteError(null) }
    return true
  }

  /** fsync what was written (the timer's tick). */
  sync (): void {
    this.flush()
    for (const seg of this.ledger.segments) if (seg.fd !== -1 && !seg.syncing && seg.durable < seg.size) this.fsyncSegment(seg)
  }

  /**
   * The reader caught up with what is durable and has room for more: when at least
   * SYNC_NOW_BYTES wait for the timer's fsync, fsync them now (one fsync at a time, each
   * covering all written before it). A trickle still waits for the timer, so it costs no more
   * fsyncs than before; a burst is shipped without waiting for the next tick.
   */
  syncNow (): void {
    const active = this.ledger.active
    if (this.closed || active.syncing || active.size - active.durable < SYNC_NOW_BYTES) return
    this.flush()
    this.fsyncSegment(active)
  }

  /** fsync a segment in the thread pool; what it covers becomes readable when it is done. */
  private fsyncSegment (seg: Segment): void {
    // Only whole records that are in the file: bytes still in wbuf (a failed write) are not.
    const target = seg === this.ledger.active ? this.written : seg.size
    seg.syncing = true
    fsync(seg.fd, (err) => {
      seg.syncing = false
      if (!err && seg.durable < target) seg.durable = target
      const active = seg === this.ledger.active && !seg.deleted && !this.closed
      if (!active && (seg.deleted || seg.durable === seg.size)) {
        closeSync(seg.fd)
        seg.fd = -1
      } else if (!active && !err) {
        this.fsyncSegment(seg) // rolled while an older fsync was in flight: its tail still needs one
      }
      // On error the timer tries again.
      if (!err && !this.closed) this.onDurable()
    })
  }

  /** Flush and fsync everything now, and release the descriptors (close). */
  close (): void {
    this.flush()
    this.closed = true
    const active = this.ledger.active
    for (const seg of this.ledger.segments) {
      if (seg.fd === -1) continue
      try { fsyncSync(seg.fd) } catch { continue } // not durable: the next start fsyncs (and reads) it
      seg.durable = seg === active ? this.written : seg.size
      // An fsync in flight closes the descriptor when it is done.
      if (!seg.syncing) { closeSync(seg.fd); seg.fd = -1 }
    }
  }

  /** Start a new segment; the old one is fsynced in the background and readable once that is done. */
  private roll (): Segment | null {
    const l = this.ledger
    const old = l.active
    if (!this.flush()) return null
    try {
      l.addSegment()
    } catch {
      return null // no new segment file (no space, no inode): the message is refused and counted
    }
    this.streams = new Map()
    this.nextStream = 0
    this.written = 0
    if (!old.syncing) this.fsyncSegment(old)
    l.deleteAcked()
    return l.active
  }
}

/** Open the active segment for appending (at the start, after recovery). */
export function openActive (seg: Segment): void {
  seg.fd = openSync(seg.path, 'a')
}
