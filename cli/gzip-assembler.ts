import type { FileHandle } from 'node:fs/promises'
import { Writable, type TransformOptions } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { constants, createGzip, type Gzip, type ZlibOptions } from 'node:zlib'

// One gzip file (a single member, as `gzip` writes) assembled from pieces written at known
// positions, so that a piece can be compressed before what precedes it is known. A tar
// entry's header holds the file's size, which `logs fetch` learns only at the file's end;
// rather than staging the file on disk until then, the file's bytes are compressed at once
// behind a reserved slot, and the header goes into the slot as a stored (uncompressed)
// deflate block when the size is known.
//
// The deflate stream is a sequence of blocks; a block may be stored or compressed, and a
// segment of compressed blocks that ends in a sync flush (an empty stored block,
// 00 00 ff ff) is byte-aligned, so blocks from independent compressors can follow one
// another. Only the last block is marked final. The gzip trailer's CRC-32 covers the whole
// uncompressed stream: each piece's CRC is folded in, in stream order, with crc32Combine.

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]) // deflate, no name, no mtime, Unix: as zlib writes it
const SYNC_TAIL = Buffer.from([0, 0, 0xff, 0xff, 3, 0]) // a sync flush, then zlib's empty final block
const MAX_STORED = 65535
const HELD = SYNC_TAIL.length + 8

// CRC-32 of A‖B from crc(A), crc(B) and len(B): zlib's crc32_combine (crc32.c, 1.2.12+).
const POLY = 0xedb88320

function multModP (a: number, b: number): number {
  let m = 0x80000000
  let p = 0
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b
      if ((a & (m - 1)) === 0) break
    }
    m >>>= 1
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1
  }
  return p >>> 0
}

const X2N: number[] = []
for (let p = 0x40000000, n = 0; n < 32; n++) { X2N.push(p); p = multModP(p, p) }

/** x^(n·2^k) modulo the CRC polynomial. */
function x2nModP (n: number, k: number): number {
  let p = 0x80000000
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p)
    n = Math.floor(n / 2)
    k++
  }
  return p
}

export function crc32Combine (crc1: number, crc2: number, len2: number): number {
  return (multModP(x2nModP(len2, 3), crc1) ^ crc2) >>> 0
}

/** A stored deflate block (not final) holding `data`, split at 64 KiB as the format requires. */
function storedBlocks (data: Buffer, final = false): Buffer {
  const parts: Buffer[] = []
  let pos = 0
  do {
    const n = Math.min(MAX_STORED, data.length - pos)
    const last = final && pos + n === data.length
    const head = Buffer.from([last ? 1 : 0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff])
    parts.push(head, data.subarray(pos, pos + n))
    pos += n
  } while (pos < data.length)
  return Buffer.concat(parts)
}

/** The stored size of `len` bytes: what to reserve for a piece given later. */
function storedSize (len: number): number {
  return len + 5 * Math.max(1, Math.ceil(len / MAX_STORED))
}

/**
 * Writes zlib's gzip output for one segment at `start`, without the gzip header, and keeps
 * back its last bytes: the empty final block (dropped) and the trailer (read, not written).
 */
class SegmentSink extends Writable {
  written = 0
  crc = 0
  size = 0
  private skip = GZIP_HEADER.length
  private held = Buffer.alloc(0)

  constructor (private readonly fh: FileHandle, private readonly start: number) {
    super({ highWaterMark: 256 * 1024 })
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length)
      this.skip -= n
      chunk = chunk.subarray(n)
    }
    // Hold back the last 14 bytes seen: 03 00 and the 8-byte trailer, and 00 00 ff ff to check.
    let out: Buffer[]
    if (chunk.length >= HELD) {
      out = [this.held, chunk.subarray(0, chunk.length - HELD)]
      this.held = Buffer.from(chunk.subarray(chunk.length - HELD))
    } else {
      const all = Buffer.concat([this.held, chunk])
      out = [all.subarray(0, Math.max(0, all.length - HELD))]
      this.held = all.subarray(out[0]!.length)
    }
    const n = out[0]!.length + (out[1]?.length ?? 0)
    if (n === 0) { done(); return }
    const at = this.start + this.written
    this.written += n
    this.fh.writev(out, at).then(() => done(), done)
  }

  override _final (done: (err?: Error | null) => void): void {
    const h = this.held
    if (h.length !== HELD || !h.subarray(0, 6).equals(SYNC_TAIL)) { done(new Error('zlib did not end the segment with a sync flush and an empty final block')); return }
    this.crc = h.readUInt32LE(6)
    this.size = h.readUInt32LE(10) // modulo 2^32, as gzip's ISIZE
    const at = this.start + this.written
    this.written += 4
    this.fh.write(h, 0, 4, at).then(() => done(), done)
  }
}

/**
 * zlib works on the thread pool, but each input chunk and each output chunk is a round trip
 * through the main thread. Received chunks (~64 KiB) are gathered into 1 MiB inputs, with
 * 256 KiB outputs and room for a second input queued, so the compressor rarely waits for the
 * main thread.
 */
const INPUT = 1 << 20
const OUTPUT = 256 * 1024

export class Segment {
  private bytes = 0
  private pending: Buffer[] = []
  private pendingBytes = 0
  private readonly gz: Gzip
  private readonly sink: SegmentSink
  private readonly done: Promise<void>

  constructor (private readonly file: GzipAssembler, private readonly slot: number, private readonly slotLen: number, level: number) {
    const opts: ZlibOptions & TransformOptions = { level, chunkSize: OUTPUT, writableHighWaterMark: 2 * INPUT }
    this.gz = createGzip(opts)
    this.sink = new SegmentSink(file.fh, slot + slotLen)
    this.done = pipeline(this.gz, this.sink)
    this.done.catch(() => {}) // surfaced by write() or end()
  }

  /** Compress `chunk` (kept until compressed: do not change it); resolves when the compressor can take more. */
  async write (chunk: Buffer): Promise<void> {
    this.bytes += chunk.length
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    if (this.pendingBytes >= INPUT) await this.push()
  }

  private async push (): Promise<void> {
    if (this.pendingBytes === 0) return
    const input = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    if (!this.gz.write(input)) await Promise.race([new Promise((resolve) => this.gz.once('drain', resolve)), this.done])
  }

  /** End the segment and put `head` (of the length reserved) in the slot before it. */
  async end (head: Buffer): Promise<void> {
    if (storedSize(head.length) !== this.slotLen) throw new Error(`a ${head.length}-byte piece does not fit its ${this.slotLen}-byte slot`)
    await this.push()
    // flush() waits for 'drain' when the compressor is busy: end only once it has happened.
    await Promise.race([new Promise<void>((resolve) => this.gz.flush(constants.Z_SYNC_FLUSH, () => resolve())), this.done])
    this.gz.end()
    await this.done
    if (this.sink.size !== this.bytes % 2 ** 32) throw new Error(`zlib compressed ${this.sink.size} bytes of ${this.bytes}`)
    const stored = storedBlocks(head)
    await this.file.fh.write(stored, 0, stored.length, this.slot)
    this.file.fold(head, this.sink.crc, this.bytes, this.slot + this.slotLen + this.sink.written)
  }

  destroy (): void { this.gz.destroy() }
}

/** A gzip file being written: stored pieces, compressed segments, then finish(). */
export class GzipAssembler {
  private pos = GZIP_HEADER.length
  private crc = 0
  private size = 0

  private constructor (readonly fh: FileHandle) {}

  static async create (fh: FileHandle): Promise<GzipAssembler> {
    await fh.write(GZIP_HEADER, 0, GZIP_HEADER.length, 0)
    return new GzipAssembler(fh)
  }

  /** Append `data` as it is (tar headers of folders). */
  async stored (data: Buffer): Promise<void> {
    if (this.pos < 0) throw new Error('a segment is still open')
    const b = storedBlocks(data)
    const at = this.pos
    this.pos += b.length
    await this.fh.write(b, 0, b.length, at)
    this.crc = crc32Combine(this.crc, crc32(data), data.length)
    this.size += data.length
  }

  /**
   * Start a compressed segment behind a slot for a `headLen`-byte piece given at its end.
   * One segment at a time: the next piece starts where this one ends.
   */
  segment (headLen: number, level: number): Segment {
    if (this.pos < 0) throw new Error('a segment is still open')
    const slotLen = storedSize(headLen)
    const s = new Segment(this, this.pos, slotLen, level)
    this.pos = -1 // unknown until the segment ends
    return s
  }

  /** @internal A segment ended at `end`: fold its head and body into the CRC. */
  fold (head: Buffer, bodyCrc: number, bodyLen: number, end: number): void {
    this.crc = crc32Combine(this.crc, crc32(head), head.length)
    this.crc = crc32Combine(this.crc, bodyCrc, bodyLen)
    this.size += head.length + bodyLen
    this.pos = end
  }

  /** The last piece, in the final block, then the trailer. */
  async finish (tail: Buffer): Promise<void> {
    if (this.pos < 0) throw new Error('a segment is still open')
    const b = storedBlocks(tail, true)
    this.crc = crc32Combine(this.crc, crc32(tail), tail.length)
    this.size += tail.length
    const trailer = Buffer.alloc(8)
    trailer.writeUInt32LE(this.crc, 0)
    trailer.writeUInt32LE(this.size % 2 ** 32, 4)
    const all = Buffer.concat([b, trailer])
    await this.fh.write(all, 0, all.length, this.pos)
    await this.fh.truncate(this.pos + all.length)
  }
}

const CRC_TABLE = new Int32Array(256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY : c >>> 1
  CRC_TABLE[n] = c
}

/** CRC-32 of the small pieces (tar headers); zlib computes the segments' own. */
export function crc32 (data: Buffer): number {
  let c = -1
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ -1) >>> 0
}
