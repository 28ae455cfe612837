/** A token bucket in bytes: refills at `rate` per second up to `burst`; starts full. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (readonly rate: number, readonly burst: number, nowMs: number) {
    this.tokens = burst
    this.last = nowMs
  }

  private refill (nowMs: number): void {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.last) * this.rate / 1000)
      this.last = nowMs
    }
  }

  /** Whether `n` bytes fit now (without taking them). */
  has (n: number, nowMs: number): boolean {
    this.refill(nowMs)
    return this.tokens >= n
  }

  take (n: number): void {
    this.tokens -= n
  }

  /** Full again: the bucket can be forgotten without changing any decision. */
  isFull (nowMs: number): boolean {
    this.refill(nowMs)
    return this.tokens >= this.burst
  }
}
