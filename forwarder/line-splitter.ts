// Splits file bytes into lines on 0x0A, on Buffers, keeping each line's byte offset.
// Like split2 it keeps the unfinished tail on the instance and guards runaway lines with a
// maximum length; unlike split2 it works on bytes, because checkpoints and record ids need
// exact byte offsets, and it never buffers more than `maxLineBytes` of one line.

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

  /** Feed bytes read at `offset` (which must follow what was fed before). */
  push (chunk: Buffer, offset: number, out: RawLine[]): void {
    if (this.tailLen === 0 && !this.truncated) this.tailStart = offset
    let pos = 0
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos)
      if (this.mode === 'split') {
        const segEnd = nl === -1 ? chunk.length : nl
        while (this.tailLen + (segEnd - pos) > this.maxLineBytes) {
          const room = this.maxLineBytes - this.tailLen
          this.keep(chunk.subarray(pos, pos + room))
          pos += room
          const piece = this.take(offset + pos)
          piece.split = true
          out.push(piece)
        }
      }
      if (nl === -1) {
        this.keep(chunk.subarray(pos))
        return
      }
      this.keep(chunk.subarray(pos, nl))
      const end = offset + nl + 1
      out.push(this.take(end))
      pos = nl + 1
    }
  }

  /** At end of a file that will not grow again: the unfinished line as a last line. */
  flush (end: number, out: RawLine[]): void {
    if (this.tailLen > 0 || this.truncated) out.push(this.take(end))
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

  private take (end: number): RawLine {
    // A CR before the LF stays: the bundle must give back exactly the bytes written.
    const bytes = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail, this.tailLen)
    const line: RawLine = { bytes, offset: this.tailStart, end, truncated: this.truncated }
    this.tail = []
    this.tailLen = 0
    this.tailStart = end
    this.truncated = false
    return line
  }
}
