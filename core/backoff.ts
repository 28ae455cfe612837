// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the wait is
// uniform in [0, min(max, initial · 2^attempt)], so forwarders retrying after a collector
// restart, or collectors after one 429 storm, spread out instead of coming back together.
// The one backoff of every retry loop (the forwarder's shipper, the search-engine writer).

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  random?: () => number
}

export function backoffMs (attempt: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30))
  return Math.floor((opts.random ?? Math.random)() * cap)
}

/** Wait `ms`. `unref`: the wait alone does not keep the process alive (a forwarder stopping). */
export function sleep (ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    if (unref) t.unref()
  })
}
