import { closeSync, openSync, readSync } from 'node:fs'
import type { Attributes, StreamTags } from '../../core/record.js'
import { MESSAGE, NEED_MORE, RecordDecoder, type LossReason } from './spool-codec.js'
import type { Segment, SpoolLedger } from './spool-ledger.js'

// The spool's reader: replays durable messages in order from the oldest segment that holds
// one not yet acknowledged, READ_BYTES at a time through the codec's RecordDecoder. A message
// that cannot be handed out (its chunk or record fails its checksum, its stream's record did)
// is skipped and reported with onDropped, never stalls the ones after it. The cursor stays at
// a chunk's start until all its messages were handed out: a read that stops inside a chunk
// reads and checks it again the next time, and passes over what it handed out already. Acknowledging is the
// ledger's (it deletes wholly acknowledged segments and tells the reader, onRemove).

const READ_BYTES = 1 << 20

/**
 * What `read` hands out, one spooled message at a time, as arguments (no object per message);
 * `bytes` is the message's length in UTF-8.
 * Equal attributes read one after the other are the same object: treat it as read-only.
 */
export type TakeMessage = (seq: number, tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined, bytes: number) => boolean

interface Cursor {
  seg: Segment
  pos: number
  decoder: RecordDecoder
}

export class SpoolReader {
  private cursor: Cursor
  private buf = Buffer.allocUnsafe(READ_BYTES)
  private fd = -1
  private fdSeg: Segment | null = null
  /** Called with messages lost from the spool (not acknowledged ones), why, and where. */
  onDropped: (reason: LossReason, count: number, detail: string) => void = () => {}

  constructor (private readonly ledger: SpoolLedger) {
    this.cursor = this.at(ledger.segments[0]!)
    ledger.onRemove = (seg) => {
      // Acknowledged means read: a cursor still here has only passed records left.
      if (this.cursor.seg === seg) this.cursor = this.at(this.ledger.segments[0]!)
      if (this.fdSeg === seg) this.closeFd()
    }
  }

  private at (seg: Segment): Cursor {
    return { seg, pos: 0, decoder: new RecordDecoder() }
  }

  /**
   * Hand out durable messages not yet read, in order, while `take` returns true. A message
   * `take` refuses is offered again at the next call.
   */
  read (take: TakeMessage): void {
    const l = this.ledger
    for (;;) {
      const c = this.cursor
      const d = c.decoder
      d.ackedIndex = l.acked - c.seg.firstSeq
      if (c.pos >= c.seg.durable) {
        const next = l.segments[l.segments.indexOf(c.seg) + 1]
        // Move on only once this segment is whole (rolled and fsynced).
        if (next === undefined || c.pos < c.seg.size) return
        d.lose(next.firstSeq - c.seg.firstSeq) // messages it should have held and did not hand out
        if (d.lost > 0 && d.version === 0) d.nextSegmentStarts(this.firstByte(next))
        this.report(c)
        this.cursor = this.at(next)
        continue
      }
      const want = Math.min(c.seg.durable - c.pos, this.buf.length)
      const n = readSync(this.fdFor(c.seg), this.buf, 0, want, c.pos)
      // Shorter than the ledger says (cut by hand?): what is there is all there is.
      const avail = n < want ? n : c.seg.durable - c.pos
      if (n === 0) { c.pos = c.seg.durable; continue }
      const buf = this.buf
      let p = 0
      while (p < n) {
        const r = d.decode(buf, p, n, avail)
        if (r === NEED_MORE) break
        if (r === MESSAGE) {
          const seq = c.seg.firstSeq + d.index
          if (seq >= l.acked && !take(seq, d.tags!, d.tsNs, buf.toString('utf8', d.messageStart, d.messageEnd), d.attrs, d.messageEnd - d.messageStart)) {
            // Offered again next time: decode it afresh then (its index is not passed yet),
            // from its chunk's start, where p still is.
            d.retake()
            c.pos += p
            this.report(c)
            return
          }
        }
        p += d.size
      }
      // A record or chunk longer than the buffer: grow it and read again.
      if (p === 0 && n < avail) this.buf = Buffer.allocUnsafe(this.buf.length * 2)
      c.pos += p
      this.report(c)
    }
  }

  private report (c: Cursor): void {
    const d = c.decoder
    if (d.lost === 0) return
    this.onDropped(d.lostReason, d.lost, `${c.seg.path} near byte ${c.pos}: ${d.lostWhy}`)
    d.lost = 0
    d.lostWhy = ''
  }

  /** The first byte of a segment's file (-1 when it has none yet); on the rare path above only. */
  private firstByte (seg: Segment): number {
    const one = Buffer.alloc(1)
    let fd = -1
    try {
      fd = openSync(seg.path, 'r')
      return readSync(fd, one, 0, 1, 0) === 1 ? one[0]! : -1
    } catch {
      return -1
    } finally {
      if (fd !== -1) closeSync(fd)
    }
  }

  private fdFor (seg: Segment): number {
    if (this.fdSeg !== seg) {
      this.closeFd()
      this.fd = openSync(seg.path, 'r')
      this.fdSeg = seg
    }
    return this.fd
  }

  closeFd (): void {
    if (this.fd !== -1) closeSync(this.fd)
    this.fd = -1
    this.fdSeg = null
  }
}
