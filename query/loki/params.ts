import { DaytwoError } from '../../core/errors.js'
import { durationToNs, MIN_NS, nowNs, parseTimeParam } from '../../core/time.js'
import type { Direction } from './log-query.js'

// Request parameters as Loki reads them: times in ns, s (with fraction) or RFC 3339; `step`
// in seconds (float) or as a duration; defaults as in Loki's HTTP API reference.

/** Loki's default max_entries_limit_per_query: the most lines one log query returns. */
export const MAX_ENTRIES = 5000

export type Query = Record<string, string | string[] | undefined>

export function one (q: Query, name: string): string | undefined {
  const v = q[name]
  const s = Array.isArray(v) ? v[v.length - 1] : v
  return s === undefined || s === '' ? undefined : s
}

export function time (q: Query, name: string, dflt: bigint): bigint {
  const v = one(q, name)
  if (v === undefined) return dflt
  const t = parseTimeParam(v)
  if (t === null) throw new DaytwoError('BAD_LOGQL', `invalid parameter "${name}": cannot parse ${JSON.stringify(v)} to a valid timestamp`)
  return t
}


export function range (q: Query): { startNs: bigint, endNs: bigint } {
  const endNs = time(q, 'end', BigInt(nowNs()))
  const since = one(q, 'since')
  let dflt = endNs - 3_600_000_000_000n < MIN_NS ? MIN_NS : endNs - 3_600_000_000_000n
  if (since !== undefined) {
    const d = durationToNs(since)
    if (d === null) throw new DaytwoError('BAD_LOGQL', `invalid parameter "since": ${JSON.stringify(since)} is not a duration`)
    dflt = endNs - d < MIN_NS ? MIN_NS : endNs - d
  }
  const startNs = time(q, 'start', dflt)
  if (endNs < startNs) throw new DaytwoError('BAD_LOGQL', 'end timestamp must not be before or equal to start time')
  return { startNs, endNs }
}

export function limit (q: Query, dflt = 100): number {
  const v = one(q, 'limit')
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new DaytwoError('BAD_LOGQL', `invalid parameter "limit": limit must be a positive value, got ${JSON.stringify(v)}`)
  if (n > MAX_ENTRIES) throw new DaytwoError('BAD_LOGQL', `max entries limit per query exceeded, limit > max_entries_limit (${n} > ${MAX_ENTRIES})`)
  return n
}

export function direction (q: Query): Direction {
  const v = (one(q, 'direction') ?? 'backward').toLowerCase()
  if (v !== 'forward' && v !== 'backward') throw new DaytwoError('BAD_LOGQL', `invalid parameter "direction": must be forward or backward, got ${JSON.stringify(v)}`)
  return v
}

/** `step` in ns: float seconds or a duration; Loki's default makes about 250 points. */
export function step (q: Query, startNs: bigint, endNs: bigint): bigint {
  const v = one(q, 'step') ?? one(q, 'interval')
  if (v === undefined) {
    const s = (endNs - startNs) / 250n / 1_000_000_000n
    return (s < 1n ? 1n : s) * 1_000_000_000n
  }
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [a, b = ''] = v.split('.')
    return BigInt(a!) * 1_000_000_000n + BigInt(b.slice(0, 9).padEnd(9, '0'))
  }
  const d = durationToNs(v) ?? durationSum(v)
  if (d === null || d <= 0n) throw new DaytwoError('BAD_LOGQL', `invalid parameter "step": cannot parse ${JSON.stringify(v)} to a valid duration`)
  return d
}

function durationSum (v: string): bigint | null {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(v)) return null
  let total = 0n
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += durationToNs(m[1]! + m[2]!)!
  return total
}

/** Label names for `targetLabels=a,b`. */
export function list (q: Query, name: string): string[] {
  const v = one(q, name)
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean)
}

/** Every value of a repeated parameter (`match[]=…&match[]=…`). */
export function all (q: Query, ...names: string[]): string[] {
  const out: string[] = []
  for (const n of names) {
    const v = q[n]
    if (Array.isArray(v)) out.push(...v)
    else if (v !== undefined && v !== '') out.push(v)
  }
  return out
}
