import { STDIOS } from '../stream-filter.js'
import { LEVELS } from '../../core/level.js'

// What the embedded store keeps beside each block so that a query need not decode it (the
// `summary` and `bloom` columns of `blocks`, schema 3):
//
//   summary  lines and message bytes per (stdio, level) cell: what count_over_time,
//            bytes_over_time and Grafana's logs-volume query ask of a block that lies inside
//            one step.
//   bloom    the byte trigrams of the block's messages that start at an even offset (each
//            message on its own: no trigram spans two lines), one hash per trigram, sized so
//            that about half of its bits are set. A block that lacks a needle of n ≥ 4 bytes
//            is decoded for `|= "needle"` with a chance of about 2 × 2^-((n−2)/2) (a 12-byte
//            needle: ~6 %, a 20-byte one: ~0.4 %). A block that holds it always answers "may
//            contain".

/** A line's stdio as a cell coordinate: none, stdout, stderr. */
export { STDIOS }
export const CELLS = STDIOS.length * LEVELS.length

/** The index of a stdio in STDIOS ('-' is the E record's way of saying none); -1 for any other value. */
export function stdioIndex (s: string): number {
  if (s === 'stdout') return 1
  if (s === 'stderr') return 2
  return s === '' || s === '-' ? 0 : -1
}

export function cell (stdioIdx: number, levelIdx: number): number {
  return stdioIdx * LEVELS.length + levelIdx
}

// ---------------------------------------------------------------------------------------
// Summary: [format 1][stdios][levels][bitmap of non-empty cells][lines, bytes as varints per
// non-empty cell]. A block mostly fills one to three cells: ~10 bytes.
// ---------------------------------------------------------------------------------------

const SUMMARY_FORMAT = 1

/** `cells`: 2 × CELLS numbers, [lines, bytes] per cell (cell() says which), non-negative integers. */
export function encodeSummary (cells: Float64Array): Buffer {
  if (cells.length !== 2 * CELLS) throw new Error(`a summary has ${2 * CELLS} numbers, not ${cells.length}`)
  const mapBytes = (CELLS + 7) >>> 3
  const out: number[] = [SUMMARY_FORMAT, STDIOS.length, LEVELS.length]
  const map = new Array<number>(mapBytes).fill(0)
  const values: number[] = []
  for (let c = 0; c < CELLS; c++) {
    const lines = cells[2 * c]!
    const bytes = cells[2 * c + 1]!
    if (lines === 0 && bytes === 0) continue
    map[c >>> 3]! |= 1 << (c & 7)
    varint(values, lines)
    varint(values, bytes)
  }
  return Buffer.from([...out, ...map, ...values])
}

function varint (out: number[], n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`a summary count must be a non-negative integer, not ${n}`)
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80) }
  out.push(n)
}

/** The cells of a summary written by encodeSummary (by this or an older daytwo); throws when it is not one. */
export function decodeSummary (b: Buffer): Float64Array {
  const cells = new Float64Array(2 * CELLS)
  if (b.length < 3 || b[0] !== SUMMARY_FORMAT) throw new Error(`a block summary of unknown format ${b[0] ?? '(empty)'}`)
  const stdios = b[1]!
  const levels = b[2]!
  // Levels and stdios are only ever added at the end: an older summary fits in today's cells.
  if (stdios > STDIOS.length || levels > LEVELS.length) throw new Error(`a block summary of ${stdios} × ${levels} cells (written by a newer daytwo?)`)
  const n = stdios * levels
  let p = 3 + ((n + 7) >>> 3)
  if (p > b.length) throw new Error('a block summary cut short')
  for (let c = 0; c < n; c++) {
    if ((b[3 + (c >>> 3)]! & (1 << (c & 7))) === 0) continue
    const to = 2 * cell(Math.floor(c / levels), c % levels)
    for (let k = 0; k < 2; k++) {
      let v = 0
      let scale = 1
      for (;;) {
        if (p >= b.length) throw new Error('a block summary cut short')
        const byte = b[p++]!
        v += (byte & 0x7f) * scale
        if (byte < 0x80) break
        scale *= 0x80
        if (scale > 2 ** 56) throw new Error('a block summary with a count out of range')
      }
      cells[to + k] = v
    }
  }
  if (p !== b.length) throw new Error('a block summary with bytes after its cells')
  return cells
}

// ---------------------------------------------------------------------------------------
// Bloom: [format][2^k bits]. Bit i of the bloom is bit (i & 7) of byte 1 + (i >> 3). A
// trigram t (three bytes, big-endian in 24 bits) sets bit hash(t) & (2^k − 1), so a bloom
// built at the largest size halves by OR-ing its two halves: blooms are built at MAX_BITS and
// folded while they stay at most half full (and always down to the size limit).
// Format 2 keeps only the trigrams that start at an even offset of their message: half the
// work at ingest. A needle found at an even offset then has its trigrams 0, 2, 4… in the
// bloom, one at an odd offset its trigrams 1, 3, 5…, so a block may hold the needle only if
// one of those two sets is all there; a needle needs 4 bytes for both sets to be non-empty.
// Format 1 (every trigram) is still read.
// ---------------------------------------------------------------------------------------

const BLOOM_FORMAT = 2
const BLOOM_ALL_TRIGRAMS = 1
/** 16 KiB: ~90 000 distinct trigrams at half fill, more than a block of 1 000 usual lines holds. */
const MAX_BITS = 1 << 17
const MIN_BITS = 1 << 9
const TARGET_FILL = 0.5

function hash (t: number): number {
  const h = Math.imul(t, 0x9e3779b1)
  return h ^ (h >>> 15)
}

/** Collects a block's messages into a bloom; reusable (finish starts it over). */
export class BloomBuilder {
  private readonly bits = new Int32Array(MAX_BITS >>> 5)
  private empty = true

  /** Adds the trigrams of one message, b[start, end). */
  add (b: Uint8Array, start: number, end: number): void {
    if (end - start < 3) return
    const bits = this.bits
    const mask = MAX_BITS - 1
    // Trigrams starting at even offsets: b[p-2, p] for p = start + 2, start + 4, …
    for (let p = start + 2; p < end; p += 2) {
      const i = hash((b[p - 2]! << 16) | (b[p - 1]! << 8) | b[p]!) & mask
      bits[i >>> 5]! |= 1 << (i & 31)
    }
    this.empty = false
  }

  /**
   * The bloom of what was added, at most `maxBytes` long (rounded down to a power of two of
   * bits, at least MIN_BITS), then clears the builder.
   */
  finish (maxBytes = 1 + MAX_BITS / 8): Buffer {
    let words = this.bits.length
    const limitWords = Math.max(MIN_BITS >>> 5, Math.min(words, floorPow2(Math.max(0, maxBytes - 1) >>> 2)))
    const bits = this.bits
    // Fold while the half is at most TARGET_FILL full, or while above the size limit.
    while (words > MIN_BITS >>> 5 && !this.empty) {
      const half = words >>> 1
      let set = 0
      for (let w = 0; w < half; w++) set += popcount(bits[w]! | bits[w + half]!)
      if (words <= limitWords && set > TARGET_FILL * half * 32) break
      for (let w = 0; w < half; w++) bits[w]! |= bits[w + half]!
      words = half
    }
    if (this.empty) words = MIN_BITS >>> 5
    const out = Buffer.allocUnsafe(1 + words * 4)
    out[0] = BLOOM_FORMAT
    // Bytes in little-endian order, so that bit i is bit (i & 7) of byte i >> 3 on any host.
    for (let w = 0; w < words; w++) out.writeInt32LE(bits[w]!, 1 + w * 4)
    bits.fill(0)
    this.empty = true
    return out
  }
}

/** A bloom over the messages b[ranges[2i], ranges[2i + 1]) (see BloomBuilder.finish for maxBytes). */
export function buildBloom (b: Uint8Array, ranges: ArrayLike<number>, maxBytes?: number): Buffer {
  const builder = new BloomBuilder()
  for (let i = 0; i + 1 < ranges.length; i += 2) builder.add(b, ranges[i]!, ranges[i + 1]!)
  return builder.finish(maxBytes)
}

/**
 * False only when no message of the block contains `needle` (bytes, case as given). True for
 * needles under 4 bytes (3 for format 1) and for a bloom of a format this daytwo does not know.
 */
export function bloomMayContain (bloom: Uint8Array, needle: Uint8Array): boolean {
  const format = bloom[0]
  if (needle.length < 3 || (format !== BLOOM_FORMAT && format !== BLOOM_ALL_TRIGRAMS)) return true
  const bits = (bloom.length - 1) * 8
  if (bits < 8 || (bits & (bits - 1)) !== 0) return true
  if (format === BLOOM_ALL_TRIGRAMS) return trigramsSet(bloom, bits - 1, needle, 0, 1)
  if (needle.length < 4) return true
  return trigramsSet(bloom, bits - 1, needle, 0, 2) || trigramsSet(bloom, bits - 1, needle, 1, 2)
}

/** Whether the needle's trigrams first, first + stride, … all have their bit set. */
function trigramsSet (bloom: Uint8Array, mask: number, needle: Uint8Array, first: number, stride: number): boolean {
  for (let j = first; j + 2 < needle.length; j += stride) {
    const i = hash((needle[j]! << 16) | (needle[j + 1]! << 8) | needle[j + 2]!) & mask
    if ((bloom[1 + (i >>> 3)]! & (1 << (i & 7))) === 0) return false
  }
  return true
}

/** The share of a bloom's bits that are set (for benchmarks and tests). */
export function bloomFill (bloom: Uint8Array): number {
  let set = 0
  for (let i = 1; i < bloom.length; i++) set += popcount(bloom[i]!)
  return set / ((bloom.length - 1) * 8)
}

function popcount (x: number): number {
  x = x - ((x >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

function floorPow2 (n: number): number {
  if (n < 1) return 0
  return 2 ** Math.floor(Math.log2(n))
}
