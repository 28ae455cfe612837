// Splits file bytes into lines on 0x0A, on Buffers, keeping each line's byte offset.
// Like split2 it keeps the unfinished tail on the instance and guards runaway lines with a
// maximum length; unlike split2 it works on bytes, because checkpoints and record ids need
// exact byte offsets, and it never buffers more than `maxLineBytes` of one line.
// A line that lies whole inside the chunk is handed out as a range of that chunk, with no
// copy and no object: this runs for every line the forwarder reads.

/** Flags of a line handed to a LineSink. */
export const TRUNCATED = 1
/** A maxLineBytes piece of a longer line (split mode) that has no newline. */
export const SPLIT = 2

/**
 * Receives lines: bytes `buf[start, end)` (without the newline) that begin at file offset
 * `offset`; the next line begins at `next`. `buf` is the caller's chunk (valid only during
 * the call) or, for a line that crossed chunks, a buffer of its own.
 */
export type LineSink = (buf: Buffer, start: number, end: number, offset: number, next: number, flags: number) => void

export interface RawLine {
  /** The line without its newline, at most maxLineBytes long. */
  bytes: Buffer
  /** Byte offset of the line's first byte in the file. */
  offset: number
  /** Byte offset just past the line's newline. */
  end: number
  /** True when the line was longer than maxLineBytes and was cut. */
  truncated: boolean
  /** True when this is a maxLineBytes piece of a longer line (split mode) that has no newline. */
  split?: boolean
}

export class LineSplitter {
  private tail: Buffer[] = []
  private tailLen = 0
  private tailStart = 0
  private truncated = false

  /** `split`: a line longer than maxLineBytes comes out in pieces instead of being cut. */
  constructor (private readonly maxLineBytes: number, private readonly mode: 'truncate' | 'split' = 'truncate') {}

  /** Offset where the unfinished line starts (the next line's offset). */
  get pendingOffset (): number { return this.tailStart }

  reset (offset: number): void {
    this.tail = []
    this.tailLen = 0
    this.tailStart = offset
    this.truncated = false
  }

  /** Feed bytes read at `offset` (which must follow what was fed before); lines go to `sink`. */
  scan (chunk: Buffer, offset: number, sink: LineSink): void {
    if (this.tailLen === 0 && !this.truncated) this.tailStart = offset
    const max = this.maxLineBytes
    let pos = 0
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos)
      const segEnd = nl === -1 ? chunk.length : nl
      if (this.tailLen === 0 && !this.truncated && nl !== -1 && nl - pos <= max) {
        // The common case: a whole line inside the chunk.
        const end = offset + nl + 1
        sink(chunk, pos, nl, offset + pos, end, 0)
        this.tailStart = end
        pos = nl + 1
        continue
      }
      if (this.mode === 'split') {
        while (this.tailLen + (segEnd - pos) > max) {
          const room = max - this.tailLen
          this.keep(chunk.subarray(pos, pos + room))
          pos += room
          this.take(offset + pos, SPLIT, sink)
        }
      }
      if (nl === -1) {
        this.keep(chunk.subarray(pos))
        return
      }
      this.keep(chunk.subarray(pos, nl))
      this.take(offset + nl + 1, 0, sink)
      pos = nl + 1
    }
  }

  /** Like scan, collecting the lines (copied) into `out`. */
  push (chunk: Buffer, offset: number, out: RawLine[]): void {
    this.scan(chunk, offset, collect(out))
  }

  /** At end of a file that will not grow again: the unfinished line as a last line. */
  flushTo (end: number, sink: LineSink): void {
    if (this.tailLen > 0 || this.truncated) this.take(end, 0, sink)
  }

  flush (end: number, out: RawLine[]): void {
    this.flushTo(end, collect(out))
  }

  private keep (part: Buffer): void {
    if (part.length === 0) return
    const room = this.maxLineBytes - this.tailLen
    if (room <= 0) { this.truncated = true; return }
    if (part.length > room) {
      this.truncated = true
      part = part.subarray(0, room)
    }
    // Copy: the caller reuses its read buffer.
    this.tail.push(Buffer.from(part))
    this.tailLen += part.length
  }

  private take (end: number, flags: number, sink: LineSink): void {
    // A CR before the LF stays: the bundle must give back exactly the bytes written.
    const bytes = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail, this.tailLen)
    const start = this.tailStart
    const f = flags | (this.truncated ? TRUNCATED : 0)
    this.tail = []
    this.tailLen = 0
    this.tailStart = end
    this.truncated = false
    sink(bytes, 0, bytes.length, start, end, f)
  }
}

function collect (out: RawLine[]): LineSink {
  return (buf, start, end, offset, next, flags) => {
    const line: RawLine = { bytes: Buffer.from(buf.subarray(start, end)), offset, end: next, truncated: (flags & TRUNCATED) !== 0 }
    if ((flags & SPLIT) !== 0) line.split = true
    out.push(line)
  }
}
