import { compareNs } from '../../core/time.js'
import type { StreamAcc } from '../elasticsearch/rollups.js'
import { streamOps } from '../elasticsearch/rollups.js'

// Stream documents are updated at most once per stream per interval: a stream this process
// has not written yet gets its document with the write that brings its first records (a
// query must find every stream with stored lines), later lines only add to a pending sum
// that one bulk request writes for all streams every `flushMs` (and at close). Queries allow
// for the lag in `last_ts` (search-engine/reads.ts).

export class StreamBook {
  private pending = new Map<string, StreamAcc>()
  private readonly written = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()

  constructor (private readonly index: string, private readonly flushMs: number, private readonly send: (ops: string[]) => Promise<void>) {
    if (flushMs > 0) {
      this.timer = setInterval(() => { void this.flush() }, flushMs)
      this.timer.unref()
    }
  }

  /** The operations to send with this write (new streams); the rest wait for the next flush. */
  take (accs: Iterable<StreamAcc>): { ops: string[], ids: string[] } {
    const now: StreamAcc[] = []
    for (const a of accs) {
      if (this.flushMs === 0 || !this.written.has(a.tags.id)) { now.push(a); continue }
      const p = this.pending.get(a.tags.id)
      if (p === undefined) { this.pending.set(a.tags.id, { ...a }); continue }
      p.tags = a.tags
      p.lines += a.lines
      p.bytes += a.bytes
      if (compareNs(a.lastNs, p.lastNs) > 0) p.lastNs = a.lastNs
      if (compareNs(a.firstNs, p.firstNs) < 0) p.firstNs = a.firstNs
    }
    return { ops: streamOps(this.index, now), ids: now.map((a) => a.tags.id) }
  }

  /** Streams whose documents were written (so later lines may wait). */
  markWritten (ids: string[]): void {
    for (const id of ids) this.written.add(id)
  }

  /** Writes the pending sums: one bulk request for all streams. */
  async flush (): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pending.size === 0) return
      const accs = this.pending
      this.pending = new Map()
      await this.send(streamOps(this.index, accs.values()))
    })
    this.flushing = run.catch(() => {})
    await run
  }

  async close (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.flush()
  }
}
