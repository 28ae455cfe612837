// Frames on a syslog TCP/TLS connection (RFC 6587), detected per frame:
//   - octet counting (§3.4.1): MSG-LEN SP SYSLOG-MSG, MSG-LEN = NONZERO-DIGIT *8DIGIT;
//   - non-transparent framing (§3.4.2): the message ends at LF (a CR before it is dropped).
// A frame that starts with digits and a space is octet-counted; anything else is LF-framed,
// so one connection may mix both (rsyslog can switch at reconnect, loggen does either).
// Bytes between frames that are only LF, CR or NUL are skipped.
//
// Frames longer than maxBytes are cut: the first maxBytes are kept, the rest skipped without
// being buffered (a 10 MB frame costs maxBytes of memory).
//
// A lying octet count cannot be resynchronised reliably: after it, any byte may be a frame
// boundary, and guessing (e.g. at the next LF) could splice the tail of one message onto the
// head of another and store that as a real record. So when a counted frame is followed by a
// byte that cannot begin a frame, the framer reports `octet_count_mismatch` and the
// connection is closed: a correct sender reconnects and starts at a frame boundary, and the
// count names the problem. A counted frame may hold any message (RFC 6587 frames bytes, not
// syslog): one that does not start with "<" is read as a message without PRI.
//
// A frame that lies inside one chunk is handed on as (chunk, start, end): no copy, no
// allocation. Only a frame cut by a chunk boundary is copied together.

/** Where frames go: `buf[start, end)` is one frame (a view of the chunk, or a copy of its pieces). */
export interface FrameSink {
  frame (buf: Buffer, start: number, end: number, truncated: boolean): void
}

export interface Frame {
  bytes: Buffer
  /** Cut at maxBytes. */
  truncated: boolean
}

/** A FrameSink that collects frames as objects (tests, benchmarks). */
export function frameCollector (out: Frame[]): FrameSink {
  return { frame: (buf, start, end, truncated) => { out.push({ bytes: buf.subarray(start, end), truncated }) } }
}

export type FramingError = 'octet_count_mismatch'

const enum Mode { Start, Count, Counted, Lines }

const MAX_COUNT_DIGITS = 9

function isDigit (c: number): boolean { return c >= 0x30 && c <= 0x39 }
function isFiller (c: number): boolean { return c === 0x0a || c === 0x0d || c === 0x00 }

export class FrameSplitter {
  private mode = Mode.Start
  /** The octet count read so far, and its digits (also the start of a possible LF-framed message). */
  private count = 0
  private digits = 0
  private remaining = 0
  /** Pieces of a frame that began in an earlier chunk. */
  private parts: Buffer[] = []
  private kept = 0
  private truncated = false
  private afterCounted = false
  private failed: FramingError | null = null

  constructor (private readonly maxBytes: number) {}

  /** Bytes of an unfinished frame (what `end` reports as a truncated frame). */
  get pendingBytes (): number { return this.mode === Mode.Start ? 0 : this.kept + this.digits }

  /**
   * Split `chunk`, handing complete frames to `out`. Returns an error once the stream can no
   * longer be framed; the caller closes the connection and must not push again.
   */
  push (chunk: Buffer, out: FrameSink): FramingError | null {
    if (this.failed) return this.failed
    let i = 0
    const n = chunk.length
    const max = this.maxBytes
    while (i < n) {
      switch (this.mode) {
        case Mode.Start: {
          const c = chunk[i]!
          if (isFiller(c)) { i++; continue }
          if (this.afterCounted && !isDigit(c) && c !== 0x3c) return this.fail()
          this.afterCounted = false
          if (c >= 0x31 && c <= 0x39) { this.mode = Mode.Count; this.count = 0; this.digits = 0; continue }
          this.mode = Mode.Lines
          continue
        }
        case Mode.Count: {
          const c = chunk[i]!
          if (isDigit(c) && this.digits < MAX_COUNT_DIGITS) { this.count = this.count * 10 + c - 0x30; this.digits++; i++; continue }
          if (c === 0x20) {
            this.remaining = this.count
            this.count = 0
            this.digits = 0
            this.mode = Mode.Counted
            i++
            continue
          }
          // Digits not followed by a space: an LF-framed message that starts with digits.
          this.mode = Mode.Lines
          this.keep(Buffer.from(String(this.count), 'latin1'))
          this.count = 0
          this.digits = 0
          continue
        }
        case Mode.Counted: {
          const fresh = this.kept === 0 && !this.truncated
          if (fresh && this.remaining <= n - i) {
            // The whole frame is in this chunk.
            const end = i + this.remaining
            const cut = this.remaining > max
            out.frame(chunk, i, cut ? i + max : end, cut)
            i = end
            this.reset()
            this.afterCounted = true
            continue
          }
          const take = Math.min(this.remaining, n - i)
          this.keep(chunk.subarray(i, i + take))
          i += take
          this.remaining -= take
          if (this.remaining === 0) {
            this.emit(out)
            this.afterCounted = true
          }
          continue
        }
        case Mode.Lines: {
          const lf = chunk.indexOf(0x0a, i)
          if (lf !== -1 && this.kept === 0 && !this.truncated) {
            // The whole frame is in this chunk.
            if (lf - i > max) {
              out.frame(chunk, i, i + max, true)
            } else {
              const end = lf > i && chunk[lf - 1] === 0x0d ? lf - 1 : lf
              if (end > i) out.frame(chunk, i, end, false)
            }
            i = lf + 1
            this.reset()
            continue
          }
          const end = lf === -1 ? n : lf
          this.keep(chunk.subarray(i, end))
          i = end
          if (lf !== -1) {
            i++
            this.emit(out)
          }
          continue
        }
      }
    }
    return null
  }

  /** The connection ended: an unfinished LF-framed message is complete; an unfinished
   *  octet-counted one is not (returns its kept length so the caller can count the drop). */
  end (out: FrameSink): number {
    if (this.mode === Mode.Lines) { this.emit(out); return 0 }
    const lost = this.pendingBytes
    this.reset()
    return lost
  }

  private keep (b: Buffer): void {
    if (b.length === 0) return
    const room = this.maxBytes - this.kept
    if (room <= 0) { this.truncated = true; return }
    if (b.length > room) { b = b.subarray(0, room); this.truncated = true }
    this.parts.push(b)
    this.kept += b.length
  }

  private emit (out: FrameSink): void {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept)
    let end = bytes.length
    if (this.mode === Mode.Lines && end > 0 && bytes[end - 1] === 0x0d && !this.truncated) end--
    const truncated = this.truncated
    this.reset()
    if (end > 0 || truncated) out.frame(bytes, 0, end, truncated)
  }

  private reset (): void {
    this.mode = Mode.Start
    if (this.kept > 0) this.parts = []
    this.kept = 0
    this.truncated = false
    this.count = 0
    this.digits = 0
    this.remaining = 0
  }

  private fail (): FramingError {
    this.failed = 'octet_count_mismatch'
    this.reset()
    return this.failed
  }
}
