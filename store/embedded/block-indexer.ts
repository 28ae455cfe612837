import { RECORD_INDEX as X, type TsParts } from '../../core/frames.js'
import { BloomBuilder, CELLS, cell, encodeMinutes, encodeSummary, MAX_MINUTES, minuteOf } from './block-index.js'
import { LineIndexBuilder, MAX_SPAN_NS } from './line-index.js'

// What the writer keeps beside a block (schema 3): each line's level (found once, where the
// line entered: core/frames.ts decodeFrames puts it in the record index), the block's summary
// and its bloom (block-index.ts), (schema 4) its line index: each line's time, message
// position and stdio (line-index.ts), and (schema 5) its summary per minute. One walk over the
// block's rows of the record index; only the bloom reads the messages' bytes.

/** A bloom takes at most this share of its compressed block, and never more than 8 KiB. */
const BLOOM_SHARE = 0.15
const BLOOM_MAX_BYTES = 1 + 8192

export interface BlockIndex {
  /** One byte per line, in record order: its level's index in LEVELS. */
  levels: Buffer
  /** null when a line has a stdio the summary has no cell for (the reader then decodes). */
  summary: Buffer | null
  /** The summary per minute; null as summary is, or when the block spreads over more than MAX_MINUTES. */
  minutes: Buffer | null
  bloom: Buffer
  /** null when the block's times span too much or a line has a stdio the index cannot hold. */
  lineIndex: Buffer | null
}

/** The record index (core/frames.ts RECORD_INDEX) the block's records are rows of, from row `first`. */
export interface RecordIndex { index: Float64Array, first: number }

export class BlockIndexer {
  private readonly bloom = new BloomBuilder()
  private readonly cells = new Float64Array(2 * CELLS)
  private readonly minuteCells = new Float64Array(MAX_MINUTES * 2 * CELLS)
  private readonly lineIndex = new LineIndexBuilder()
  private readonly t: TsParts = { hi: 0, lo: 0 }

  /**
   * The index of the E records frames[start, end), `lines` of them; `compressedBytes` is the
   * block's stored size, which bounds its bloom; `min`, `max`: the block's time bounds, without
   * which it gets no line index.
   */
  index (frames: Buffer, start: number, end: number, lines: number, compressedBytes: number, records: RecordIndex, min?: TsParts, max?: TsParts): BlockIndex {
    const t = this.t
    const indexed = min !== undefined && max !== undefined && (max.hi - min.hi) * 1e9 + (max.lo - min.lo) <= MAX_SPAN_NS
    const cells = this.cells
    cells.fill(0)
    const levels = Buffer.allocUnsafe(lines)
    let summarized = true
    const firstMinute = min !== undefined ? minuteOf(min.hi, min.lo) : 0
    const span = min !== undefined && max !== undefined ? minuteOf(max.hi, max.lo) - firstMinute + 1 : 0
    const byMinute = span > 0 && span <= MAX_MINUTES
    if (byMinute) this.minuteCells.fill(0, 0, span * 2 * CELLS)
    // Each line's parts come from the record index (core/frames.ts RECORD_INDEX), which the
    // request's decoder filled: no record is parsed again here.
    const ix = records.index
    const W = X.width
    let k = records.first * W
    if (lines > 0 && (ix[k + X.start] !== start || k + lines * W > ix.length)) throw new Error(`a block of ${lines} lines does not start at its index's row ${records.first}`)
    let n = 0
    for (; n < lines; n++, k += W) {
      const msgStart = ix[k + X.start]! + ix[k + X.msgAt]!
      const msgLen = ix[k + X.msgLen]!
      const msgEnd = msgStart + msgLen
      if (msgEnd > end) throw new Error(`line ${n} of a block ends past the block`)
      const level = ix[k + X.level]!
      levels[n] = level
      const s = ix[k + X.stdio]!
      if (s === -1) summarized = false
      else {
        const c = 2 * cell(s, level)
        cells[c]!++
        cells[c + 1]! += msgLen
      }
      t.hi = ix[k + X.tsHi]!
      t.lo = ix[k + X.tsLo]!
      if (byMinute && s !== -1) {
        const c = (minuteOf(t.hi, t.lo) - firstMinute) * 2 * CELLS + 2 * cell(s, level)
        this.minuteCells[c]!++
        this.minuteCells[c + 1]! += msgLen
      }
      if (indexed) {
        // Positions in the block's records, which start at `start` here.
        this.lineIndex.add((t.hi - min!.hi) * 1e9 + (t.lo - min!.lo), msgStart - start, msgLen, s)
      }
      this.bloom.add(frames, msgStart, msgEnd)
    }
    if (n !== lines) throw new Error(`a block of ${lines} lines holds ${n} records`)
    return {
      levels,
      summary: summarized ? encodeSummary(cells) : null,
      minutes: summarized && byMinute ? encodeMinutes(this.minuteCells, firstMinute, span) : null,
      bloom: this.bloom.finish(Math.min(BLOOM_MAX_BYTES, Math.floor(BLOOM_SHARE * compressedBytes))),
      lineIndex: indexed ? this.lineIndex.finish() : null
    }
  }
}
