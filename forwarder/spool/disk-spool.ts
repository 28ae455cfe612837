import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DaytwoError } from '../../core/errors.js'
import type { Attributes, StreamTags } from '../../core/record.js'
import { decodeAt, encodeMessage, encodeStream } from './spool-codec.js'

// A bounded on-disk queue for sources that have no buffer of their own (syslog): messages
// are appended to segment files named after the sequence number of their first message,
// fsynced on a timer, read back in order, and a segment is deleted once every message in it
// was acknowledged. Sequence numbers are global to the spool, so they increase within every
// stream; they survive restarts because the last segment's name plus its message count give
// the next one, and the last segment is never deleted (only rolled), even when all of it was
// acknowledged. The acknowledged mark is saved on the fsync timer (temp file, fsync, rename)
// so a restart resends only what may not have been stored — and resends it with the same
// sequence numbers, hence the same record ids.

export const SPOOL_VERSION = 1
const NAME = /^(\d{16})\.seg$/
const READ_CHUNK = 1 << 20
const STATE_FILE = 'spool.json'
const SAVE_ACKED_MS = 1000

export interface SpoolOptions {
  maxBytes: number
  segmentBytes: number
  fsyncIntervalMs: number
}

/** What `read` hands out: one spooled message. */
export interface SpooledMessage {
  seq: number
  tags: StreamTags
  tsNs: string
  message: string
  attrs?: Attributes
}

interface Segment {
  firstSeq: number
  path: string
  size: number
  /** Bytes known to be on disk (fsynced); only these are read. */
  durable: number
}

interface Cursor {
  seg: Segment
  pos: number
  seq: number
  streams: StreamTags[]
}

export class DiskSpool {
  private readonly segments: Segment[] = []
  private fd = -1
  /** Stream id → its number in the active segment. */
  private activeStreams = new Map<string, number>()
  private nextSeqValue = 0
  private acked = 0
  private savedAcked = -1
  private savedAtMs = 0
  private totalBytes = 0
  private cursor!: Cursor
  private buf = Buffer.allocUnsafe(READ_CHUNK)
  private readFd = -1
  private readFdSeg: Segment | null = null
  private timer: NodeJS.Timeout | null = null
  private syncing = false
  private closeAfterSync: number[] = []
  /** Random, made when the spool is created: ids of a spool that was wiped never repeat. */
  readonly epoch: string
  /** Called after an fsync made more messages readable. */
  onDurable: () => void = () => {}
  /** Called when a segment cannot be read on from `pos`; the rest of it is skipped. */
  onCorrupt: (path: string, pos: number, why: string) => void = () => {}

  constructor (private readonly dir: string, private readonly opts: SpoolOptions) {
    mkdirSync(dir, { recursive: true })
    const state = this.loadState()
    this.acked = state.ackedBelow
    this.epoch = state.epoch
    const names = readdirSync(dir).filter((n) => NAME.test(n)).sort()
    for (const name of names) {
      const path = join(dir, name)
      const size = statSync(path).size
      this.segments.push({ firstSeq: Number(NAME.exec(name)![1]), path, size, durable: size })
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
      this.fd = openSync(last.path, 'a')
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
    let active = this.segments[this.segments.length - 1]!
    if (active.size >= this.opts.segmentBytes) active = this.roll()
    const known = this.activeStreams.get(tags.id)
    const def = known === undefined ? encodeStream(tags) : null
    const streamNo = known ?? this.activeStreams.size
    const msg = encodeMessage(streamNo, tsNs, message, attrs)
    const need = msg.length + (def?.length ?? 0)
    if (this.totalBytes + need > this.opts.maxBytes) {
      // Everything spooled was acknowledged, but the active segment still holds it: roll.
      if (this.acked === this.nextSeqValue && active.size > 0) {
        this.roll()
        return this.append(tags, tsNs, message, attrs)
      }
      return null
    }
    if (def !== null) {
      this.activeStreams.set(tags.id, streamNo)
      this.write(active, def)
    }
    this.write(active, msg)
    return this.nextSeqValue++
  }

  /**
   * Hand out durable messages not yet read, in order, while `take` returns true. A message
   * `take` refuses is offered again at the next call.
   */
  read (take: (m: SpooledMessage) => boolean): void {
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
      let p = 0
      let bad = ''
      while (p < n) {
        const r = decodeAt(this.buf, p, n)
        if (r === 'short') {
          if (p === 0 && n === avail) bad = 'a record runs past the end of the segment'
          else if (p === 0) this.buf = Buffer.allocUnsafe(this.buf.length * 2)
          break
        }
        if (r === 'corrupt') { bad = 'bytes that are no record'; break }
        if (r.type === 'stream') {
          c.streams.push(r.tags)
        } else {
          const tags = c.streams[r.stream]
          if (tags === undefined) { bad = `stream ${r.stream} used before it is defined`; break }
          if (c.seq >= this.acked && !take(r.attrs === undefined ? { seq: c.seq, tags, tsNs: r.tsNs, message: r.message } : { seq: c.seq, tags, tsNs: r.tsNs, message: r.message, attrs: r.attrs })) { c.pos += p; return }
          c.seq++
        }
        p += r.size
      }
      c.pos += p
      if (bad !== '') {
        this.onCorrupt(c.seg.path, c.pos, bad)
        c.pos = c.seg.durable
      }
    }
  }

  /** Every message with a sequence number below `seq` is acknowledged. */
  ack (seq: number): void {
    if (seq <= this.acked) return
    this.acked = Math.min(seq, this.nextSeqValue)
    this.deleteAcked()
  }

  /** fsync what was written and save the acknowledged mark (at most once a second). Runs on the timer. */
  sync (): void {
    this.saveAcked()
    const active = this.segments[this.segments.length - 1]!
    if (this.syncing || active.durable === active.size) return
    const target = active.size
    this.syncing = true
    fsync(this.fd, (err) => {
      this.syncing = false
      for (const f of this.closeAfterSync) closeSync(f)
      this.closeAfterSync = []
      if (err) return // the next tick tries again
      if (active.durable < target) active.durable = target
      this.onDurable()
    })
  }

  /** fsync, save the acknowledged mark, release the files. */
  close (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.closeReadFd()
    if (this.fd !== -1) {
      fsyncSync(this.fd)
      const active = this.segments[this.segments.length - 1]!
      active.durable = active.size
      if (this.syncing) this.closeAfterSync.push(this.fd)
      else closeSync(this.fd)
      this.fd = -1
    }
    this.saveAcked(true)
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

  private write (seg: Segment, b: Buffer): void {
    let off = 0
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off)
    seg.size += b.length
    this.totalBytes += b.length
  }

  private roll (): Segment {
    const old = this.segments[this.segments.length - 1]!
    fsyncSync(this.fd)
    old.durable = old.size
    // An fsync of this descriptor may still be in flight: close it after, never reuse it.
    if (this.syncing) this.closeAfterSync.push(this.fd)
    else closeSync(this.fd)
    this.createSegment()
    this.deleteAcked()
    this.onDurable()
    return this.segments[this.segments.length - 1]!
  }

  private createSegment (): void {
    const path = join(this.dir, String(this.nextSeqValue).padStart(16, '0') + '.seg')
    this.fd = openSync(path, 'a')
    fsyncDir(this.dir)
    this.segments.push({ firstSeq: this.nextSeqValue, path, size: 0, durable: 0 })
    this.activeStreams = new Map()
  }

  /** Delete segments all of whose messages were acknowledged (never the active one). */
  private deleteAcked (): void {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= this.acked) {
      const s = this.segments.shift()!
      // Acknowledged means read: a cursor still here has only passed records left.
      if (this.cursor !== undefined && this.cursor.seg === s) this.cursor = { seg: this.segments[0]!, pos: 0, seq: this.segments[0]!.firstSeq, streams: [] }
      if (this.readFdSeg === s) this.closeReadFd()
      unlinkSync(s.path)
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

function fsyncDir (dir: string): void {
  const fd = openSync(dir, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
