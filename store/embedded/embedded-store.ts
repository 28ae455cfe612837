import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import type { Entry, Source, StreamBatch } from '../../core/record.js'
import { DaytwoError } from '../../core/errors.js'
import { framed, type FramedBatch, type FramesBody } from '../../core/frames.js'
import { selectorEquals, type DropRow, type LogStore, type ReadRequest, type StreamInfo, type StreamSelector, type UsageBucket, type UsageRequest, type UsageRollupRequest, type UsageRow, type WriteResult } from '../log-store.js'
import type { SampleParams, SampleVariant, SelectLogsParams, SelectParams, SelectedLine, VariantTotals } from '../select-params.js'
import { decodeBlock } from './block-codec.js'
import { EmbeddedSelect } from './embedded-select.js'
import { ScanPool } from './scan-pool.js'
import { openDatabase } from './schema.js'
import type { KeyWindow } from './record-keys.js'
import type { RecordBatch, RetentionOptions, RetentionResult, WriterResult } from './writer.js'
import { sqlUsageRollup } from '../usage-rollup.js'

interface StreamRow {
  sid: bigint, id: string, source: Source, node: string, deployment: string, job: string, idx: string, process: string, path: string,
  namespace: string | null, pod: string | null, container: string | null, org: string, space: string, app: string, labels: string | null,
  first_seen: bigint, last_ts: bigint, lines: bigint, bytes: bigint
}

const MAX_TS = (1n << 63n) - 1n

/** The embedded LogStore: SQLite in WAL mode, writes in a worker, reads on a connection of its own. */
export class EmbeddedStore implements LogStore {
  readonly kind = 'embedded'
  private readonly worker: Worker
  private readonly reader: Database.Database
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private seq = 0
  private closed = false
  private workerError: Error | null = null
  private readonly pool: ScanPool
  private readonly selector: EmbeddedSelect

  private constructor (worker: Worker, reader: Database.Database, file: string, scanWorkers: number | undefined) {
    this.worker = worker
    this.reader = reader
    this.pool = new ScanPool(file, scanWorkers)
    this.selector = new EmbeddedSelect(reader, this.pool, (equals) => this.selectStreams(equals).map((r) => ({ sid: Number(r.sid), info: toInfo(r) })))
    worker.on('message', (msg: { id: number, ok: boolean, result?: unknown, error?: string }) => {
      const p = this.pending.get(msg.id)
      if (!p) return
      this.pending.delete(msg.id)
      if (msg.ok) p.resolve(msg.result)
      else p.reject(new DaytwoError('STORE_UNAVAILABLE', msg.error ?? 'write failed'))
    })
    worker.on('error', (err) => this.fail(err))
    worker.on('exit', (code) => { if (!this.closed) this.fail(new Error(`store writer exited with code ${code}`)) })
  }

  static async open (dir: string, opts: { blockLines?: number, retention?: RetentionOptions, scanWorkers?: number, keyWindow?: KeyWindow } = {}): Promise<EmbeddedStore> {
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'daytwo.sqlite')
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: { file, blockLines: opts.blockLines ?? 1000, retention: opts.retention ?? null, keyWindow: opts.keyWindow } })
    // The worker creates the schema; wait for it before opening the read connection.
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { id: number }) => { if (m.id === 0) { cleanup(); resolve() } }
      // An error thrown in the worker may arrive as a plain object (better-sqlite3's SqliteError
      // loses its message on the way): name the file and whatever the error says.
      const onErr = (e: unknown) => { cleanup(); reject(new DaytwoError('STORE_UNAVAILABLE', `cannot open the embedded store ${file}: ${describe(e)}`)) }
      const cleanup = () => { worker.off('message', onMsg); worker.off('error', onErr) }
      worker.on('message', onMsg)
      worker.on('error', onErr)
    })
    const reader = openDatabase(file, { readonly: true })
    reader.defaultSafeIntegers(true)
    return new EmbeddedStore(worker, reader, file, opts.scanWorkers)
  }

  private fail (err: Error): void {
    this.workerError = err
    for (const p of this.pending.values()) p.reject(new DaytwoError('STORE_UNAVAILABLE', err.message))
    this.pending.clear()
  }

  private call<T> (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.workerError) return Promise.reject(new DaytwoError('STORE_UNAVAILABLE', this.workerError.message))
    const id = ++this.seq
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.worker.postMessage({ ...msg, id }, transfer)
    })
  }

  async write (batches: StreamBatch[]): Promise<WriteResult> {
    // The lines go to the writer as E records and their index (core/frames.ts): a forwarder's
    // own bytes when they came as frames. An owned body (FramesBody.owned), and frames encoded
    // here, move to the writer thread instead of being copied, when every group of the body is
    // in this write and the body is a whole ArrayBuffer of its own (never a slice of Buffer's
    // shared pool, whose other users would lose their bytes).
    const records: RecordBatch[] = []
    const given = new Map<FramesBody, FramedBatch[]>()
    for (const b of batches) {
      const f = framed(b)
      if (f.released) throw new DaytwoError('BAD_BATCH', 'a batch whose records were already handed to the store')
      records.push({ stream: f.stream, frames: f.frames, index: f.index })
      if (f.source.owned === true || f !== b) {
        const list = given.get(f.source)
        if (list) list.push(f); else given.set(f.source, [f])
      }
    }
    const transfer: ArrayBuffer[] = []
    for (const [source, groups] of given) if (new Set(groups).size === source.groups) movable(source, groups, transfer)
    const r = await this.call<WriterResult>({ op: 'write', batches: records }, transfer)
    return { ...r, perStream: new Map(r.perStream.map(([id, lines, bytes]) => [id, { lines, bytes }])) }
  }

  async streams (sel: StreamSelector): Promise<StreamInfo[]> {
    return this.selectStreams(sel).map(toInfo)
  }

  private selectStreams (sel: StreamSelector): StreamRow[] {
    const where: string[] = []
    const args: unknown[] = []
    for (const [field, v] of selectorEquals(sel)) {
      where.push(`${field === 'index' ? 'idx' : field} = ?`) // `index` is a keyword in SQL
      args.push(v)
    }
    if (sel.streamIds) {
      if (sel.streamIds.length === 0) return []
      where.push(`id IN (${sel.streamIds.map(() => '?').join(',')})`)
      args.push(...sel.streamIds)
    }
    const sql = `SELECT * FROM streams ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY first_seen, sid`
    return this.reader.prepare(sql).all(...args) as StreamRow[]
  }

  async * read (req: ReadRequest): AsyncIterable<{ stream: StreamInfo, entries: Entry[] }> {
    const from = req.fromNs ?? -MAX_TS
    const to = req.toNs ?? MAX_TS
    const blocks = this.reader.prepare('SELECT first_offset, last_offset, format, data FROM blocks WHERE sid = ? AND first_offset >= ? AND last_offset > ? AND max_ts >= ? AND min_ts <= ? ORDER BY first_offset LIMIT 64')
    const hasBounds = req.fromNs !== undefined || req.toNs !== undefined
    for (const row of this.selectStreams(req.selector)) {
      const info = toInfo(row)
      const after = req.after?.get(row.id) ?? -1
      let cursor = -1n
      for (;;) {
        // Page through blocks so a long stream never holds more than 64 blocks in memory.
        const page = blocks.all(row.sid, cursor + 1n, BigInt(after), from, to) as Array<{ first_offset: bigint, last_offset: bigint, format: bigint, data: Buffer }>
        if (page.length === 0) break
        for (const b of page) {
          let entries = decodeBlock(b.data, Number(b.format))
          if (after >= 0 || hasBounds) {
            entries = entries.filter((e) => {
              if (e[1] <= after) return false
              if (!hasBounds) return true
              const ts = BigInt(e[0])
              return ts >= from && ts <= to
            })
          }
          if (entries.length > 0) yield { stream: info, entries }
        }
        cursor = page[page.length - 1]!.first_offset
        if (page.length < 64) break
      }
    }
  }

  selectLogs (p: SelectLogsParams): AsyncIterable<SelectedLine[]> {
    return this.selector.selectLogs(p)
  }

  async selectSamples (p: SampleParams): Promise<SampleVariant[]> {
    return await this.selector.selectSamples(p)
  }

  async variants (p: Omit<SelectParams, 'lineFilters'>): Promise<VariantTotals[]> {
    return await this.selector.variants(p)
  }

  /** Scan workers terminated because their query was abandoned (for tests and metrics). */
  get scanStats (): { terminated: number, tasks: number } {
    return this.pool.stats
  }

  /** A usage report's buckets, summed by SQLite (one GROUP BY; store/usage-rollup.ts). */
  async usageRollup (req: UsageRollupRequest): Promise<UsageBucket[]> {
    return sqlUsageRollup(this.reader, req)
  }

  async usage (req: UsageRequest): Promise<UsageRow[]> {
    const args: unknown[] = [req.fromMs, req.toMs]
    let sql = 'SELECT minute, org, app, lines, bytes, dropped_lines, dropped_bytes FROM usage WHERE minute >= ? AND minute < ?'
    if (req.org !== undefined) { sql += ' AND org = ?'; args.push(req.org) }
    sql += ' ORDER BY minute, org, app'
    const rows = this.reader.prepare(sql).all(...args) as Array<{ minute: bigint, org: string, app: string, lines: bigint, bytes: bigint, dropped_lines: bigint, dropped_bytes: bigint }>
    return rows.map((r) => ({ minute: Number(r.minute), org: r.org, app: r.app, lines: Number(r.lines), bytes: Number(r.bytes), droppedLines: Number(r.dropped_lines), droppedBytes: Number(r.dropped_bytes) }))
  }

  async recordDrops (rows: DropRow[]): Promise<void> {
    if (rows.length > 0) await this.call({ op: 'drops', rows })
  }

  /** Apply retention now (it also runs on its own every `retention.checkMs`). */
  async enforceRetention (nowMs = Date.now()): Promise<RetentionResult> {
    return await this.call<RetentionResult>({ op: 'retention', nowMs })
  }

  async check (): Promise<string | null> {
    if (this.workerError) return this.workerError.message
    try {
      this.reader.prepare('SELECT 1').get()
      return null
    } catch (err) {
      return (err as Error).message
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    if (!this.workerError) await this.call({ op: 'close' }).catch(() => {})
    this.closed = true
    await this.pool.close()
    await this.worker.terminate()
    this.reader.close()
  }
}

/**
 * The memory of a body every group of which is being written: its bytes, when they are a whole
 * ArrayBuffer (never a slice of Buffer's shared pool, whose other users would lose their
 * bytes), and its record index (decodeFrames' own, shared by its groups only).
 */
function movable (source: FramesBody, groups: FramedBatch[], out: ArrayBuffer[]): void {
  const body = source.bytes
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer && !out.includes(body.buffer)) out.push(body.buffer)
  for (const g of groups) if (g.index.buffer instanceof ArrayBuffer && !out.includes(g.index.buffer)) out.push(g.index.buffer)
}

function describe (e: unknown): string {
  if (e instanceof Error && e.message) return e.message
  const o = e as { message?: unknown, code?: unknown } | null
  const parts = [o?.code, o?.message].filter((x) => typeof x === 'string' && x !== '')
  return parts.length > 0 ? parts.join(': ') + (o?.code === 'SQLITE_NOTADB' ? ' (not an SQLite database)' : '') : String(e)
}

function toInfo (r: StreamRow): StreamInfo {
  const info: StreamInfo = {
    id: r.id, source: r.source, node: r.node, deployment: r.deployment, job: r.job, index: r.idx, process: r.process, path: r.path,
    firstSeenNs: r.first_seen.toString(), lastTsNs: r.last_ts.toString(), lines: Number(r.lines), bytes: Number(r.bytes)
  }
  if (r.namespace !== null) info.namespace = r.namespace
  if (r.pod !== null) info.pod = r.pod
  if (r.container !== null) info.container = r.container
  if (r.org) info.org = r.org
  if (r.space) info.space = r.space
  if (r.app) info.app = r.app
  if (r.labels !== null) info.labels = JSON.parse(r.labels) as Record<string, string>
  return info
}
