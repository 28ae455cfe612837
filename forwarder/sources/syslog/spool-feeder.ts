import type { Attributes, Entry, StreamTags } from '../../../core/record.js'
import type { DiskSpool, TakeMessage } from '../../spool/disk-spool.js'
import { StreamHandle, type Shipper } from '../../shipper.js'

interface StreamState { handle: StreamHandle, ackedBelow: number, inflight: number }
/** Messages [start, end) handed over one after the other, all of one stream. */
interface Run { start: number, end: number, st: StreamState }

/** Streams remembered without messages in flight before the idle ones are forgotten. */
const MAX_IDLE_STREAMS = 10_000

/**
 * Moves spooled messages into the shipper while it has capacity, and turns the shipper's
 * per-stream acknowledgements back into the spool's single mark: messages are handed over
 * in sequence order, so the mark is the sequence of the oldest message handed over and not
 * yet acknowledged. The entry offset is the spool sequence number, so a message read again
 * after a restart has the same record id.
 */
export class SpoolFeeder {
  private readonly streams = new Map<string, StreamState>()
  /** Sequence numbers handed to the shipper and not yet known acknowledged, oldest first. */
  private inflight: Run[] = []
  private head = 0
  private nextUnhanded = -1
  private pumpQueued = false
  private lastTags: StreamTags | null = null
  private lastState: StreamState | null = null
  /** The last pump stopped because the shipper had no room. */
  private full = false

  constructor (private readonly spool: DiskSpool, private readonly shipper: Shipper) {}

  /** Hand over what the shipper has room for; when it still has room, have the spool fsync what it holds. */
  pump (): void {
    this.full = false
    this.spool.read(this.take)
    if (!this.full) this.spool.syncNow()
  }

  private readonly take: TakeMessage = (seq: number, tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined, bytes: number): boolean => {
    if (!this.shipper.hasCapacity) { this.full = true; return false }
    const st = this.stateFor(tags)
    const q = this.inflight
    const last = q.length > this.head ? q[q.length - 1]! : undefined
    if (last !== undefined && last.st === st && last.end === seq) {
      last.end = seq + 1
    } else {
      q.push({ start: seq, end: seq + 1, st })
      st.inflight++
    }
    this.nextUnhanded = seq + 1
    const entry: Entry = attrs === undefined ? [tsNs, seq, message, ''] : [tsNs, seq, message, '', attrs]
    this.shipper.add(st.handle, entry, bytes, seq + 1)
    return true
  }

  private stateFor (tags: StreamTags): StreamState {
    // Consecutive messages mostly share a stream (and its tags object).
    if (tags === this.lastTags && this.lastState !== null) return this.lastState
    let st = this.streams.get(tags.id)
    if (st === undefined) {
      if (this.streams.size >= MAX_IDLE_STREAMS) this.forgetIdle()
      const state: StreamState = { handle: null as unknown as StreamHandle, ackedBelow: 0, inflight: 0 }
      state.handle = new StreamHandle(tags, (resume) => this.acked(state, resume))
      this.streams.set(tags.id, state)
      st = state
    }
    this.lastTags = tags
    this.lastState = st
    return st
  }

  private acked (st: StreamState, resume: number): void {
    if (resume > st.ackedBelow) st.ackedBelow = resume
    const q = this.inflight
    while (this.head < q.length) {
      const r = q[this.head]!
      if (r.end <= r.st.ackedBelow) { r.st.inflight--; this.head++; continue }
      if (r.start < r.st.ackedBelow) r.start = r.st.ackedBelow
      break
    }
    if (this.head > 4096 && this.head * 2 > q.length) { this.inflight = q.slice(this.head); this.head = 0 }
    const mark = this.head < this.inflight.length ? this.inflight[this.head]!.start : this.nextUnhanded
    if (mark >= 0) this.spool.ack(mark)
    // An acknowledged batch freed room in the shipper: refill it now rather than at the next tick.
    if (!this.pumpQueued) {
      this.pumpQueued = true
      setImmediate(() => { this.pumpQueued = false; this.pump() })
    }
  }

  /** Forget streams with nothing in flight: a later message of one makes a new handle (same id). */
  private forgetIdle (): void {
    this.lastTags = null
    this.lastState = null
    for (const [id, st] of this.streams) if (st.inflight === 0) this.streams.delete(id)
  }

  /** Streams with a handle (those with messages in flight, and recent ones). */
  get streamCount (): number { return this.streams.size }
}
