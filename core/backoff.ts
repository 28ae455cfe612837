// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the wait is
// uniform in [0, min(max, initial · 2^attempt)], so forwarders retrying after a collector
// restart, or collectors after one 429 storm, spread out instead of coming back together.
// The one backoff of every retry loop (the forwarder's shipper and journald restarts, with a
// floor of half the cap as they always had; the search-engine writer, with none).

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  /**
   * The share of the cap every wait keeps (0: full jitter; 0.5: "equal jitter", uniform in
   * [cap/2, cap]), for a sender that must not retry sooner than half its backoff.
   */
  floor?: number
  random?: () => number
}

export function backoffMs (attempt: number, opts: BackoffOptions): number {
  const cap = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30))
  const floor = cap * (opts.floor ?? 0)
  return Math.floor(floor + (opts.random ?? Math.random)() * (cap - floor))
}

/** Wait `ms`. `unref`: the wait alone does not keep the process alive (a forwarder stopping). */
export function sleep (ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    if (unref) t.unref()
  })
}
