import { parentPort, workerData } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { encodeEntries } from '../../core/frames.js'
import { requiredNeedles } from '../line-filters.js'
import { BLOCK_FRAMES_LZ4, decodeBlock, decodeRecords } from './block-codec.js'
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
  /** [stream sid, first offset (the block's key), clip (1: the block reaches outside the range)] */
  blocks: Array<[number, number, number]>
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
const columns = new Set((db.prepare('PRAGMA table_info(blocks)').all() as Array<{ name: string }>).map((c) => c.name))
const hasLevels = columns.has('levels')
const hasBloom = columns.has('bloom')
const hasLineIndex = columns.has('line_index')
const getBlock = db.prepare(`SELECT format, data${hasLevels ? ', levels' : ''}${hasLineIndex ? ', line_index, min_ts, lines' : ''} FROM blocks WHERE sid = ? AND first_offset = ?`).safeIntegers(true)
// What a metric query without line filters reads of a block that has a line index: not `data`.
const getIndex = hasLineIndex ? db.prepare('SELECT levels, line_index, min_ts, lines FROM blocks WHERE sid = ? AND first_offset = ?').safeIntegers(true) : null
const getBloom = hasBloom ? db.prepare('SELECT bloom FROM blocks WHERE sid = ? AND first_offset = ?').pluck() : null

interface IndexRow { levels: Buffer | null, line_index: Buffer | null, min_ts: bigint, lines: bigint }
interface BlockRow { format: bigint, data: Buffer, levels?: Buffer | null, line_index?: Buffer | null, min_ts?: bigint, lines?: bigint }

const cols = new LineColumns()
const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

parentPort!.on('message', (task: ScanTask) => {
  const stats = { lines: 0, bytes: 0, blocks: 0, skipped: 0 }
  try {
    const c = compileSpec(task.spec)
    const needles = requiredNeedles(task.spec.filters)
    const lines: LinesOut[] = []
    const samples: SamplesOut = new Map()
    const noMessages = task.spec.mode === 'samples' && task.spec.filters.length === 0
    for (const [sid, first, clip] of task.blocks) {
      if (getIndex !== null && noMessages) {
        const ix = getIndex.get(sid, first) as IndexRow | undefined
        if (ix === undefined) continue // deleted by retention since the plan was made
        if (ix.line_index !== null && ix.levels !== null) {
          stats.blocks++
          scanIndexed(null, bytesOf(ix.levels), cols.decode(ix.line_index, Number(ix.lines)), ix.min_ts, sid, c, clip === 1, { samples }, stats)
          continue
        }
      }
      if (getBloom !== null && needles.length > 0) {
        const bloom = getBloom.get(sid, first) as Buffer | null | undefined
        if (bloom != null && !needles.every((n) => bloomMayContain(bloom, n))) { stats.skipped++; continue }
      }
      const row = getBlock.get(sid, first) as BlockRow | undefined
      if (row === undefined) continue // deleted by retention since the plan was made
      stats.blocks++
      const format = Number(row.format)
      const records = format === BLOCK_FRAMES_LZ4 ? decodeRecords(row.data) : encodeEntries(decodeBlock(row.data, format))
      const levels = row.levels != null ? bytesOf(row.levels) : null
      const indexed = levels !== null && row.line_index != null && format === BLOCK_FRAMES_LZ4
      const out = task.spec.mode === 'lines' ? { lines: { sid, hi: [], lo: [], ts: [], offset: [], line: [], cell: [], attrs: [] } as LinesOut } : { samples }
      if (indexed) scanIndexed(records, levels, cols.decode(row.line_index!, Number(row.lines)), row.min_ts!, sid, c, clip === 1, out, stats)
      else scanBlock(records, levels, sid, c, clip === 1, out, stats)
      if (out.lines !== undefined && out.lines.ts.length > 0) lines.push(out.lines)
    }
    const reply: ScanReply = { id: task.id, ok: true, stats }
    if (task.spec.mode === 'lines') reply.lines = lines
    else reply.samples = [...samples.values()]
    const transfer = reply.samples?.flatMap((s) => [s.lines.buffer as ArrayBuffer, s.bytes.buffer as ArrayBuffer]) ?? []
    parentPort!.postMessage(reply, transfer)
  } catch (err) {
    parentPort!.postMessage({ id: task.id, ok: false, error: (err as Error).message, stats } satisfies ScanReply)
  }
})

// Tasks may come now (scan-pool.ts READY).
parentPort!.postMessage({ ready: true })
