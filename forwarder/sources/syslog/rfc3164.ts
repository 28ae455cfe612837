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
//
// What real senders write besides, read as rsyslog's and syslog-ng's parsers read it:
//   - spaces after PRI (`<167> Mar  7 19:06:53 host tag: msg`);
//   - a year in the BSD date, and a colon after the time (`Mar 7 2008 19:06:53: …`, Cisco);
//   - Cisco's sequence number and clock marks before the date (`<189>91: *Oct 07 …`);
//   - ISO dates with a space for `T`, and more than nine fractional digits (cut to nine);
//   - no date at all (`<27>xapi: …`): TAG and message, the receive time as time;
//   - a TAG without `:` after HOSTNAME: its first word (`… 1.2.3.4 prg0`, `… host tag text`).
// A header still not understood keeps PRI's facility and severity (`pri` is set).
// Zoneless years: the latest year that does not put the time more than a day ahead of
// now (logs do not come from the future; a day allows for senders' clocks and zones), as
// rsyslog does.

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 }
const BSD_TS = /^([A-Za-z]{3}) {1,2}(\d{1,2})(?: (\d{4}))? (\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?:?(?= |$)/
const ISO_TS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?:?(?= |$)/
/** Cisco IOS: a sequence number (`91: `) and a clock mark (`*` unsynchronised, `.` once synchronised) before the date. */
const CISCO_PREFIX = /^(?:\d{1,10}: )?[*.]?(?=[A-Za-z]{3} |\d{4}-)/
/** A TAG without `:` after HOSTNAME: rsyslog and syslog-ng take the first word as TAG. */
const BARE_TAG = /^([^\s:[\]]{1,48})(?:\[([^\s\]]{1,128})\])?(?: |$)/
const DAY_MS = 86_400_000
const TAG = /^([^\s:[\]]{1,48})(?:\[([^\s\]]{1,128})\])?:(?: |$)/

/** How RFC 3164's zoneless times are read: `local`, `UTC` or a fixed offset `±HH:MM`. */
export type Zone = string

export interface Rfc3164Options {
  zone: Zone
  /** Now in Unix ms: the year is the latest that puts the timestamp at most a day after it. */
  nowMs: number
}

export function parseRfc3164 (s: string, opts: Rfc3164Options): SyslogMessage {
  const pri = parsePri(s)
  const out: SyslogMessage = { format: 'none', facility: DEFAULT_FACILITY, severity: DEFAULT_SEVERITY, tsNs: null, hostname: '', appName: '', procId: '', msgId: '', sd: [], message: s }
  if (pri === null) return out
  out.facility = pri[0]
  out.severity = pri[1]
  out.pri = true
  const rest = s.slice(pri[2])
  out.message = rest
  let pos = 0
  while (rest.charCodeAt(pos) === 0x20) pos++
  const cisco = CISCO_PREFIX.exec(rest.slice(pos))
  if (cisco !== null) pos += cisco[0].length
  const head = pos === 0 ? rest : rest.slice(pos)
  const bsd = BSD_TS.exec(head)
  if (bsd !== null) {
    const ts = bsdTimeToNs(bsd, opts)
    if (ts === null) return out
    out.tsNs = ts
    pos += bsd[0].length
  } else {
    const iso = ISO_TS.exec(head)
    if (iso === null) {
      // No date: a TAG right after PRI (`<27>xapi: …`) is still a header.
      const tag = TAG.exec(head)
      if (tag === null) return out
      delete out.pri
      out.format = 'rfc3164'
      out.appName = tag[1]!
      out.procId = tag[2] ?? ''
      out.message = head.slice(tag[0].length)
      return out
    }
    out.tsNs = isoToNs(iso, opts.zone)
    if (out.tsNs === null) return out
    pos += iso[0].length
  }
  delete out.pri
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
  let bare: RegExpExecArray | null
  if (tag !== null) {
    out.appName = tag[1]!
    out.procId = tag[2] ?? ''
    out.message = msg.slice(tag[0].length)
  } else if (out.hostname !== '' && (bare = BARE_TAG.exec(msg)) !== null) {
    out.appName = bare[1]!
    out.procId = bare[2] ?? ''
    out.message = msg.slice(bare[0].length)
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
  const h = Number(m[4])
  const min = Number(m[5])
  const sec = Number(m[6])
  if (month === undefined || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return null
  const real = (ms: number) => new Date(ms + zoneShiftMs(ms, opts.zone)).getUTCDate() === day
  if (m[3] !== undefined) {
    // The sender gave the year (Cisco, some appliances).
    const ms = wallToMs(Number(m[3]), month, day, h, min, sec, opts.zone)
    return real(ms) ? msToNs(ms, m[7]) : null
  }
  const ms = zonelessYearMs(month, day, h, min, sec, opts)
  return ms === null ? null : msToNs(ms, m[7])
}

/**
 * Unix ms of a time written without its year (month 0-11), in the latest year that does
 * not put it more than a day ahead of `opts.nowMs`; null if no year has that date (Apr 31).
 * The one year rule for every zoneless timestamp (syslog here, plain file lines in
 * forwarder/formats/line-time.ts).
 */
export function zonelessYearMs (month: number, day: number, h: number, min: number, sec: number, opts: Rfc3164Options): number | null {
  // Feb 29 may take a few years back to find a year that has it.
  const nowYear = new Date(opts.nowMs).getUTCFullYear()
  for (let year = nowYear + 1; year >= nowYear - 8; year--) {
    const ms = wallToMs(year, month, day, h, min, sec, opts.zone)
    // Feb 29 in a year without it, or Apr 31: rolled over by Date, not a real date.
    if (new Date(ms + zoneShiftMs(ms, opts.zone)).getUTCDate() !== day) continue
    if (ms <= opts.nowMs + DAY_MS) return ms
  }
  return null
}

/**
 * The whole milliseconds of an ISO date and time matched as groups 1–6 (year … second) and 8
 * (`Z` or an offset, else `zone`); null for a date that does not exist. Shared with plain
 * lines' times (forwarder/formats/line-time.ts).
 */
export function isoWallMs (m: RegExpExecArray, zone: Zone): number | null {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) return null
  const z = m[8]
  const fixed = z === undefined ? zone : z === 'Z' ? 'UTC' : z.length === 5 ? `${z.slice(0, 3)}:${z.slice(3)}` : z
  const ms = wallToMs(y!, mo! - 1, d!, h!, mi!, s!, fixed)
  // Feb 29 of a common year, Apr 31: Date rolls them over; they are no real time.
  if (new Date(ms + zoneShiftMs(ms, fixed)).getUTCDate() !== d) return null
  return ms
}

/** An ISO date and time (`T` or a space between them), with its zone or in the configured one. */
function isoToNs (m: RegExpExecArray, zone: Zone): string | null {
  const ms = isoWallMs(m, zone)
  return ms === null ? null : msToNs(ms, m[7])
}

export function msToNs (ms: number, fracDigits: string | undefined): string {
  // More than nine digits (some senders write picoseconds): nanoseconds are what is kept.
  const frac = (fracDigits ?? '').slice(0, 9).padEnd(9, '0')
  const seconds = Math.floor(ms / 1000)
  return seconds <= 0 ? (BigInt(seconds) * 1_000_000_000n + BigInt(frac)).toString() : String(seconds) + frac
}

/** Unix ms of a wall-clock time in `zone`. */
export function wallToMs (y: number, mo: number, d: number, h: number, mi: number, s: number, zone: Zone): number {
  if (zone === 'local') return new Date(y, mo, d, h, mi, s).getTime()
  const utc = Date.UTC(y, mo, d, h, mi, s)
  return utc - fixedOffsetMs(zone)
}

/** What to add to a Unix ms to get the wall clock of `zone` (as if it were UTC). */
export function zoneShiftMs (ms: number, zone: Zone): number {
  if (zone === 'local') return -new Date(ms).getTimezoneOffset() * 60_000
  return fixedOffsetMs(zone)
}

function fixedOffsetMs (zone: Zone): number {
  if (zone === 'UTC') return 0
  const sign = zone[0] === '-' ? -1 : 1
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
}
