// The type Loki's detected_fields gives a field from one of its values, tried in Loki's order
// (grafana/loki pkg/querier/queryrange/detected_fields.go `determineType`): int, float,
// boolean, duration, bytes, else string; each test follows the Go parser Loki calls
// (strconv.ParseInt / ParseFloat / ParseBool, time.ParseDuration, humanize.ParseBytes).

export type FieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string'

const INT = /^[+-]?\d+$/
const INT64_MAX = (1n << 63n) - 1n
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const FLOAT_WORD = /^[+-]?(?:inf|infinity|nan)$/i
const BOOL = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'])
const DURATION = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/
const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 1024, kib: 1024,
  m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, ti: 1024 ** 4, tib: 1024 ** 4,
  p: 1e15, pb: 1e15, pi: 1024 ** 5, pib: 1024 ** 5,
  e: 1e18, eb: 1e18, ei: 1024 ** 6, eib: 1024 ** 6
}

export function fieldType (v: string): FieldType {
  if (INT.test(v)) {
    const n = BigInt(v)
    if (n <= INT64_MAX && n >= -INT64_MAX - 1n) return 'int'
  }
  if ((FLOAT.test(v) && Number.isFinite(Number(v))) || FLOAT_WORD.test(v)) return 'float'
  if (BOOL.has(v)) return 'boolean'
  if (v === '0' || DURATION.test(v)) return 'duration'
  if (parseBytes(v) !== null) return 'bytes'
  return 'string'
}

/** humanize.ParseBytes: a number (digits, `.`, `,`) and an optional SI or IEC unit; null otherwise. */
export function parseBytes (v: string): number | null {
  let i = 0
  while (i < v.length && /[0-9.,]/.test(v[i]!)) i++
  if (i === 0) return null
  const n = Number(v.slice(0, i).replaceAll(',', ''))
  const unit = BYTE_UNITS[v.slice(i).trim().toLowerCase()]
  if (!Number.isFinite(n) || unit === undefined) return null
  return n * unit
}

const ALLOWED_BYTE_SUFFIXES = ['b', 'kib', 'kb', 'mib', 'mb', 'gib', 'gb', 'tib', 'tb', 'pib', 'pb', 'eib', 'eb', 'ki', 'k', 'mi', 'm', 'gi', 'g', 'ti', 't', 'pi', 'p', 'ei', 'e']
const SI = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']

/**
 * A detected field's value as Loki lists it: a byte size with a unit is rewritten in
 * humanize.Bytes' form without the space (`1536KiB` → `1.6MB`) so it can go straight into a
 * query; any other value is unchanged.
 */
export function displayValue (v: string): string {
  const bytes = parseBytes(v)
  const lower = v.toLowerCase()
  if (bytes === null || !ALLOWED_BYTE_SUFFIXES.some((u) => lower.endsWith(u))) return v
  const s = Math.floor(bytes)
  if (s < 10) return `${s}B`
  const e = Math.floor(Math.log(s) / Math.log(1000))
  const val = Math.floor(s / 1000 ** e * 10 + 0.5) / 10
  return (val < 10 ? val.toFixed(1) : val.toFixed(0)) + SI[e]!
}
