import { entryFrame } from '../core/frames.js'
import type { Entry } from '../core/record.js'

// One stream's entries in one batch, written straight into bytes in the frames format
// (core/frames.ts): `E <ts> <offset> <stdio> <message bytes> <attribute bytes>\n<message>…\n`.
// The file tailer writes most lines here from its read buffer: the time's digits, the offset,
// and the message bytes copied as they are — no string, array or object per line, and no
// escaping. Everything else arrives as an Entry and is encoded with entryFrame.

const INITIAL = 64 * 1024
const EMPTY = Buffer.alloc(0)
const SPACE = 0x20

export class EntryWriter {
  /** Allocated on the first write (or a recycled one): a batch that only moves positions needs no buffer. */
  buf: Buffer
  len = 0
  /** Entries written so far. */
  count = 0
  /** Offset of the last entry written (offsets must increase within a group). */
  lastOffset = -1

  constructor (recycled?: Buffer) {
    this.buf = recycled ?? EMPTY
  }

  /** The bytes written so far (a view, not a copy). */
  get bytes (): Buffer { return this.buf.subarray(0, this.len) }

  /** Make room for `n` more bytes. */
  reserve (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = Math.max(INITIAL, this.buf.length * 2)
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  /** A stream's `S` line: the entries after it are that stream's. */
  stream (prefix: Buffer): void {
    this.reserve(prefix.length)
    this.len += prefix.copy(this.buf, this.len)
  }

  /** An Entry from any source, encoded the general way. */
  entry (e: Entry): void {
    const s = entryFrame(e)
    this.reserve(s.length * 3)
    this.len += this.buf.write(s, this.len, 'utf8')
    this.count++
    this.lastOffset = e[1]
  }

  /** Start an entry of a `messageBytes` message: `E `. Then the time's digits, then `finish`. */
  begin (messageBytes: number): void {
    this.reserve(messageBytes + 96)
    this.buf[this.len++] = 0x45
    this.buf[this.len++] = SPACE
  }

  /** Copy ASCII bytes as they are (time digits). */
  raw (src: Buffer, start: number, end: number): void {
    const buf = this.buf
    let p = this.len
    for (let i = start; i < end; i++) buf[p++] = src[i]!
    this.len = p
  }

  /** ASCII text as it is (cached time digits). */
  ascii (s: string): void {
    const buf = this.buf
    let p = this.len
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i)
    this.len = p
  }

  /** `n` (0 to 999999999) as nine digits, zero-padded (fractional seconds). */
  digits9 (n: number): void {
    const buf = this.buf
    let p = this.len + 9
    this.len = p
    for (let i = 0; i < 9; i++) { const q = (n / 10) | 0; buf[--p] = 0x30 + n - q * 10; n = q }
  }

  /** `n` ASCII zeros (padding fractional seconds to nine digits). */
  zeros (n: number): void {
    const buf = this.buf
    let p = this.len
    for (let i = 0; i < n; i++) buf[p++] = 0x30
    this.len = p
  }

  /**
   * ` <offset> <stdio> <length> 0\n<message>\n`: the rest of the entry, its message being
   * `src[start, end)`, valid UTF-8, copied as it is.
   */
  finish (offset: number, stdio: string, src: Buffer, start: number, end: number): void {
    const buf = this.buf
    buf[this.len++] = SPACE
    this.uint(offset)
    buf[this.len++] = SPACE
    if (stdio === '') buf[this.len++] = 0x2d
    else this.ascii(stdio)
    buf[this.len++] = SPACE
    this.uint(end - start)
    buf[this.len++] = SPACE
    buf[this.len++] = 0x30
    buf[this.len++] = 0x0a
    this.len += src.copy(buf, this.len, start, end)
    buf[this.len++] = 0x0a
    this.count++
    this.lastOffset = offset
  }

  private uint (n: number): void {
    const buf = this.buf
    if (n < 0x80000000) { // small integer arithmetic: most offsets and every length
      let digits = 1
      for (let x = n; x >= 10; x = (x / 10) | 0) digits++
      let p = this.len + digits
      this.len = p
      let x = n
      do { const q = (x / 10) | 0; buf[--p] = 0x30 + x - q * 10; x = q } while (x > 0)
      return
    }
    this.ascii(String(n))
  }
}
