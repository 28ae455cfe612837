import { parentPort, workerData } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { encodeEntries } from '../../core/frames.js'
import { requiredNeedles } from '../line-filters.js'
import { BLOCK_FRAMES_LZ4, BlockDecoder, decodeBlock } from './block-codec.js'
import { bloomMayContain } from './block-index.js'
import { compileSpec, scanBlock, type LinesOut, type SamplesOut, type ScanSpec, type ScanStats } from './block-scan.js'
import { scanIndexed } from './indexed-scan.js'
import { LineColumns } from './line-index.js'
import { openDatabase } from './schema.js'

// A scan worker: its own read-only connection to the store file, reading, decoding and
// scanning the blocks it is given (block-scan.ts), so that queries use every core and never
// hold the event loop that serves ingest. The pool (scan-pool.ts) terminates a worker whose
// query was abandoned, whatever it is doing.

export interface ScanTask {
  id: number
  /** Per block: [stream sid, first offset (with sid, the block's key), clip (1: the block reaches outside the range), min_ts as seconds, and ns, lines]. */
  blocks: Array<[number, number, number, number, number, number]>
  spec: ScanSpec
}

export interface ScanReply {
  id: number
  ok: boolean
  error?: string
  lines?: LinesOut[]
  samples?: Array<{ sid: number, cell: number, lines: Float64Array, bytes: Float64Array }>
  stats: ScanStats & { blocks: number, skipped: number }
}

const { file } = workerData as { file: string }
const db: Database.Database = openDatabase(file, { readonly: true })
// The block's tables (schema.ts): its lines in `blocks`, what is kept beside them in tables of
// their own, so that reading a bloom or a line index never walks the pages of `data`.
const getData = db.prepare('SELECT format, data FROM blocks WHERE sid = ? AND first_offset = ?').safeIntegers(true)
const getLines = db.prepare('SELECT levels, line_index FROM block_lines WHERE sid = ? AND first_offset = ?')
const getBloom = db.prepare('SELECT bloom FROM block_blooms WHERE sid = ? AND first_offset = ?').pluck()

interface LinesRow { levels: Buffer | null, line_index: Buffer | null }
interface DataRow { format: bigint, data: Buffer }

/** From how many steps a reply's counts are moved to the main thread instead of copied. */
const MOVE_STEPS = 512
const cols = new LineColumns()
/** The block being scanned: every line kept of it is copied out (strings, counts) before the next. */
const decoder = new BlockDecoder()
const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

parentPort!.on('message', (task: ScanTask) => {
  const stats = { lines: 0, bytes: 0, blocks: 0, skipped: 0 }
  try {
    const c = compileSpec(task.spec)
    const needles = requiredNeedles(task.spec.filters)
    const lines: LinesOut[] = []
    const samples: SamplesOut = new Map()
    const noMessages = task.spec.mode === 'samples' && task.spec.filters.length === 0
    for (const [sid, first, clip, minHi, minLo, n] of task.blocks) {
      if (needles.length > 0) {
        const bloom = getBloom.get(sid, first) as Buffer | undefined
        if (bloom !== undefined && !needles.every((nd) => bloomMayContain(bloom, nd))) { stats.skipped++; continue }
      }
      // Only for a block that is read (most are ruled out above when a needle is rare).
      const minNs = BigInt(minHi) * 1_000_000_000n + BigInt(minLo)
      const ix = getLines.get(sid, first) as LinesRow | undefined
      const levels = ix?.levels != null ? bytesOf(ix.levels) : null
      const lineIndex = levels !== null ? ix?.line_index ?? null : null
      if (noMessages && lineIndex !== null) {
        stats.blocks++
        scanIndexed(null, levels!, cols.decode(lineIndex, n), minNs, sid, c, clip === 1, { samples }, stats)
        continue
      }
      const row = getData.get(sid, first) as DataRow | undefined
      if (row === undefined) continue // deleted by retention since the plan was made
      stats.blocks++
      const format = Number(row.format)
      const records = format === BLOCK_FRAMES_LZ4 ? decoder.decode(row.data) : encodeEntries(decodeBlock(row.data, format))
      const out = task.spec.mode === 'lines' ? { lines: { sid, hi: [], lo: [], ts: [], offset: [], line: [], cell: [], attrs: [] } as LinesOut } : { samples }
      if (lineIndex !== null && format === BLOCK_FRAMES_LZ4) scanIndexed(records, levels!, cols.decode(lineIndex, n), minNs, sid, c, clip === 1, out, stats)
      else scanBlock(records, levels, sid, c, clip === 1, out, stats)
      if (out.lines !== undefined && out.lines.ts.length > 0) lines.push(out.lines)
    }
    const reply: ScanReply = { id: task.id, ok: true, stats }
    if (task.spec.mode === 'lines') reply.lines = lines
    else reply.samples = [...samples.values()]
    // Counts of many steps are moved rather than copied; a few steps' are cheaper to copy than
    // to hand over (each moved buffer costs more than copying a few hundred bytes).
    const moved = (task.spec.steps ?? 0) >= MOVE_STEPS
    const transfer = moved ? reply.samples?.flatMap((s) => [s.lines.buffer as ArrayBuffer, s.bytes.buffer as ArrayBuffer]) ?? [] : []
    parentPort!.postMessage(reply, transfer)
  } catch (err) {
    parentPort!.postMessage({ id: task.id, ok: false, error: (err as Error).message, stats } satisfies ScanReply)
  }
})

// Tasks may come now (scan-pool.ts READY).
parentPort!.postMessage({ ready: true })
