import { closeSync, fsync, fsyncSync, openSync, writeSync } from 'node:fs'
import type { Attributes, StreamTags } from '../../core/record.js'
import { FRAME_BYTES, beginChunk, encodeAttributes, encodeStream, finishRecord, messageAt, messageRecordBound, sealChunk, setIndex, writeMessageRecord } from './spool-codec.js'
import type { Segment, SpoolLedger } from './spool-ledger.js'

// The spool's writer: encodes appended messages into a write buffer, writes it to the active
// segment with one write() per socket callback, rolls segments, and fsyncs on its policy.
// What one flush writes is one chunk (spool-codec.ts): the buffer starts with the chunk's
// head, the records follow without a checksum of their own, and the flush seals it with one
// CRC32C over all of it — one checksum call per write() instead of one per message. A chunk
// defines the streams its messages use (with the numbers they have in the segment), so it can
// be read without the others: one that fails its checksum loses only its own messages.
//
// The first append schedules a flush with process.nextTick, which runs before any other I/O
// callback (a /metrics request, the fsync timer, another socket). So whenever anything else
// runs, every message `append` accepted is in the segment file (the page cache: it survives
// kill -9), exactly as when each message was written on its own.
//
// fsync policy: on the timer (fsyncIntervalMs), and at once (syncNow) when the reader caught
// up and at least SYNC_NOW_BYTES wait. A segment's `durable` moves only after an fsync, and
// only to the end of a chunk that was wholly written, so the reader never sees half a chunk.

/** Unsynced bytes for which a reader that caught up asks for an fsync before the timer's. */
const SYNC_NOW_BYTES = 1 << 20
/** The write buffer; one message larger than this grows it. */
const WRITE_CHUNK = 256 << 10

/** A stream of the active segment: its number, its definition record, the chunk that defined it last. */
interface SegmentStream { no: number, record: Buffer, chunk: number }

export interface WriterOptions {
  maxBytes: number
  segmentBytes: number
}

export class SpoolWriter {
  /** Stream id → its number in the active segment, and the next number. */
  private streams = new Map<string, SegmentStream>()
  private nextStream = 0
  /** Counts the chunks begun: the one in wbuf, when wlen > 0. */
  private chunkNo = 0
  /**
   * The chunk not yet written to the active segment: its head and records up to wlen (0: no
   * chunk begun). Its bytes, with the CRC32C to come, count in the segment's size.
   */
  private wbuf = Buffer.allocUnsafe(WRITE_CHUNK)
  private wlen = 0
  /**
   * The chunk in wbuf has its checksum: a write failed part way, and what is left is the rest
   * of that chunk, to be written as it is (no append is taken meanwhile, see flush).
   */
  private sealed = false
  /** The active segment's bytes up to the end of the last chunk wholly written. */
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
  private prefixStream: SegmentStream | null = null
  private headTags: StreamTags | null = null
  private headTs = ''
  private headAttrs: Attributes | undefined = undefined
  private closed = false

  /**
   * `streams` are the active segment's stream numbers (from recovery), `nextStream` the
   * number after its highest.
   */
  constructor (private readonly ledger: SpoolLedger, private readonly opts: WriterOptions, streams: Array<StreamTags | undefined>) {
    streams.forEach((t, i) => { if (t !== undefined) this.streams.set(t.id, { no: i, record: encodeStream(i, t), chunk: -1 }) })
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
    // The same stream, time and attributes as the last record, in a chunk that defines the
    // stream, with room for it: copy the last record's bytes up to the message. (Otherwise
    // appendRecord: it begins a chunk, defines the stream in it, or makes room.)
    const record = pre === null ? 0 : pre.length + end - start
    if (pre !== null && tags === this.prefixTags && tsNs === this.prefixTs && attrs === this.prefixAttrs && active === this.prefixSeg && active.size < this.opts.segmentBytes &&
      this.wlen > 0 && this.prefixStream!.chunk === this.chunkNo && this.wlen + record + FRAME_BYTES <= this.wbuf.length) {
      const need = record
      if (l.bytes + need <= this.opts.maxBytes) {
        const b = this.wbuf
        const p = this.wlen
        pre.copy(b, p)
        setIndex(b, p, l.nextSeq - active.firstSeq)
        src.copy(b, p + pre.length, start, end)
        this.wlen = finishRecord(b, p, p + record)
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
      this.prefixStream = this.streams.get(tags.id)!
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
    const streamNo = known?.no ?? this.nextStream
    const fresh = known === undefined ? encodeStream(streamNo, tags) : null
    let json: Buffer | null = null
    if (attrs !== undefined) {
      if (attrs !== this.lastAttrs) { this.lastAttrsJson = encodeAttributes(attrs); this.lastAttrs = attrs }
      json = this.lastAttrsJson
    }
    // Room for the stream's definition and the chunk's head and CRC32C too, whether this
    // record needs them or not (a flush for room begins a new chunk).
    const bound = (fresh ?? known!.record).length + messageRecordBound(tsNs, json, typeof src === 'string' ? end : end - start) + FRAME_BYTES
    if (this.wlen + bound > this.wbuf.length) {
      if (!this.flush()) return null
      if (bound > this.wbuf.length) this.wbuf = Buffer.allocUnsafe(bound)
    }
    const first = this.wlen === 0
    const chunk = first ? this.chunkNo + 1 : this.chunkNo
    // The stream's definition, unless this chunk has it already.
    const def = fresh ?? (known!.chunk === chunk ? null : known!.record)
    // Encode where the record would go; it counts only once the bound checks pass.
    const at = first ? beginChunk(this.wbuf, 0) : this.wlen
    let p = at
    if (def !== null) p += def.copy(this.wbuf, p)
    const recordAt = p
    p = writeMessageRecord(this.wbuf, p, l.nextSeq - active.firstSeq, streamNo, tsNs, json, src, start, end)
    // A first record also brings its chunk's head and CRC32C.
    const need = p - at + (first ? FRAME_BYTES : 0)
    if (l.bytes + need > this.opts.maxBytes) {
      // Everything spooled was acknowledged, but the active segment still holds it: roll.
      if (l.acked === l.nextSeq && active.size > 0) {
        if (this.roll() === null) return null
        return this.appendRecord(tags, tsNs, src, start, end, attrs)
      }
      return null
    }
    if (known === undefined) { this.streams.set(tags.id, { no: streamNo, record: def!, chunk }); this.nextStream++ } else known.chunk = chunk
    this.chunkNo = chunk
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
   * Seal the chunk appended since the last flush and write it to the active segment. False
   * when the write failed (a full disk): what was not written of the sealed chunk stays, in
   * order, for the next try, and appends are refused meanwhile (append and appendBytes flush
   * first while writeError is set; the caller counts them) instead of the process crashing,
   * so no record is ever added to a chunk whose checksum is computed.
   */
  flush (): boolean {
    if (this.wlen === 0) return true
    const b = this.wbuf
    if (!this.sealed) { this.wlen = sealChunk(b, 0, this.wlen); this.sealed = true }
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
    this.sealed = false
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
