// Where each line of a block lies and when it was written (the `line_index` column of
// `blocks`, schema 4), so that a query can count a block without reading its messages, and
// map a needle found anywhere in the decoded block to its line without walking the records.
//
//   [format 1] then per line, in record order, three varints (LEB128, any size up to 2^53):
//     zigzag(Δt)     the line's time minus the previous line's (the first: minus the block's
//                    min_ts), in ns; zigzag because a block's lines need not be time-ordered
//     gap            where its message starts, minus where the previous message ended (the
//                    first: minus 0): the E record's header, and the previous line's
//                    attributes; usually 1 byte
//     len × 4 + s    the message's length in bytes, and its stdio (0 none, 1 stdout, 2 stderr)
//
// About 7 bytes a line (4–5 of them the time). A block gets no line index when its times span
// more than 2^52 ns (they would not be exact as doubles) or a line has another stdio.

const FORMAT = 1
/** Largest span of times a line index holds exactly (zigzag doubles it, still under 2^53). */
export const MAX_SPAN_NS = 2 ** 52

/** Builds one block's line index, line by line; reusable (finish starts it over). */
export class LineIndexBuilder {
  private buf = Buffer.allocUnsafe(8192)
  private n = 1
  private prevT = 0
  private prevEnd = 0
  private ok = true

  /** `t`: ns since the block's min_ts; message at [msgStart, msgStart + msgLen) of the block's records. */
  add (t: number, msgStart: number, msgLen: number, stdio: number): void {
    if (stdio < 0 || stdio > 2 || t < 0 || t > MAX_SPAN_NS) { this.ok = false; return }
    if (this.buf.length - this.n < 30) {
      const grown = Buffer.allocUnsafe(2 * this.buf.length)
      this.buf.copy(grown, 0, 0, this.n)
      this.buf = grown
    }
    const d = t - this.prevT
    this.put(d >= 0 ? 2 * d : -2 * d - 1)
    this.put(msgStart - this.prevEnd)
    this.put(msgLen * 4 + stdio)
    this.prevT = t
    this.prevEnd = msgStart + msgLen
  }

  /** The index (a copy), or null when a line could not be held; then clears the builder. */
  finish (): Buffer | null {
    this.buf[0] = FORMAT
    const out = this.ok ? Buffer.from(this.buf.subarray(0, this.n)) : null
    this.n = 1
    this.prevT = 0
    this.prevEnd = 0
    this.ok = true
    return out
  }

  private put (v: number): void {
    const b = this.buf
    let p = this.n
    while (v >= 0x80) { b[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80) }
    b[p++] = v
    this.n = p
  }
}

/** A block's line index, decoded into columns; reused block after block (decode refills it). */
export class LineColumns {
  n = 0
  /** Message bytes of all lines. */
  bytes = 0
  time = new Float64Array(0)
  msgStart = new Uint32Array(0)
  msgLen = new Uint32Array(0)
  stdio = new Uint8Array(0)

  /** Decodes `index` for a block of `lines` lines; throws when it is not one. */
  decode (index: Uint8Array, lines: number): this {
    if (index[0] !== FORMAT) throw new Error(`a block line index of unknown format ${index[0] ?? '(empty)'}`)
    if (this.time.length < lines) {
      const size = Math.max(lines, 2 * this.time.length)
      this.time = new Float64Array(size)
      this.msgStart = new Uint32Array(size)
      this.msgLen = new Uint32Array(size)
      this.stdio = new Uint8Array(size)
    }
    const { time, msgStart, msgLen, stdio } = this
    const end = index.length
    let p = 1
    let t = 0
    let at = 0
    let bytes = 0
    for (let i = 0; i < lines; i++) {
      // Three varints; the common one-byte case without a loop.
      let b = index[p++]!
      let z = b & 0x7f
      for (let s = 0x80; b >= 0x80; s *= 0x80) { b = index[p++]!; z += (b & 0x7f) * s }
      b = index[p++]!
      let gap = b & 0x7f
      for (let s = 0x80; b >= 0x80; s *= 0x80) { b = index[p++]!; gap += (b & 0x7f) * s }
      b = index[p++]!
      let ls = b & 0x7f
      for (let s = 0x80; b >= 0x80; s *= 0x80) { b = index[p++]!; ls += (b & 0x7f) * s }
      if (p > end) throw new Error(`a block line index cut short at line ${i} of ${lines}`)
      t += z % 2 === 0 ? z / 2 : -(z + 1) / 2
      time[i] = t
      at += gap
      msgStart[i] = at
      const len = Math.floor(ls / 4)
      msgLen[i] = len
      stdio[i] = ls % 4
      at += len
      bytes += len
    }
    if (p !== end) throw new Error(`a block line index with bytes after its ${lines} lines`)
    this.n = lines
    this.bytes = bytes
    return this
  }

  /** The line whose message starts at or before `pos`, searching from line `from`; -1 if none. */
  lineAt (pos: number, from: number): number {
    const starts = this.msgStart
    let lo = from
    let hi = this.n - 1
    if (lo > hi || starts[lo]! > pos) return lo - 1
    // Galloping first: hits are usually near the last one.
    let step = 1
    while (lo + step <= hi && starts[lo + step]! <= pos) { lo += step; step *= 2 }
    if (lo + step < hi) hi = lo + step
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= pos) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}
