import { detectLevel, syslogSeverityLevel } from '../../core/level.js'
import type { Entry } from '../../core/record.js'
import { nsToIso } from '../elasticsearch/timestamp.js'

// Field names the query translation relies on, and the per-line fields computed once at
// ingest so the engine can filter and sum them: the line's level, its message bytes, and its
// time split into milliseconds (what the engine's date arithmetic and sort values use) and
// the nanoseconds within the millisecond.

export const REC = {
  ts: '@timestamp',
  streamId: 'daytwo.stream_id',
  offset: 'log.offset',
  stdio: 'stream',
  level: 'log.level',
  bytes: 'daytwo.bytes',
  /** ceil(ts / 1 ms): a line is in (a, b] (whole ms) exactly when this is in [a + 1, b + 1). */
  tsCeilMs: 'daytwo.ts_ceil_ms',
  /** ts mod 1 ms, the sort key after the millisecond. */
  tsSubMs: 'daytwo.ts_sub_ms',
  message: 'message',
  /** The `wildcard`-typed subfield that line filters are pushed down to. */
  messageWildcard: 'message.wc'
} as const

export const STREAMS = { id: 'id', firstSeen: 'first_seen', lastTs: 'last_ts' } as const

/** The level of a line as stored: a syslog severity when the line has one, else detected. */
export function lineLevel (e: Entry): string {
  const sev = e[4]?.severity
  return sev !== undefined ? syslogSeverityLevel(sev) : detectLevel(e[2])
}

/** The ingest fields of one record, as JSON members to append to its document. */
export function ingestFields (e: Entry, bytes: number): string {
  const ns = e[0]
  let ms: string
  let sub: number
  if (ns.length > 6 && ns.charCodeAt(0) !== 45 /* - */) {
    ms = ns.slice(0, -6)
    sub = Number(ns.slice(-6))
  } else {
    const n = BigInt(ns)
    let m = n / 1_000_000n
    let s = n % 1_000_000n
    if (s < 0n) { m -= 1n; s += 1_000_000n }
    ms = m.toString()
    sub = Number(s)
  }
  const ceil = sub === 0 ? ms : (BigInt(ms) + 1n).toString()
  return ',"log.level":"' + lineLevel(e) + '","daytwo.bytes":' + bytes + ',"daytwo.ts_ceil_ms":' + ceil + ',"daytwo.ts_sub_ms":' + sub
}

/** date_nanos covers 1970 to 2262: clamp open-ended bounds into it. */
export function nsToIsoClamped (ns: bigint): string {
  const max = 9223372036854775807n
  return nsToIso((ns < 0n ? 0n : ns > max ? max : ns).toString())
}
