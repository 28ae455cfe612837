import { STDIOS } from '../stream-filter.js'
import { LEVELS } from '../../core/level.js'

// What the embedded store keeps beside each block so that a query need not decode it
// (schema 3; since schema 5 in tables of their own, store/embedded/schema.ts):
//
//   summary  lines and message bytes per (stdio, level) cell: what count_over_time,
//            bytes_over_time and Grafana's logs-volume query ask of a block that lies inside
//            one step.
//   minutes  the same cells per minute of the block (schema 5, below).
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
  const out: number[] = [SUMMARY_FORMAT, STDIOS.length, LEVELS.length]
  putCells(out, cells, 0)
  return Buffer.from(out)
}

/** [bitmap of non-empty cells][lines, bytes as varints per non-empty cell] of cells[at, at + 2 × CELLS). */
function putCells (out: number[], cells: Float64Array, at: number): void {
  const mapAt = out.length
  for (let i = 0; i < (CELLS + 7) >>> 3; i++) out.push(0)
  for (let c = 0; c < CELLS; c++) {
    const lines = cells[at + 2 * c]!
    const bytes = cells[at + 2 * c + 1]!
    if (lines === 0 && bytes === 0) continue
    out[mapAt + (c >>> 3)]! |= 1 << (c & 7)
    varint(out, lines)
    varint(out, bytes)
  }
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
  const p = readCells(b, 3, stdios, levels, cells)
  if (p !== b.length) throw new Error('a block summary with bytes after its cells')
  return cells
}

/** Reads what putCells wrote for a grid of stdios × levels at b[p…] into `cells` (today's grid); the position after it. */
function readCells (b: Buffer, p: number, stdios: number, levels: number, cells: Float64Array): number {
  const n = stdios * levels
  const at = { p: p + ((n + 7) >>> 3) }
  if (at.p > b.length) throw new Error('a block summary cut short')
  for (let c = 0; c < n; c++) {
    if ((b[p + (c >>> 3)]! & (1 << (c & 7))) === 0) continue
    const to = 2 * cell(Math.floor(c / levels), c % levels)
    cells[to] = readVarint(b, at)
    cells[to + 1] = readVarint(b, at)
  }
  return at.p
}

// ---------------------------------------------------------------------------------------
// Minutes (schema 5): the summary cut into the block's minutes, so that a metric query whose
// steps and window are whole minutes (Grafana's logs volume at 1 m and above, `[1h]` counts)
// counts a block that straddles its steps without reading a line. Minute m holds the lines of
// times in ((m − 1) · 60 s, m · 60 s]: the window (t − range, t] of a step t on a whole minute
// is a run of whole minutes, so each minute counts towards a step wholly or not at all.
//   [format 1][stdios][levels][minutes n, varint][first minute, varint]
//   then per minute: [minutes since the one before, varint (0 for the first)][cells as above]
// Only minutes that hold lines are written.
// ---------------------------------------------------------------------------------------

const MINUTES_FORMAT = 1
export const MINUTE_NS = 60_000_000_000
/** A block spread over more minutes gets none (its line index counts it). */
export const MAX_MINUTES = 240

/**
 * The minute of a time t = hi s + lo ns (t ≥ 0): the m with (m − 1) · 60 s < t ≤ m · 60 s.
 */
export function minuteOf (hi: number, lo: number): number {
  const m = Math.floor(hi / 60)
  return lo === 0 && hi === m * 60 ? m : m + 1
}

/** `cells`: per minute first … first + span − 1, 2 × CELLS numbers as encodeSummary takes. */
export function encodeMinutes (cells: Float64Array, first: number, span: number): Buffer {
  const W = 2 * CELLS
  const body: number[] = []
  let n = 0
  let prev = first
  for (let k = 0; k < span; k++) {
    let empty = true
    for (let j = k * W; j < (k + 1) * W && empty; j++) empty = cells[j] === 0
    if (empty) continue
    varint(body, first + k - prev)
    prev = first + k
    putCells(body, cells, k * W)
    n++
  }
  const head: number[] = [MINUTES_FORMAT, STDIOS.length, LEVELS.length]
  varint(head, n)
  varint(head, first)
  return Buffer.from([...head, ...body])
}

/** Calls `each(minute, cells)` for every minute a block's minutes hold (cells reused between calls); throws when b is not one. */
export function eachMinute (b: Buffer, each: (minute: number, cells: Float64Array) => void): void {
  if (b.length < 3 || b[0] !== MINUTES_FORMAT) throw new Error(`block minutes of unknown format ${b[0] ?? '(empty)'}`)
  const stdios = b[1]!
  const levels = b[2]!
  if (stdios > STDIOS.length || levels > LEVELS.length) throw new Error(`block minutes of ${stdios} × ${levels} cells (written by a newer daytwo?)`)
  const at = { p: 3 }
  const n = readVarint(b, at)
  let minute = readVarint(b, at)
  const cells = new Float64Array(2 * CELLS)
  for (let k = 0; k < n; k++) {
    minute += readVarint(b, at)
    cells.fill(0)
    at.p = readCells(b, at.p, stdios, levels, cells)
    each(minute, cells)
  }
  if (at.p !== b.length) throw new Error('block minutes with bytes after their cells')
}

function readVarint (b: Buffer, at: { p: number }): number {
  let v = 0
  let scale = 1
  for (;;) {
    if (at.p >= b.length) throw new Error('a block summary cut short')
    const byte = b[at.p++]!
    v += (byte & 0x7f) * scale
    if (byte < 0x80) return v
    scale *= 0x80
    if (scale > 2 ** 56) throw new Error('a block summary with a count out of range')
  }
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
    // Trigrams starting at even offsets: b[p-2, p] for p = start + 2, start + 4, …; two per
    // turn, sharing the byte between them (one load less each, and V8 keeps the hashes in
    // registers: ~40 % less time a line than one trigram a turn; the bits set are the same).
    let p = start + 2
    for (; p + 2 < end; p += 4) {
      const mid = b[p]!
      const h1 = Math.imul((b[p - 2]! << 16) | (b[p - 1]! << 8) | mid, 0x9e3779b1)
      const h2 = Math.imul((mid << 16) | (b[p + 1]! << 8) | b[p + 2]!, 0x9e3779b1)
      const i1 = (h1 ^ (h1 >>> 15)) & mask
      const i2 = (h2 ^ (h2 >>> 15)) & mask
      bits[i1 >>> 5]! |= 1 << (i1 & 31)
      bits[i2 >>> 5]! |= 1 << (i2 & 31)
    }
    if (p < end) {
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
