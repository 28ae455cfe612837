import type { Logger } from '../../core/logger.js'
import type { DropRow, LogStore } from '../../store/log-store.js'

const MAX_PENDING = 10_000

/**
 * Drops persisted for usage reports (`store.recordDrops`). A drop is decided once, so its row
 * must not be lost when the store is briefly unavailable: rows that fail to persist wait here
 * (bounded, merged per org/app/reason) and go with the next flush.
 */
export class DropLedger {
  private pending = new Map<string, DropRow>()

  constructor (private readonly store: LogStore, private readonly log: Logger) {}

  add (rows: DropRow[]): void {
    for (const r of rows) {
      const key = r.org + '\0' + r.app + '\0' + r.reason
      const p = this.pending.get(key)
      if (p) { p.lines += r.lines; p.bytes += r.bytes } else if (this.pending.size < MAX_PENDING) this.pending.set(key, { ...r })
    }
  }

  /** Persist what is pending; never throws (what fails stays pending). */
  async flush (): Promise<void> {
    if (this.pending.size === 0) return
    const rows = [...this.pending.values()]
    this.pending = new Map()
    try {
      await this.store.recordDrops(rows)
    } catch (err) {
      this.log.warn({ err: (err as Error).message, rows: rows.length }, 'cannot record drops yet; keeping them for the next batch')
      this.add(rows)
    }
  }

  get size (): number { return this.pending.size }
}
