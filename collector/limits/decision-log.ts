import { LRUCache } from 'lru-cache'

// What the rate limiter already decided, per stream, so that a retried batch gets the very
// same decisions: records admitted before pass again (the store ignores those it has), records
// dropped before stay dropped (and are not counted twice), and only records never seen are
// charged to a bucket. Offsets increase within a stream, so "seen" is one high-water mark plus
// the ranges that were dropped below it.

const MAX_RANGES = 64

export class StreamDecisions {
  /** Highest offset decided. */
  decided = -1
  /** Dropped offsets as inclusive [first, last] ranges, oldest first. */
  readonly dropped: Array<[number, number]> = []
  private lastWasDrop = false

  wasDropped (offset: number): boolean {
    for (let i = this.dropped.length - 1; i >= 0; i--) {
      const r = this.dropped[i]!
      if (offset > r[1]) return false
      if (offset >= r[0]) return true
    }
    return false
  }

  admit (offset: number): void {
    this.decided = offset
    this.lastWasDrop = false
  }

  drop (offset: number): void {
    const last = this.dropped[this.dropped.length - 1]
    if (this.lastWasDrop && last) last[1] = offset
    else {
      this.dropped.push([offset, offset])
      if (this.dropped.length > MAX_RANGES) this.dropped.shift()
    }
    this.decided = offset
    this.lastWasDrop = true
  }
}

export class DecisionLog {
  private readonly streams: LRUCache<string, StreamDecisions>
  constructor (maxStreams: number) {
    this.streams = new LRUCache({ max: maxStreams })
  }

  for (streamId: string): StreamDecisions {
    let d = this.streams.get(streamId)
    if (!d) { d = new StreamDecisions(); this.streams.set(streamId, d) }
    return d
  }
}
