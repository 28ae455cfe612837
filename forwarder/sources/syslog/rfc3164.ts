import { rfc3339ToNs } from '../../../core/time.js'
import { DEFAULT_FACILITY, DEFAULT_SEVERITY, parsePri, type SyslogMessage } from './syslog-message.js'

// RFC 3164 §4.1: <PRI>TIMESTAMP SP HOSTNAME SP MSG, TIMESTAMP = "Mmm dd hh:mm:ss" (day
// space-padded) with no year and no zone; MSG = TAG (program, optionally "[pid]") ":" CONTENT.
// What a relay does with a broken header (§4.3) is what we do:
//   - no PRI: the whole frame is CONTENT, PRI 13 (user.notice);
//   - PRI but no valid TIMESTAMP: everything after PRI is CONTENT;
// and then the receive time and the sender's address stand in for TIMESTAMP and HOSTNAME.
// Like rsyslog, an RFC 3339 timestamp is accepted in place of the BSD one
// (RSYSLOG_ForwardFormat; without a zone, as loggen sends it, it is read in the configured
// zone), and a header whose HOSTNAME is missing ("<13>Oct 11 22:14:15
// su: …", as local senders write it) is read as TAG.

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 }
const BSD_TS = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?= |$)/
const ISO_TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?(?= |$)/
const TAG = /^([^\s:[\]]{1,48})(?:\[([^\s\]]{1,128})\])?:(?: |$)/

/** How RFC 3164's zoneless times are read: `local`, `UTC` or a fixed offset `±HH:MM`. */
export type Zone = string

export interface Rfc3164Options {
  zone: Zone
  /** Now in Unix ms: the year is the one that puts the timestamp nearest to it. */
  nowMs: number
}

export function parseRfc3164 (s: string, opts: Rfc3164Options): SyslogMessage {
  const pri = parsePri(s)
  const out: SyslogMessage = { format: 'none', facility: DEFAULT_FACILITY, severity: DEFAULT_SEVERITY, tsNs: null, hostname: '', appName: '', procId: '', msgId: '', sd: [], message: s }
  if (pri === null) return out
  out.facility = pri[0]
  out.severity = pri[1]
  const rest = s.slice(pri[2])
  out.message = rest
  let pos: number
  const bsd = BSD_TS.exec(rest)
  if (bsd !== null) {
    const ts = bsdTimeToNs(bsd, opts)
    if (ts === null) return out
    out.tsNs = ts
    pos = bsd[0].length
  } else {
    const iso = ISO_TS.exec(rest)
    if (iso === null) return out
    out.tsNs = iso[8] !== undefined ? rfc3339ToNs(iso[0]) : isoLocalToNs(iso, opts.zone)
    if (out.tsNs === null) return out
    pos = iso[0].length
  }
  out.format = 'rfc3164'
  if (rest.charCodeAt(pos) === 0x20) pos++
  // HOSTNAME, unless what follows the timestamp is already the TAG.
  let end = rest.indexOf(' ', pos)
  if (end === -1) end = rest.length
  const token = rest.slice(pos, end)
  if (token.length > 0 && !TAG.test(token + ' ')) {
    out.hostname = token
    pos = end + 1
  }
  const msg = pos <= rest.length ? rest.slice(pos) : ''
  const tag = TAG.exec(msg)
  if (tag !== null) {
    out.appName = tag[1]!
    out.procId = tag[2] ?? ''
    out.message = msg.slice(tag[0].length)
  } else {
    out.message = msg
  }
  return out
}

// Consecutive messages almost always carry the same second: cache its parse.
let lastKey = ''
let lastNs: string | null = null
let lastAtMs = 0

function bsdTimeToNs (m: RegExpExecArray, opts: Rfc3164Options): string | null {
  const key = m[0] + opts.zone
  // The year depends on now: reuse the parse for a minute at most.
  if (key === lastKey && opts.nowMs - lastAtMs < 60_000 && opts.nowMs >= lastAtMs) return lastNs
  lastNs = bsdTimeToNsUncached(m, opts)
  lastKey = key
  lastAtMs = opts.nowMs
  return lastNs
}

function bsdTimeToNsUncached (m: RegExpExecArray, opts: Rfc3164Options): string | null {
  const month = MONTHS[m[1]!.toLowerCase()]
  const day = Number(m[2])
  const h = Number(m[3])
  const min = Number(m[4])
  const sec = Number(m[5])
  if (month === undefined || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return null
  const nowYear = new Date(opts.nowMs).getUTCFullYear()
  let best: number | null = null
  for (const year of [nowYear - 1, nowYear, nowYear + 1]) {
    const ms = wallToMs(year, month, day, h, min, sec, opts.zone)
    // Feb 29 in a year without it, or Apr 31: rolled over by Date, not a real date.
    if (new Date(ms + zoneShiftMs(ms, opts.zone)).getUTCDate() !== day) continue
    if (best === null || Math.abs(ms - opts.nowMs) < Math.abs(best - opts.nowMs)) best = ms
  }
  if (best === null) return null
  return msToNs(best, m[6])
}

function isoLocalToNs (m: RegExpExecArray, zone: Zone): string | null {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) return null
  return msToNs(wallToMs(y!, mo! - 1, d!, h!, mi!, s!, zone), m[7])
}

function msToNs (ms: number, fracDigits: string | undefined): string {
  const frac = (fracDigits ?? '').padEnd(9, '0')
  const seconds = Math.floor(ms / 1000)
  return seconds <= 0 ? (BigInt(seconds) * 1_000_000_000n + BigInt(frac)).toString() : String(seconds) + frac
}

/** Unix ms of a wall-clock time in `zone`. */
function wallToMs (y: number, mo: number, d: number, h: number, mi: number, s: number, zone: Zone): number {
  if (zone === 'local') return new Date(y, mo, d, h, mi, s).getTime()
  const utc = Date.UTC(y, mo, d, h, mi, s)
  return utc - fixedOffsetMs(zone)
}

/** What to add to a Unix ms to get the wall clock of `zone` (as if it were UTC). */
function zoneShiftMs (ms: number, zone: Zone): number {
  if (zone === 'local') return -new Date(ms).getTimezoneOffset() * 60_000
  return fixedOffsetMs(zone)
}

function fixedOffsetMs (zone: Zone): number {
  if (zone === 'UTC') return 0
  const sign = zone[0] === '-' ? -1 : 1
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
}
