// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the wait is
// uniform in [0, min(max, initial · 2^attempt)], so collectors retrying after one 429 storm
// spread out instead of coming back together.

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  random?: () => number
}

export function backoffMs (attempt: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30))
  return Math.floor((opts.random ?? Math.random)() * cap)
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
