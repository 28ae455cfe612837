import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import type { ForwarderConfig } from '../core/config-schema.js'
import type { Entry, StreamTags } from '../core/record.js'
import { NDJSON, encodeGroup, groupPrefix } from '../core/wire.js'
import type { Logger } from '../core/logger.js'
import type { ForwarderMetrics } from './metrics.js'

const gzip = promisify(gzipCb)

/** A source's stream as the shipper sees it: tags (their JSON cached) and where acks go. */
export class StreamHandle {
  readonly prefix: string
  constructor (readonly tags: StreamTags, readonly onAck: (resumeOffset: number) => void) {
    this.prefix = groupPrefix(tags)
  }
}

interface Group { handle: StreamHandle, entries: Entry[], resume: number }
interface Batch { groups: Group[], lines: number, bytes: number, attempt: number }

/**
 * Builds batches grouped by stream, ships them gzipped to the collector one at a time, and
 * acknowledges each stream's position only after the collector answered 200. Retries with
 * exponential backoff and jitter; 413 splits the batch; 400 means this forwarder sent
 * something the collector cannot read, which is counted and skipped rather than retried
 * forever. When `maxQueuedBatches` wait, `hasCapacity` is false and sources stop reading.
 */
export class Shipper {
  private open = new Map<StreamHandle, Group>()
  private openLines = 0
  private openBytes = 0
  private timer: NodeJS.Timeout | null = null
  private readonly queue: Batch[] = []
  private sending = false
  private stopping = false
  private idleWaiters: Array<() => void> = []
  private readonly url: string
  private failingSince = 0
  /** Called for every entry handed to the shipper (log-derived metrics hook in here). */
  readonly observers: Array<(handle: StreamHandle, entry: Entry, bytes: number) => void> = []
  /** Called when an acknowledged batch made room: sources that stopped reading resume now. */
  readonly onCapacity: Array<() => void> = []

  constructor (private readonly cfg: ForwarderConfig, private readonly token: string, private readonly metrics: ForwarderMetrics, private readonly log: Logger) {
    this.url = new URL('/api/v1/ingest', cfg.collectorUrl).toString()
  }

  get hasCapacity (): boolean { return this.queue.length < this.cfg.maxQueuedBatches }

  add (handle: StreamHandle, entry: Entry, bytes: number, resumeOffset: number): void {
    let g = this.open.get(handle)
    if (!g) {
      g = { handle, entries: [], resume: resumeOffset }
      this.open.set(handle, g)
    }
    g.entries.push(entry)
    g.resume = resumeOffset
    for (let i = 0; i < this.observers.length; i++) this.observers[i]!(handle, entry, bytes)
    this.openLines++
    this.openBytes += bytes
    this.metrics.queuedBytes.inc(bytes)
    if (this.openLines >= this.cfg.batchMaxLines || this.openBytes >= this.cfg.batchMaxBytes) this.seal()
    else if (this.timer === null) this.timer = setTimeout(() => this.seal(), this.cfg.flushIntervalMs)
  }

  /** A stream's position moved without a line to ship (e.g. only blank data was skipped). */
  advance (handle: StreamHandle, resumeOffset: number): void {
    const g = this.open.get(handle)
    if (g) g.resume = resumeOffset
    else if (this.queue.length === 0 && !this.sending) handle.onAck(resumeOffset)
    else this.open.set(handle, { handle, entries: [], resume: resumeOffset })
  }

  seal (): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.open.size === 0) return
    this.queue.push({ groups: [...this.open.values()], lines: this.openLines, bytes: this.openBytes, attempt: 0 })
    this.open = new Map()
    this.openLines = 0
    this.openBytes = 0
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
  }

  private async run (): Promise<void> {
    this.sending = true
    while (this.queue.length > 0 && !this.stopping) {
      const batch = this.queue[0]!
      const outcome = await this.send(batch)
      if (outcome === 'retry') {
        batch.attempt++
        await sleep(backoff(batch.attempt, this.cfg.retryMaxMs))
        continue
      }
      this.queue.shift()
      if (outcome === 'split') this.queue.unshift(...split(batch))
      else this.settle(batch)
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
    for (const g of batch.groups) g.handle.onAck(g.resume)
    this.metrics.queuedBytes.dec(batch.bytes)
  }

  private async send (batch: Batch): Promise<'ok' | 'retry' | 'split' | 'rejected'> {
    let body = ''
    for (const g of batch.groups) if (g.entries.length > 0) body += encodeGroup(g.handle.prefix, g.entries)
    if (body.length === 0) return 'ok'
    let status = 0
    let detail = ''
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': NDJSON, 'content-encoding': 'gzip', authorization: `Bearer ${this.token}`, 'user-agent': 'daytwo-forwarder' },
        body: await gzip(body, { level: 1 }),
        signal: AbortSignal.timeout(60_000)
      })
      status = res.status
      detail = await res.text()
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

function split (b: Batch): Batch[] {
  const entries: Array<[Group, Entry]> = []
  for (const g of b.groups) for (const e of g.entries) entries.push([g, e])
  const half = Math.ceil(entries.length / 2)
  return [entries.slice(0, half), entries.slice(half)].map((part, i) => {
    const groups = new Map<StreamHandle, Group>()
    let bytes = 0
    for (const [g, e] of part) {
      let ng = groups.get(g.handle)
      // The first half's groups resume at their last line; the second half at the original point.
      if (!ng) { ng = { handle: g.handle, entries: [], resume: g.resume }; groups.set(g.handle, ng) }
      ng.entries.push(e)
      bytes += Buffer.byteLength(e[2])
    }
    if (i === 0) {
      for (const ng of groups.values()) {
        const orig = b.groups.find((x) => x.handle === ng.handle)!
        const lastInFirst = ng.entries[ng.entries.length - 1]!
        ng.resume = lastInFirst === orig.entries[orig.entries.length - 1] ? orig.resume : Math.min(orig.resume, lastInFirst[1])
      }
    }
    return { groups: [...groups.values()], lines: part.length, bytes, attempt: 0 }
  })
}

function backoff (attempt: number, maxMs: number): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.min(attempt - 1, 16))
  return base / 2 + Math.random() * base / 2
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
