import type { ParsedLine } from './parsed-line.js'

export interface Assembled {
  ts: string
  stdio: string
  message: string
  /** True when joining the parts passed maxLineBytes and the message was cut. */
  truncated: boolean
  /** Where its first part starts (set for drained partials). */
  start?: number
}

interface Pending { ts: string, parts: string[], bytes: number, start: number, truncated: boolean, lastMs: number }

/**
 * Joins partial lines (CRI `P`, Docker lines without "\n") with the line that finishes them,
 * per stdio stream (stdout and stderr partials may interleave in one file). A joined record
 * takes the offset of its last part, so offsets stay increasing in file order; `safeOffset`
 * says where a restart must resume so that no pending partial is lost.
 */
export class PartialAssembler {
  private readonly pending = new Map<string, Pending>()

  constructor (private readonly maxLineBytes: number) {}

  /** True while a partial waits for the line that finishes it. */
  get hasPending (): boolean { return this.pending.size > 0 }

  /** Feed one parsed line starting at `offset` (read at `nowMs`); returns the finished record, or null. */
  add (p: ParsedLine, offset: number, nowMs = 0): Assembled | null {
    const open = this.pending.get(p.stdio)
    if (p.partial) {
      if (open) { this.append(open, p.message); open.lastMs = nowMs } else this.pending.set(p.stdio, { ts: p.ts, parts: [p.message], bytes: Buffer.byteLength(p.message), start: offset, truncated: false, lastMs: nowMs })
      return null
    }
    if (!open) return { ts: p.ts, stdio: p.stdio, message: p.message, truncated: false }
    this.append(open, p.message)
    this.pending.delete(p.stdio)
    return { ts: open.ts, stdio: p.stdio, message: open.parts.join(''), truncated: open.truncated }
  }

  /** The earliest offset a pending partial started at, or `fallback` when none is pending. */
  safeOffset (fallback: number): number {
    let min = fallback
    for (const p of this.pending.values()) if (p.start < min) min = p.start
    return min
  }

  /** When the oldest pending partial got its last part (0: none pending): a flush is due `flushMs` after. */
  get pendingSince (): number {
    let min = 0
    for (const p of this.pending.values()) if (min === 0 || p.lastMs < min) min = p.lastMs
    return min
  }

  /**
   * Partials whose last part came `flushMs` or longer before `nowMs`, as finished records: the
   * line that would finish them may never come (the container died after writing a `P` line;
   * the kubelet writes what it has at once).
   */
  drainStale (nowMs: number, flushMs: number): Assembled[] {
    const out: Assembled[] = []
    for (const [stdio, p] of this.pending) {
      if (nowMs - p.lastMs < flushMs) continue
      out.push({ ts: p.ts, stdio, message: p.parts.join(''), truncated: p.truncated, start: p.start })
      this.pending.delete(stdio)
    }
    return out
  }

  /** Pending partials as finished records (at end of a rotated or deleted file). */
  drain (): Assembled[] {
    const out = [...this.pending.entries()].map(([stdio, p]) => ({ ts: p.ts, stdio, message: p.parts.join(''), truncated: p.truncated }))
    this.pending.clear()
    return out
  }

  reset (): void { this.pending.clear() }

  private append (p: Pending, s: string): void {
    const len = Buffer.byteLength(s)
    if (p.bytes + len > this.maxLineBytes) {
      const room = this.maxLineBytes - p.bytes
      if (room > 0) p.parts.push(Buffer.from(s).subarray(0, room).toString('utf8'))
      p.bytes = this.maxLineBytes
      p.truncated = true
      return
    }
    p.parts.push(s)
    p.bytes += len
  }
}
