import { inflateRawSync } from 'node:zlib'
import lz4 from 'lz4'
import { entriesOf } from '../../core/frames.js'
import type { Entry } from '../../core/record.js'

// How a block's lines are kept (the `format` column of `blocks`):
//   1  schema 1's blocks: the entries as a JSON array, raw deflate at level 1. Still read.
//   2  the lines' E records (core/frames.ts) as the forwarder sent them, as one LZ4 block with
//      its uncompressed size in front (4 bytes, little-endian; lz4_flex calls this
//      "prepend size"). Written since schema 2: the collector no longer makes a string per
//      line nor a JSON document per block, and LZ4 compresses ~5× faster than deflate at
//      level 1 (~780 against ~160 MB/s here) for blocks ~1.5× larger.
//
// LZ4 is the reference C library through the `lz4` package: lz4-napi (Rust's lz4_flex) was
// measured too, at half the speed (~390 MB/s) for the same bytes.

export const BLOCK_JSON_DEFLATE = 1
export const BLOCK_FRAMES_LZ4 = 2

/** Compresses blocks into one scratch buffer; what `encode` returns is valid until its next call. */
export class BlockEncoder {
  private scratch = Buffer.allocUnsafe(0)

  encode (records: Buffer): Buffer {
    const need = 4 + lz4.encodeBound(records.length)
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(Math.max(need, 2 * this.scratch.length))
    this.scratch.writeUInt32LE(records.length, 0)
    const n = lz4.encodeBlock(records, this.scratch.subarray(4))
    // encodeBlock answers 0 for input it cannot make smaller than the bound allows; the bound
    // always allows, so 0 only comes for empty input.
    if (n <= 0 && records.length > 0) throw new Error(`LZ4 could not compress a block of ${records.length} bytes`)
    return this.scratch.subarray(0, 4 + n)
  }
}

export function decodeBlock (data: Buffer, format: number): Entry[] {
  if (format === BLOCK_FRAMES_LZ4) return entriesOf(decodeLz4(data))
  if (format === BLOCK_JSON_DEFLATE) return JSON.parse(inflateRawSync(data).toString('utf8')) as Entry[]
  throw new Error(`a block of format ${format}, which this daytwo does not know (written by a newer version?)`)
}

/** A format-2 block's E records, decompressed. */
export function decodeRecords (data: Buffer): Buffer {
  return decodeLz4(data)
}

/**
 * Decompresses format-2 blocks into one scratch buffer; what `decode` returns is valid until
 * its next call. A scan worker decodes block after block of ~200 KB: a fresh buffer for each
 * is fresh memory for the kernel to map in every time.
 */
export class BlockDecoder {
  private scratch = Buffer.allocUnsafe(0)

  decode (data: Buffer): Buffer {
    const size = sizeOf(data)
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 2 * this.scratch.length))
    return decodeLz4(data, this.scratch.subarray(0, size))
  }
}

function sizeOf (data: Buffer): number {
  if (data.length < 4) throw new Error('a block shorter than its size field')
  return data.readUInt32LE(0)
}

function decodeLz4 (data: Buffer, out = Buffer.allocUnsafe(sizeOf(data))): Buffer {
  const size = out.length
  if (size === 0) return out
  const n = lz4.decodeBlock(data.subarray(4), out)
  if (n !== size) throw new Error(`a block that does not decompress to its ${size} bytes (${n < 0 ? `corrupt at byte ${-n}` : `${n} bytes`})`)
  return out
}
