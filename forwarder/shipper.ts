import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { ForwarderConfig } from '../core/config-schema.js'
import type { Entry, StreamTags } from '../core/record.js'
import { FRAMES, decodeFrames, streamFrame } from '../core/frames.js'
import { NDJSON, encodeBatch } from '../core/wire.js'
import type { Logger } from '../core/logger.js'
import { EntryWriter } from './entry-writer.js'
import { Poster, collectorTls } from './http-client.js'
import type { ForwarderMetrics } from './metrics.js'
import { userAgent } from '../core/version.js'
import { sleep } from '../core/backoff.js'
import { retryWaitMs, type Headers } from '../core/http-client.js'

/** The first retry's longest wait; each further retry doubles it, up to forwarder.retryMaxMs. */
const RETRY_INITIAL_MS = 250

const gzip = promisify(gzipCb)

/** A source's stream as the shipper sees it: tags (their JSON cached) and where acks go. */
export class StreamHandle {
  readonly prefix: Buffer
  constructor (readonly tags: StreamTags, readonly onAck: (resumeOffset: number) => void) {
    this.prefix = streamFrame(tags)
  }
}

/**
 * A batch: one body in the frames format (core/frames.ts) that every stream writes into, a
 * stream's `S` line written whenever the writing stream changes, so a stream may appear in
 * several groups of one batch (in offset order). `acks` holds where each stream resumes once
 * the batch is acknowledged.
 */
class Batch {
  readonly w: EntryWriter
  readonly acks = new Map<StreamHandle, number>()
  /** The streams of the body's groups, in order (one per `S` line). */
  readonly order: StreamHandle[] = []
  /** The stream writing now and where it resumes (kept out of `acks` until it changes). */
  current: StreamHandle | null = null
  currentResume = 0
  lines = 0
  bytes = 0
  attempt = 0
  /** The request body, gzipped on the thread pool from the moment the batch is sealed (null: nothing to send). */
  body?: Promise<Uint8Array<ArrayBuffer> | null>

  constructor (recycled?: Buffer) {
    this.w = new EntryWriter(recycled)
  }

  select (handle: StreamHandle): void {
    if (this.current !== null) this.acks.set(this.current, this.currentResume)
    this.current = handle
    this.currentResume = this.acks.get(handle) ?? 0
    this.order.push(handle)
    this.w.stream(handle.prefix)
  }

  /** Done writing: `acks` is complete. */
  close (): void {
    if (this.current !== null) this.acks.set(this.current, this.currentResume)
    this.current = null
  }
}

/** Sees every line handed to the shipper (log-derived metrics): as a string (`message` may be only its head), or as bytes. */
export interface LineObserver {
  observe: (handle: StreamHandle, stdio: string, message: string, bytes: number, severity: string | undefined) => void
  observeBytes: (handle: StreamHandle, stdio: string, buf: Buffer, start: number, end: number, ascii: boolean) => void
}

/**
 * Builds batches grouped by stream (frames, core/frames.ts), ships them to the collector one at a time, and
 * acknowledges each stream's position only after the collector answered 200. Retries with
 * exponential backoff and jitter; 413 splits the batch; 400 means this forwarder sent
 * something the collector cannot read, which is counted and skipped rather than retried
 * forever. When `maxQueuedBatches` wait, `hasCapacity` is false and sources stop reading.
 */
export class Shipper {
  private open = new Batch()
  /** Body buffers of acknowledged batches, for the next ones (no regrowing, no garbage). */
  private readonly spare: Buffer[] = []
  private timer: NodeJS.Timeout | null = null
  private readonly queue: Batch[] = []
  private sending = false
  private stopping = false
  private idleWaiters: Array<() => void> = []
  private readonly url: string
  private readonly poster: Poster
  /** The collector answered 415 to frames: it predates them, so batches go as NDJSON. */
  private ndjson = false
  private failingSince = 0
  /** The headers of the last answer that asks for a retry (its Retry-After lengthens the wait). */
  private retryHeaders: Headers | undefined
  /** Called for every entry handed to the shipper (log-derived metrics hook in here). */
  readonly observers: LineObserver[] = []
  /** Called when an acknowledged batch made room: sources that stopped reading resume now. */
  readonly onCapacity: Array<() => void> = []

  constructor (private readonly cfg: ForwarderConfig, token: string, private readonly metrics: ForwarderMetrics, private readonly log: Logger) {
    this.url = new URL('/api/v1/ingest', cfg.collectorUrl).toString()
    this.poster = new Poster(this.url, { 'content-type': FRAMES, 'content-encoding': cfg.compression === 'gzip' ? 'gzip' : 'identity', authorization: `Bearer ${token}`, 'user-agent': userAgent('forwarder') }, undefined, undefined, collectorTls(cfg))
  }

  get hasCapacity (): boolean { return this.queue.length < this.cfg.maxQueuedBatches }

  add (handle: StreamHandle, entry: Entry, bytes: number, resumeOffset: number): void {
    this.writer(handle).entry(entry)
    if (this.observers.length > 0) this.observe(handle, entry[3], entry[2], bytes, entry[4]?.severity)
    this.wrote(bytes, resumeOffset)
  }

  /**
   * The open batch's writer, positioned on `handle`'s stream, for a source that writes its
   * entries itself: write one entry, then call `wrote` (and `observeBytes`, when there are
   * observers) before asking for the writer again — `wrote` may seal the batch.
   */
  writer (handle: StreamHandle): EntryWriter {
    const b = this.open
    if (b.current !== handle) b.select(handle)
    return b.w
  }

  private observe (handle: StreamHandle, stdio: string, message: string, bytes: number, severity: string | undefined): void {
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.observe(handle, stdio, message, bytes, severity)
  }

  /** A line written through `writer()`: its message is `buf[start, end)`, valid UTF-8 (`ascii`: known to be ASCII). */
  observeBytes (handle: StreamHandle, stdio: string, buf: Buffer, start: number, end: number, ascii: boolean): void {
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!.observeBytes(handle, stdio, buf, start, end, ascii)
  }

  /** One entry of `bytes` message bytes was written through `writer()`; after it the stream resumes at `resumeOffset`. */
  wrote (bytes: number, resumeOffset: number): void {
    const b = this.open
    b.currentResume = resumeOffset
    b.lines++
    b.bytes += bytes
    if (b.lines >= this.cfg.batchMaxLines || b.bytes >= this.cfg.batchMaxBytes) this.seal()
    else if (this.timer === null) this.timer = setTimeout(() => this.seal(), this.cfg.flushIntervalMs)
  }

  /** A stream's position moved without a line to ship (e.g. only blank data was skipped). */
  advance (handle: StreamHandle, resumeOffset: number): void {
    const b = this.open
    if (b.current === handle) b.currentResume = resumeOffset
    else if (b.acks.has(handle) || this.queue.length > 0 || this.sending) b.acks.set(handle, resumeOffset)
    else handle.onAck(resumeOffset)
  }

  seal (): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    const batch = this.open
    batch.close()
    if (batch.acks.size === 0) return
    this.open = new Batch(this.spare.pop())
    // Compress now, while the batches before it are in flight and the sources read on.
    const body = encodeBody(batch, this.cfg.compression)
    body.catch(() => {}) // awaited in send(); a rejection there is a retry
    batch.body = body
    this.queue.push(batch)
    this.metrics.queuedBytes.inc(batch.bytes)
    this.metrics.queuedBatches.set(this.queue.length)
    if (!this.sending) void this.run()
  }

  /** Ship what is buffered and wait until it is acknowledged, or until `timeoutMs`. */
  async drain (timeoutMs: number): Promise<boolean> {
    this.seal()
    if (this.queue.length === 0 && !this.sending) return true
    let timer: NodeJS.Timeout | undefined
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)))
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })
    const ok = await Promise.race([idle, timeout])
    clearTimeout(timer)
    return ok
  }

  stop (): void {
    this.stopping = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.poster.close()
  }

  private async run (): Promise<void> {
    this.sending = true
    while (this.queue.length > 0 && !this.stopping) {
      const batch = this.queue[0]!
      const outcome = await this.send(batch)
      if (outcome === 'retry') {
        batch.attempt++
        // The backoff, or the collector's Retry-After (503 while its inflate budget is spent) when longer.
        await sleep(retryWaitMs(batch.attempt - 1, this.retryHeaders, { initialMs: RETRY_INITIAL_MS, maxMs: this.cfg.retryMaxMs, floor: 0.5 }), true)
        continue
      }
      this.queue.shift()
      if (outcome === 'split') this.queue.unshift(...split(batch))
      else this.settle(batch)
      if (batch.w.buf.length > 0 && this.spare.length < this.cfg.maxQueuedBatches) this.spare.push(batch.w.buf)
      this.metrics.queuedBatches.set(this.queue.length)
      if (this.hasCapacity) for (const f of this.onCapacity) f()
    }
    this.sending = false
    if (this.queue.length === 0) {
      for (const w of this.idleWaiters) w()
      this.idleWaiters = []
    }
  }

  private settle (batch: Batch): void {
    for (const [handle, resume] of batch.acks) handle.onAck(resume)
    this.metrics.queuedBytes.dec(batch.bytes)
  }

  private async send (batch: Batch): Promise<'ok' | 'retry' | 'split' | 'rejected'> {
    let status = 0
    let detail = ''
    this.retryHeaders = undefined
    try {
      if (batch.w.count === 0) return 'ok'
      const res = this.ndjson
        ? await this.poster.post(await ndjsonBody(batch, this.cfg.compression), { 'content-type': NDJSON })
        : await this.poster.post((await (batch.body ??= encodeBody(batch, this.cfg.compression)))!)
      status = res.status
      detail = res.text
      this.retryHeaders = res.headers
    } catch (err) {
      detail = (err as Error).message
    }
    if (status === 200) {
      this.metrics.batches.inc({ result: 'ok' })
      this.metrics.linesShipped.inc(batch.lines)
      this.metrics.bytesShipped.inc(batch.bytes)
      if (this.failingSince !== 0) this.log.info({ url: this.url }, 'collector accepts batches again')
      this.failingSince = 0
      return 'ok'
    }
    if (status === 413 && batch.lines > 1) {
      this.metrics.batches.inc({ result: 'split' })
      return 'split'
    }
    if (status === 413) {
      // One line the collector will never take (its maxBodyBytes is below our maxLineBytes):
      // retrying it forever would stop this stream and every one behind it.
      this.metrics.batches.inc({ result: 'rejected' })
      this.metrics.drop('too_large_for_collector', 1, `a ${batch.bytes}-byte line; raise collector.maxBodyBytes or lower forwarder.maxLineBytes`)
      return 'rejected'
    }
    if (status === 415 && !this.ndjson) {
      // A collector older than the frames format (a rolling upgrade): NDJSON from now on.
      this.ndjson = true
      this.log.warn({ url: this.url }, 'collector does not take the frames format (an older version?); sending NDJSON instead')
      this.metrics.batches.inc({ result: 'retry' })
      return 'retry'
    }
    if (status === 400) {
      this.metrics.batches.inc({ result: 'rejected' })
      this.metrics.drop('rejected_by_collector', batch.lines, detail.slice(0, 300))
      return 'rejected'
    }
    this.metrics.batches.inc({ result: 'retry' })
    if (this.failingSince === 0) {
      this.failingSince = Date.now()
      const why = status === 0 ? detail : `HTTP ${status} ${detail.slice(0, 300)}`
      this.log.warn({ url: this.url, status }, `collector did not accept a batch (${why}); reading pauses while retrying`)
    }
    return 'retry'
  }
}

/** Halves of a batch the collector found too large (413): rare, so the body is decoded again. */
function split (b: Batch): Batch[] {
  const entries: Array<[StreamHandle, Entry]> = []
  const last = new Map<StreamHandle, Entry>()
  const groups = b.w.count === 0 ? [] : decodeFrames(b.w.bytes, false)
  groups.forEach((g, i) => {
    const handle = b.order[i]!
    for (const e of g.entries) entries.push([handle, e])
    if (g.entries.length > 0) last.set(handle, g.entries[g.entries.length - 1]!)
  })
  const half = Math.ceil(entries.length / 2)
  const [first, second] = [entries.slice(0, half), entries.slice(half)].map((part) => {
    const batch = new Batch()
    const lastOffset = new Map<StreamHandle, number>()
    for (const [handle, e] of part) {
      if (batch.current !== handle) batch.select(handle)
      batch.w.entry(e)
      batch.lines++
      batch.bytes += Buffer.byteLength(e[2])
      lastOffset.set(handle, e[1])
    }
    batch.close()
    return { batch, lastOffset }
  }) as [{ batch: Batch, lastOffset: Map<StreamHandle, number> }, { batch: Batch, lastOffset: Map<StreamHandle, number> }]
  for (const [handle, resume] of b.acks) {
    const off = first.lastOffset.get(handle)
    const done = off !== undefined && off === last.get(handle)?.[1]
    // A stream whose lines all went into the first half resumes where the batch said;
    // one split across both resumes at its last line of the first half until the second is in.
    if (off !== undefined) first.batch.acks.set(handle, done ? resume : Math.min(resume, off))
    // The second half carries the original position of everything not finished by the first
    // (streams that only moved their position included).
    if (!done) second.batch.acks.set(handle, resume)
  }
  return [first.batch, second.batch]
}

/** A batch's body (frames, core/frames.ts), gzipped unless configured otherwise (level 1: a few times smaller, at a fraction of the CPU of level 6). */
async function encodeBody (batch: Batch, compression: 'gzip' | 'none'): Promise<Uint8Array<ArrayBuffer> | null> {
  if (batch.w.count === 0) return null
  // Uncompressed, the body is the batch's own buffer: it is recycled only once the batch is settled.
  if (compression === 'none') return batch.w.bytes as Uint8Array<ArrayBuffer>
  return await gzip(batch.w.bytes, GZIP) as Uint8Array<ArrayBuffer>
}

const GZIP = { level: 1, chunkSize: 128 * 1024 }

/** The same batch as NDJSON (core/wire.ts), for a collector that predates frames. */
async function ndjsonBody (batch: Batch, compression: 'gzip' | 'none'): Promise<Uint8Array<ArrayBuffer>> {
  const body = Buffer.from(encodeBatch(decodeFrames(batch.w.bytes, false)))
  return (compression === 'gzip' ? await gzip(body, GZIP) : body) as Uint8Array<ArrayBuffer>
}

