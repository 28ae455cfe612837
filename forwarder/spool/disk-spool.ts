import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DaytwoError } from '../../core/errors.js'
import type { Attributes, StreamTags } from '../../core/record.js'
import { matches, pattern, viewOf, type Pattern } from './byte-pattern.js'
import { HEADER_BYTES, TYPE_ATTRIBUTED, TYPE_MESSAGE, TYPE_STREAM, decodeAt, encodeAttributes, encodeStream, messageRecordBound, writeMessageRecord } from './spool-codec.js'

// A bounded on-disk queue for sources that have no buffer of their own (syslog): messages
// are appended to segment files named after the sequence number of their first message,
// fsynced on a timer, read back in order, and a segment is deleted once every message in it
// was acknowledged. Sequence numbers are global to the spool, so they increase within every
// stream; they survive restarts because the last segment's name plus its message count give
// the next one, and the last segment is never deleted (only rolled), even when all of it was
// acknowledged. The acknowledged mark is saved on the fsync timer (temp file, fsync, rename)
// so a restart resends only what may not have been stored — and resends it with the same
// sequence numbers, hence the same record ids.
//
// Appends are encoded into a write buffer and written with one write() per socket callback:
// the first append schedules a flush with process.nextTick, which runs before any other I/O
// callback (a /metrics request, the fsync timer, another socket). So whenever anything else
// runs, every message `append` accepted is in the segment file (the page cache: it survives
// kill -9), exactly as when each message was written on its own; fsync still runs on the timer.

export const SPOOL_VERSION = 1
const NAME = /^(\d{16})\.seg$/
const READ_CHUNK = 1 << 20
/** Unsynced bytes for which a reader that caught up asks for an fsync before the timer's. */
const SYNC_NOW_BYTES = 1 << 20
/** The write buffer; one message larger than this grows it. */
const WRITE_CHUNK = 256 << 10
const STATE_FILE = 'spool.json'
const SAVE_ACKED_MS = 1000

export interface SpoolOptions {
  maxBytes: number
  segmentBytes: number
  fsyncIntervalMs: number
}

/**
 * What `read` hands out, one spooled message at a time, as arguments (no object per message);
 * `bytes` is the message's length in UTF-8.
 * Equal attributes read one after the other are the same object: treat it as read-only.
 */
export type TakeMessage = (seq: number, tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined, bytes: number) => boolean

interface Segment {
  firstSeq: number
  path: string
  size: number
  /** Bytes known to be on disk (fsynced); only these are read. */
  durable: number
  /** Write descriptor: the active segment's, and a rolled one's until its last fsync is done (-1 after). */
  fd: number
  /** An fsync of `fd` is in flight. */
  syncing: boolean
  /** Unlinked (acknowledged); its descriptor is closed once no fsync uses it. */
  deleted: boolean
}

interface Cursor {
  seg: Segment
  pos: number
  seq: number
  streams: StreamTags[]
}

export class DiskSpool {
  private readonly segments: Segment[] = []
  /** Stream id → its number in the active segment. */
  private activeStreams = new Map<string, number>()
  private nextSeqValue = 0
  private acked = 0
  private savedAcked = -1
  private savedAtMs = 0
  private totalBytes = 0
  private cursor!: Cursor
  private buf = Buffer.allocUnsafe(READ_CHUNK)
  private bufView = viewOf(this.buf)
  /**
   * The read side's last message head (stream number … attributes, after TYPE and LENGTH),
   * once two in a row decoded alike, with what it decodes to: a record that starts with the
   * same bytes is not decoded again.
   */
  private rHead: Pattern | null = null
  private rType = 0
  private rStreams: StreamTags[] | null = null
  private rTags: StreamTags | null = null
  private rTs = ''
  private rAttrs: Attributes | undefined = undefined
  /** Encoded records not yet written to the active segment (they count in its size). */
  private wbuf = Buffer.allocUnsafe(WRITE_CHUNK)
  private wlen = 0
  private flushQueued = false
  private readonly flushTick = (): void => { this.flushQueued = false; this.flush() }
  /** Why the last write failed (ENOSPC: the disk is full), until a write succeeds again. */
  writeError: string | null = null
  /** Called when writing starts failing (with the error) and when it works again (null). */
  onWriteError: (message: string | null) => void = () => {}
  /** The attributes object appended last and its JSON (senders repeat them message after message). */
  private lastAttrs: Attributes | undefined = undefined
  private lastAttrsJson: Buffer | null = null
  /** Where the last record starts in wbuf. */
  private lastRecord = 0
  /** appendBytes' last record up to its message, and what it is made of; the last call's inputs. */
  private prefix: Buffer | null = null
  private prefixTags: StreamTags | null = null
  private prefixTs = ''
  private prefixAttrs: Attributes | undefined = undefined
  private prefixSeg: Segment | null = null
  private headTags: StreamTags | null = null
  private headTs = ''
  private headAttrs: Attributes | undefined = undefined
  /** The read side's last attributes JSON and its object, and last timestamp. */
  private readAttrsJson = Buffer.alloc(0)
  private readAttrs: Attributes | undefined = undefined
  private readTs = ''
  private readFd = -1
  private readFdSeg: Segment | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Random, made when the spool is created: ids of a spool that was wiped never repeat. */
  readonly epoch: string
  /** Called after an fsync made more messages readable. */
  onDurable: () => void = () => {}
  /** Called when a segment cannot be read on from `pos`; the rest of it is skipped. */
  onCorrupt: (path: string, pos: number, why: string) => void = () => {}

  constructor (readonly dir: string, private readonly opts: SpoolOptions) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const state = this.loadState()
    this.acked = state.ackedBelow
    this.epoch = state.epoch
    const names = readdirSync(dir).filter((n) => NAME.test(n)).sort()
    for (const name of names) {
      const path = join(dir, name)
      const size = statSync(path).size
      // What a killed process wrote may still be only in the page cache: make it durable before it counts as such.
      fsyncFile(path)
      this.segments.push({ firstSeq: Number(NAME.exec(name)![1]), path, size, durable: size, fd: -1, syncing: false, deleted: false })
    }
    if (this.segments.length === 0) {
      this.nextSeqValue = this.acked
      this.createSegment()
    } else {
      const last = this.segments[this.segments.length - 1]!
      const { messages, validBytes, streams } = scan(last.path)
      if (validBytes < last.size) {
        // A record cut short by a crash: keep what is whole.
        const fd = openSync(last.path, 'r+')
        try { ftruncateSync(fd, validBytes); fsyncSync(fd) } finally { closeSync(fd) }
        last.size = validBytes
        last.durable = validBytes
      }
      this.nextSeqValue = last.firstSeq + messages
      last.fd = openSync(last.path, 'a')
      this.activeStreams = new Map(streams.map((t, i) => [t.id, i]))
    }
    for (const s of this.segments) this.totalBytes += s.size
    // Acked past the end (the state outlived its segments): nothing is pending.
    if (this.acked > this.nextSeqValue) this.acked = this.nextSeqValue
    const first = this.segments[0]!
    this.cursor = { seg: first, pos: 0, seq: first.firstSeq, streams: [] }
    this.deleteAcked()
    this.saveAcked(true)
    this.timer = setInterval(() => this.sync(), opts.fsyncIntervalMs)
    this.timer.unref()
  }

  /** Messages spooled and not yet acknowledged. */
  get pending (): number { return this.nextSeqValue - this.acked }
  get bytes (): number { return this.totalBytes }
  get segmentCount (): number { return this.segments.length }
  get nextSeq (): number { return this.nextSeqValue }
  get ackedBelow (): number { return this.acked }

  /** Append one message; returns its sequence number, or null when the spool is full. */
  append (tags: StreamTags, tsNs: string, message: string, attrs?: Attributes): number | null {
    if (this.writeError !== null && !this.flush()) return null
    return this.appendRecord(tags, tsNs, message, 0, message.length * 3, attrs)
  }

  /** Append the message `src[start, end)` (valid UTF-8); like `append`, without a string. */
  appendBytes (tags: StreamTags, tsNs: string, src: Buffer, start: number, end: number, attrs?: Attributes): number | null {
    if (this.writeError !== null && !this.flush()) return null
    const active = this.segments[this.segments.length - 1]!
    const pre = this.prefix
    if (pre !== null && tags === this.prefixTags && tsNs === this.prefixTs && attrs === this.prefixAttrs && active === this.prefixSeg && active.size < this.opts.segmentBytes) {
      // The same stream, time and attributes as the last record: copy its bytes up to the message.
      const need = pre.length + end - start
      if (this.totalBytes + need <= this.opts.maxBytes) {
        if (this.wlen + need > this.wbuf.length) {
          if (!this.flush()) return null
          if (need > this.wbuf.length) this.wbuf = Buffer.allocUnsafe(need)
        }
        const b = this.wbuf
        const p = this.wlen
        pre.copy(b, p)
        const len = need - HEADER_BYTES
        b[p + 1] = len >>> 24
        b[p + 2] = (len >>> 16) & 0xff
        b[p + 3] = (len >>> 8) & 0xff
        b[p + 4] = len & 0xff
        src.copy(b, p + pre.length, start, end)
        this.wlen = p + need
        active.size += need
        this.totalBytes += need
        if (!this.flushQueued) { this.flushQueued = true; process.nextTick(this.flushTick) }
        return this.nextSeqValue++
      }
    }
    const seq = this.appendRecord(tags, tsNs, src, start, end, attrs)
    // Learn the record's head once the same (stream, time, attributes) came twice in a row.
    if (seq !== null && tags === this.headTags && tsNs === this.headTs && attrs === this.headAttrs) {
      this.prefix = Buffer.from(this.wbuf.subarray(this.lastRecord, this.wlen - (end - start)))
      this.prefixTags = tags
      this.prefixTs = tsNs
      this.prefixAttrs = attrs
      this.prefixSeg = this.segments[this.segments.length - 1]!
    }
    this.headTags = tags
    this.headTs = tsNs
    this.headAttrs = attrs
    return seq
  }

  /** `end` is the message's end in `src` (bytes), or for a string its largest UTF-8 length. */
  private appendRecord (tags: StreamTags, tsNs: string, src: string | Buffer, start: number, end: number, attrs: Attributes | undefined): number | null {
    let active = this.segments[this.segments.length - 1]!
    if (active.size >= this.opts.segmentBytes) {
      const next = this.roll()
      if (next === null) return null
      active = next
    }
    const known = this.activeStreams.get(tags.id)
    const def = known === undefined ? encodeStream(tags) : null
    const streamNo = known ?? this.activeStreams.size
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
    p = writeMessageRecord(this.wbuf, p, streamNo, tsNs, json, src, start, end)
    const need = p - this.wlen
    if (this.totalBytes + need > this.opts.maxBytes) {
      // Everything spooled was acknowledged, but the active segment still holds it: roll.
      if (this.acked === this.nextSeqValue && active.size > 0) {
        if (this.roll() === null) return null
        return this.appendRecord(tags, tsNs, src, start, end, attrs)
      }
      return null
    }
    if (def !== null) this.activeStreams.set(tags.id, streamNo)
    this.lastRecord = recordAt
    this.wlen = p
    active.size += need
    this.totalBytes += need
    if (!this.flushQueued) { this.flushQueued = true; process.nextTick(this.flushTick) }
    return this.nextSeqValue++
  }

  /**
   * Write what was appended to the active segment (see the note at the top). False when the
   * write failed (a full disk): what was not written stays, in order, for the next try, and
   * appends are refused meanwhile (the caller counts them) instead of the process crashing.
   */
  flush (): boolean {
    if (this.wlen === 0) return true
    const b = this.wbuf
    const n = this.wlen
    let off = 0
    const fd = this.segments[this.segments.length - 1]!.fd
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
    if (this.writeError !== null) { this.writeError = null; this.onWriteError(null) }
    return true
  }

  /**
   * Hand out durable messages not yet read, in order, while `take` returns true. A message
   * `take` refuses is offered again at the next call.
   */
  read (take: TakeMessage): void {
    if (this.closed) return
    for (;;) {
      const c = this.cursor
      if (c.pos >= c.seg.durable) {
        const next = this.segments[this.segments.indexOf(c.seg) + 1]
        // Move on only once this segment is whole (rolled and fsynced).
        if (next === undefined || c.pos < c.seg.size) return
        this.cursor = { seg: next, pos: 0, seq: next.firstSeq, streams: [] }
        continue
      }
      const avail = c.seg.durable - c.pos
      const n = readSync(this.fdFor(c.seg), this.buf, 0, Math.min(avail, this.buf.length), c.pos)
      const buf = this.buf
      let p = 0
      let bad = ''
      while (p < n) {
        if (n - p < HEADER_BYTES) { if (p === 0) bad = this.shortRecord(n, avail); break }
        const type = buf[p]!
        const len = buf.readUInt32BE(p + 1)
        if (n - p - HEADER_BYTES < len) {
          if (type !== TYPE_STREAM && type !== TYPE_MESSAGE && type !== TYPE_ATTRIBUTED) bad = 'bytes that are no record'
          else if (p === 0) bad = this.shortRecord(n, avail)
          break
        }
        const q = p + HEADER_BYTES
        const recEnd = q + len
        const head = this.rHead
        if (head !== null && type === this.rType && c.streams === this.rStreams && q + head.bytes.length <= recEnd && matches(this.bufView, buf, q, head)) {
          const m = q + head.bytes.length
          if (c.seq >= this.acked && !take(c.seq, this.rTags!, this.rTs, buf.toString('utf8', m, recEnd), this.rAttrs, recEnd - m)) { c.pos += p; return }
          c.seq++
        } else if (type === TYPE_MESSAGE || type === TYPE_ATTRIBUTED) {
          if (len < 5) { bad = 'bytes that are no record'; break }
          const stream = buf.readUInt32BE(q)
          const tsLen = buf[q + 4]!
          let m = q + 5 + tsLen
          if (m > recEnd) { bad = 'bytes that are no record'; break }
          const tags = c.streams[stream]
          if (tags === undefined) { bad = `stream ${stream} used before it is defined`; break }
          let attrs: Attributes | undefined
          if (type === TYPE_ATTRIBUTED) {
            if (m + 2 > recEnd) { bad = 'bytes that are no record'; break }
            const jsonLen = buf.readUInt16BE(m)
            if (m + 2 + jsonLen > recEnd) { bad = 'bytes that are no record'; break }
            attrs = this.attrsAt(buf, m + 2, m + 2 + jsonLen)
            if (attrs === undefined) { bad = 'bytes that are no record'; break }
            m += 2 + jsonLen
          }
          const ts = this.tsAt(buf, q + 5, q + 5 + tsLen)
          if (tags === this.rTags && ts === this.rTs && attrs === this.rAttrs && type === this.rType && c.streams === this.rStreams) this.rHead = pattern(Buffer.from(buf.subarray(q, m)))
          else this.rHead = null
          this.rType = type
          this.rStreams = c.streams
          this.rTags = tags
          this.rTs = ts
          this.rAttrs = attrs
          if (c.seq >= this.acked && !take(c.seq, tags, ts, buf.toString('utf8', m, recEnd), attrs, recEnd - m)) { c.pos += p; return }
          c.seq++
        } else if (type === TYPE_STREAM) {
          let tags: StreamTags
          try { tags = JSON.parse(buf.toString('utf8', q, recEnd)) as StreamTags } catch { bad = 'bytes that are no record'; break }
          c.streams.push(tags)
        } else {
          bad = 'bytes that are no record'
          break
        }
        p = recEnd
      }
      c.pos += p
      if (bad !== '') {
        this.onCorrupt(c.seg.path, c.pos, bad)
        c.pos = c.seg.durable
      }
    }
  }

  /** A record does not fit what was read: the segment ends inside it, or the buffer is too small. */
  private shortRecord (n: number, avail: number): string {
    if (n === avail) return 'a record runs past the end of the segment'
    this.buf = Buffer.allocUnsafe(this.buf.length * 2)
    this.bufView = viewOf(this.buf)
    return ''
  }

  /** The timestamp at buf[a, b): the last one's string when the bytes are the same. */
  private tsAt (buf: Buffer, a: number, b: number): string {
    const last = this.readTs
    if (last.length === b - a) {
      let i = 0
      while (i < last.length && last.charCodeAt(i) === buf[a + i]) i++
      if (i === last.length) return last
    }
    return (this.readTs = buf.toString('latin1', a, b))
  }

  /** The attributes JSON at buf[a, b) parsed (the last object when the bytes are the same), or undefined when it is no JSON object. */
  private attrsAt (buf: Buffer, a: number, b: number): Attributes | undefined {
    const last = this.readAttrsJson
    if (this.readAttrs !== undefined && last.length === b - a) {
      let k = 0
      while (k < last.length && last[k] === buf[a + k]) k++
      if (k === last.length) return this.readAttrs
    }
    let attrs: Attributes
    try { attrs = JSON.parse(buf.toString('utf8', a, b)) as Attributes } catch { return undefined }
    if (typeof attrs !== 'object' || attrs === null) return undefined
    this.readAttrsJson = Buffer.from(buf.subarray(a, b))
    this.readAttrs = attrs
    return attrs
  }

  /** Every message with a sequence number below `seq` is acknowledged. */
  ack (seq: number): void {
    if (seq <= this.acked) return
    this.acked = Math.min(seq, this.nextSeqValue)
    this.deleteAcked()
  }

  /** fsync what was written and save the acknowledged mark (at most once a second). Runs on the timer. */
  sync (): void {
    this.flush()
    // The acknowledged mark is an optimisation (fewer messages resent after a restart): a
    // disk too full to save it must not stop the spool; the next sync tries again.
    try { this.saveAcked() } catch { /* see above: retried on the next sync */ }
    for (const seg of this.segments) if (seg.fd !== -1 && !seg.syncing && seg.durable < seg.size) this.fsyncSegment(seg)
  }

  /**
   * The reader caught up with what is durable and has room for more: when at least
   * SYNC_NOW_BYTES wait for the timer's fsync, fsync them now (one fsync at a time, each
   * covering all written before it). A trickle still waits for the timer, so it costs no more
   * fsyncs than before; a burst is shipped without waiting for the next tick.
   */
  syncNow (): void {
    const active = this.segments[this.segments.length - 1]!
    if (this.closed || active.syncing || active.size - active.durable < SYNC_NOW_BYTES) return
    this.flush()
    this.fsyncSegment(active)
  }

  /** fsync a segment in the thread pool; what it covers becomes readable when it is done. */
  private fsyncSegment (seg: Segment): void {
    // Bytes still waiting in wbuf (a failed write) are not in the file yet.
    const target = seg.size - (seg === this.segments[this.segments.length - 1] ? this.wlen : 0)
    seg.syncing = true
    fsync(seg.fd, (err) => {
      seg.syncing = false
      if (!err && seg.durable < target) seg.durable = target
      const active = seg === this.segments[this.segments.length - 1] && !seg.deleted && !this.closed
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

  /** fsync, save the acknowledged mark, release the files. */
  close (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.closeReadFd()
    this.flush()
    this.closed = true
    const active = this.segments[this.segments.length - 1]
    for (const seg of this.segments) {
      if (seg.fd === -1) continue
      try { fsyncSync(seg.fd) } catch { continue }
      seg.durable = seg.size - (seg === active ? this.wlen : 0)
      // An fsync in flight closes the descriptor when it is done.
      if (!seg.syncing) { closeSync(seg.fd); seg.fd = -1 }
    }
    // As in sync(): the mark only saves resending; a failure here costs duplicates, not lines.
    try { this.saveAcked(true) } catch { /* see above */ }
  }

  private fdFor (seg: Segment): number {
    if (this.readFdSeg !== seg) {
      this.closeReadFd()
      this.readFd = openSync(seg.path, 'r')
      this.readFdSeg = seg
    }
    return this.readFd
  }

  private closeReadFd (): void {
    if (this.readFd !== -1) closeSync(this.readFd)
    this.readFd = -1
    this.readFdSeg = null
  }

  /** Start a new segment; the old one is fsynced in the background and readable once that is done. */
  private roll (): Segment | null {
    const old = this.segments[this.segments.length - 1]!
    if (!this.flush()) return null
    try {
      this.createSegment()
    } catch {
      return null // no new segment file (no space, no inode): the message is refused and counted
    }
    if (!old.syncing) this.fsyncSegment(old)
    this.deleteAcked()
    return this.segments[this.segments.length - 1]!
  }

  private createSegment (): void {
    const path = join(this.dir, String(this.nextSeqValue).padStart(16, '0') + '.seg')
    const fd = openSync(path, 'a', 0o600)
    fsyncDir(this.dir)
    this.segments.push({ firstSeq: this.nextSeqValue, path, size: 0, durable: 0, fd, syncing: false, deleted: false })
    this.activeStreams = new Map()
  }

  /** Delete segments all of whose messages were acknowledged (never the active one). */
  private deleteAcked (): void {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      const s = this.segments.shift()!
      // Acknowledged means read: a cursor still here has only passed records left.
      if (this.cursor !== undefined && this.cursor.seg === s) this.cursor = { seg: this.segments[0]!, pos: 0, seq: this.segments[0]!.firstSeq, streams: [] }
      if (this.readFdSeg === s) this.closeReadFd()
      s.deleted = true
      if (s.fd !== -1 && !s.syncing) { closeSync(s.fd); s.fd = -1 }
      try {
        unlinkSync(s.path)
      } catch (err) {
        // Gone already is gone. A segment that stays on disk still takes its space: it is kept
        // in the size (so the spool's bound stays true), and the next start deletes it with
        // the other wholly acknowledged segments (deleteAcked in the constructor).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue
      }
      this.totalBytes -= s.size
    }
  }

  private loadState (): { epoch: string, ackedBelow: number } {
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
    if (doc.version !== SPOOL_VERSION || typeof doc.ackedBelow !== 'number' || typeof doc.epoch !== 'string') {
      throw new DaytwoError('CONFIG', `${file} has version ${String(doc.version)}; this daytwo reads version ${SPOOL_VERSION}`)
    }
    return { epoch: doc.epoch, ackedBelow: doc.ackedBelow }
  }

  private saveAcked (force = false): void {
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

/** Messages and stream definitions of a segment, and how many of its bytes are whole records. */
function scan (path: string): { messages: number, validBytes: number, streams: StreamTags[] } {
  const data = readFileSync(path)
  const streams: StreamTags[] = []
  let messages = 0
  let p = 0
  while (p < data.length) {
    const r = decodeAt(data, p, data.length)
    if (r === 'short' || r === 'corrupt') break
    if (r.type === 'stream') streams.push(r.tags)
    else messages++
    p += r.size
  }
  return { messages, validBytes: p, streams }
}

function fsyncDir (dir: string): void { fsyncFile(dir) }

function fsyncFile (path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
