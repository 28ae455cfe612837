import { isoWallMs, msToNs, zonelessYearMs, type Zone } from '../sources/syslog/rfc3164.js'

// The time a plain file's line (a BOSH job log, any file without a CRI/Docker envelope)
// starts with, when it starts with one:
//   - ISO 8601 / RFC 3339: `2026-12-02T10:00:00.123Z`, a space for `T`, `,123` (Java's and
//     Python's loggers), `Z` or `±hh:mm` / `±hhmm`, or no zone (read in the forwarder's zone);
//   - the same in brackets: `[2026-12-02 10:00:00,123] …`;
//   - klog: `I1202 10:00:00.123456 …` (severity, month, day; no year);
//   - syslog's BSD form: `Dec  2 10:00:00 …` (no year).
// Zoneless years follow the syslog source's rule (zonelessYearMs). No library reads these
// prefixes of a longer line without a regex or a Date per line (date-fns, luxon and dayjs
// parse a whole string against a format); here the first byte decides, so a line that does
// not start like a time costs one comparison and allocates nothing. Lines that do are read
// with one anchored regex on their head, and a second is parsed once (cached).

const HEAD_BYTES = 48
const ISO = /^\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9})\d*)?(Z|[+-]\d{2}:?\d{2})?\]?(?=[\s\]]|$)/
const KLOG = /^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?= |$)/
const BSD = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?= |:|$)/
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 }

export interface LineTimeOptions {
  zone: Zone
  /** The read time in Unix ms: the year of zoneless forms, and what a parsed time must be near. */
  nowMs: number
}

/** `none`: the line does not start like a time; `bad`: it does, but is no real time. */
export type LineTime = string | 'none' | 'bad'

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39

/** True when `buf[start]` may begin a timestamp: the one check every line pays. */
export function mayStartTime (buf: Buffer, start: number, end: number): boolean {
  if (end - start < 14) return false
  const c = buf[start]!
  if (c >= 0x30 && c <= 0x39) return buf[start + 4] === 0x2d // YYYY-
  if (c === 0x5b) return isDigit(buf[start + 1]) && buf[start + 5] === 0x2d // [YYYY-
  // klog (I, W, E, F and four digits); F and the others may also begin a month (Feb).
  if ((c === 0x49 || c === 0x57 || c === 0x45 || c === 0x46) && isDigit(buf[start + 1])) return buf[start + 5] === 0x20
  return c >= 0x41 && c <= 0x5a && buf[start + 3] === 0x20 && (buf[start + 1]! | 0x20) === buf[start + 1] // Mmm
}

let lastHead = ''
let lastZone = ''
let lastMs: number | null = null
let lastAtMs = 0

/** The Unix ns time a line starts with (call when mayStartTime says it may). */
export function lineTimeNs (buf: Buffer, start: number, end: number, opts: LineTimeOptions): LineTime {
  const head = buf.toString('latin1', start, Math.min(end, start + HEAD_BYTES))
  let m = ISO.exec(head)
  if (m !== null) {
    const iso = m
    const ms = cached(iso[1]! + iso[2]! + iso[3]! + iso[4]! + iso[5]! + iso[6]! + (iso[8] ?? ''), opts, () => isoWallMs(iso, opts.zone))
    return ms === null ? 'bad' : msToNs(ms, m[7])
  }
  m = KLOG.exec(head) ?? BSD.exec(head)
  if (m === null) return 'none'
  const klog = head.charCodeAt(3) !== 0x20
  const mm = m
  const ms = cached(klog ? m[0].slice(1, 14) : m[0].slice(0, 15), opts, () => {
    const month = klog ? Number(mm[1]) - 1 : MONTHS[mm[1]!]
    const day = Number(mm[2])
    const [h, mi, s] = [Number(mm[3]), Number(mm[4]), Number(mm[5])]
    if (month === undefined || month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return null
    return zonelessYearMs(month, day, h, mi, s, opts)
  })
  return ms === null ? 'bad' : msToNs(ms, m[6])
}

/** One parse per second of text (and zone); a zoneless year depends on now: a minute at most. */
function cached (key: string, opts: LineTimeOptions, parse: () => number | null): number | null {
  if (key === lastHead && opts.zone === lastZone && opts.nowMs >= lastAtMs && opts.nowMs - lastAtMs < 60_000) return lastMs
  const ms = parse()
  lastHead = key
  lastZone = opts.zone
  lastMs = ms
  lastAtMs = opts.nowMs
  return ms
}


