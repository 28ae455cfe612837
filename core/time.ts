// Timestamps travel as Unix nanoseconds in decimal strings: a JS number cannot hold them, and
// a BigInt per line costs more than the string. RFC 3339 inputs keep every fractional digit.

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9})\d*)?(Z|z|[+-]\d{2}:?\d{2})$/

// Consecutive lines almost always share the same second: cache its parse.
let lastSecondKey = ''
let lastSecondMs = 0

/** RFC 3339 (with up to 9 fractional digits) to Unix ns; null if it does not parse. */
export function rfc3339ToNs (s: string): string | null {
  const m = RFC3339.exec(s)
  if (m === null) return null
  const key = m[1] + 'T' + m[2] + m[4]
  let ms: number
  if (key === lastSecondKey) {
    ms = lastSecondMs
  } else {
    let zone = m[4]!
    if (zone.length === 5) zone = zone.slice(0, 3) + ':' + zone.slice(3)
    ms = Date.parse(m[1] + 'T' + m[2] + (zone === 'z' ? 'Z' : zone))
    if (Number.isNaN(ms)) return null
    lastSecondKey = key
    lastSecondMs = ms
  }
  const frac = (m[3] ?? '').padEnd(9, '0')
  return secondsMsToNs(ms, frac)
}

function secondsMsToNs (ms: number, frac9: string): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 0) return (BigInt(seconds) * 1_000_000_000n + BigInt(frac9)).toString()
  return seconds === 0 ? String(Number(frac9)) : String(seconds) + frac9
}

const hrtimeBase = process.hrtime.bigint()
const wallBaseNs = BigInt(Date.now()) * 1_000_000n

const MAX_NS_TEXT = '9223372036854775807'

/**
 * Order of two Unix ns strings as stored (non-negative, no leading zeros): the shorter is
 * earlier, else the text decides. No BigInt per comparison: sorts of many lines call it.
 */
export function compareNs (a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}

/**
 * True when a Unix ns string can be stored: from 1970 (Elasticsearch's date_nanos starts
 * there) to 2262 (the end of signed 64-bit nanoseconds).
 */
export function storableNs (ns: string): boolean {
  if (ns.charCodeAt(0) === 0x2d /* - */) return false
  return ns.length < 19 || (ns.length === 19 && ns <= MAX_NS_TEXT)
}

/** Now in Unix ns, monotonic within the process (wall clock at start + hrtime since). */
export function nowNs (): string {
  return (wallBaseNs + (process.hrtime.bigint() - hrtimeBase)).toString()
}

/** Unix ns string to RFC 3339 with 9 fractional digits, in UTC. */
export function nsToRfc3339 (ns: string | bigint): string {
  const n = typeof ns === 'bigint' ? ns : BigInt(ns)
  const seconds = n / 1_000_000_000n
  let frac = n % 1_000_000_000n
  let sec = seconds
  if (frac < 0n) { frac += 1_000_000_000n; sec -= 1n }
  const iso = new Date(Number(sec) * 1000).toISOString() // 2026-11-23T10:00:00.000Z
  return iso.slice(0, 19) + '.' + frac.toString().padStart(9, '0') + 'Z'
}

const RELATIVE = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)$/
const UNIT_NS: Record<string, bigint> = {
  ns: 1n, us: 1000n, µs: 1000n, ms: 1_000_000n, s: 1_000_000_000n,
  m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n
}

/** A duration like `90s`, `2h`, `7d` in ns; null if it does not parse. */
export function durationToNs (s: string): bigint | null {
  const m = RELATIVE.exec(s.trim())
  if (m === null) return null
  const [int, frac = ''] = m[1]!.split('.')
  const unit = UNIT_NS[m[2]!]!
  const scale = 10n ** BigInt(frac.length)
  return (BigInt(int!) * scale + BigInt(frac || '0')) * unit / scale
}

/** What every time parameter and flag accepts, for error messages. */
export const TIME_FORMS = 'RFC 3339 (2026-11-23T10:00:00Z), Unix time (s, ms or ns), or a duration before now (90s, 2h, 7d)'

/** Stores keep times as signed 64-bit nanoseconds (SQLite, date_nanos). */
export const MAX_NS = (1n << 63n) - 1n
export const MIN_NS = -(1n << 63n)

/**
 * A time parameter of a query (parseTimeArg's forms) that a store can hold; null when it does
 * not parse or lies outside signed 64-bit nanoseconds, which is as unreadable as "abc".
 */
export function parseTimeParam (s: string, now?: bigint): bigint | null {
  const t = parseTimeArg(s, now)
  return t === null || t < MIN_NS || t > MAX_NS ? null : t
}

/**
 * A point in time given by a user: RFC 3339, a Unix time in s/ms/ns (by magnitude, as Loki
 * accepts), or a duration meaning that long before `now`. Returns Unix ns, or null.
 */
export function parseTimeArg (s: string, now: bigint = BigInt(nowNs())): bigint | null {
  const t = s.trim()
  if (/^\d+$/.test(t)) {
    const v = BigInt(t)
    if (t.length <= 10) return v * 1_000_000_000n
    if (t.length <= 13) return v * 1_000_000n
    return v
  }
  if (/^\d+\.\d+$/.test(t)) { // fractional Unix seconds, as Grafana sometimes sends
    const [a, b] = t.split('.')
    return BigInt(a!) * 1_000_000_000n + BigInt(b!.slice(0, 9).padEnd(9, '0'))
  }
  const d = durationToNs(t)
  if (d !== null) return now - d
  const ns = rfc3339ToNs(t)
  return ns === null ? null : BigInt(ns)
}
