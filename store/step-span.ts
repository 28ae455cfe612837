import type { TsParts } from '../core/frames.js'

// Which steps of a range query a line counts towards: Loki evaluates a range function at
// t = start + k·step over (t - range, t].

/**
 * The steps whose window (t - range, t] holds a line d ns after the first step: k with
 * d <= k·step < d + range, as [kMin, kEnd) clipped to [0, steps), written into `out` (a hot
 * path passes one array for all its lines rather than make one per line).
 */
export function stepSpan (d: number, step: number, range: number, steps: number, out: [number, number] = [0, 0]): [number, number] {
  let kMin = Math.ceil(d / step)
  if (kMin * step < d) kMin++
  if ((kMin - 1) * step >= d) kMin--
  let kEnd = Math.ceil((d + range) / step)
  if (kEnd * step < d + range) kEnd++
  if ((kEnd - 1) * step >= d + range) kEnd--
  if (kMin < 0) kMin = 0
  if (kEnd > steps) kEnd = steps
  out[0] = kMin
  out[1] = kEnd
  return out
}

/** Nanoseconds from `a` to `b`, exact while under 2^53 (104 days). */
export function nsBetween (a: TsParts, b: TsParts): number {
  return (b.hi - a.hi) * 1e9 + (b.lo - a.lo)
}

/** Nanoseconds as TsParts (hi seconds, lo nanoseconds, both carrying the sign, as frames do). */
export function parts (ns: bigint): TsParts {
  return { hi: Number(ns / 1_000_000_000n), lo: Number(ns % 1_000_000_000n) }
}
