// The level of a log line, found cheaply: the forwarder counts lines by it as it reads them,
// and the embedded store keeps it per line in its blocks at ingest (so no query recomputes it).
//   JSON      {"level":"error"} {"level":50} (pino/bunyan numbers) {"severity":"WARNING"} {"lvl":…}
//   logfmt    level=warn lvl=ERROR severity=info
//   prefixes  ERROR …, [WARN] …, 2024-05-01T10:00:00Z INFO …, E0501 10:00:00.000 … (klog/glog)
//   syslog    a numeric severity (RFC 5424) or its keyword, from the `severity` attribute or label
// Only the head of a line is looked at; a line with none of these is `unknown`.
//
// The names are Loki's `detected_level` values (grafana/loki client/util/constants.go):
// unknown, trace, debug, info, warn, error, fatal, critical. Loki maps the words `fatal` and
// `critical` to themselves; here `panic` (Go, zap) and pino's 60 and klog's `F` are fatal, and
// syslog's emerg, alert and crit (severities 0–2) are critical.

import { isAscii } from 'node:buffer'

/** The levels, from least to most severe; a level's index is the byte the store keeps per line. */
export const LEVELS = ['unknown', 'trace', 'debug', 'info', 'warn', 'error', 'fatal', 'critical'] as const
export type Level = typeof LEVELS[number]

const INDEX = new Map<string, number>(LEVELS.map((l, i) => [l, i]))

/** The index of a level name in LEVELS; -1 for a name that is no level. */
export function levelIndex (name: string): number {
  return INDEX.get(name) ?? -1
}

const HEAD = 256
const PREFIX_HEAD = 80

const WORDS: Record<string, Level> = {
  critical: 'critical', crit: 'critical', emerg: 'critical', emergency: 'critical', alert: 'critical',
  fatal: 'fatal', panic: 'fatal', dpanic: 'fatal',
  error: 'error', err: 'error', eror: 'error',
  warn: 'warn', warning: 'warn', wrn: 'warn',
  info: 'info', information: 'info', informational: 'info', notice: 'info', inf: 'info',
  debug: 'debug', dbg: 'debug',
  trace: 'trace', trc: 'trace', verbose: 'trace'
}

/** pino / bunyan numeric levels. */
function numeric (n: number): Level {
  if (n >= 60) return 'fatal'
  if (n >= 50) return 'error'
  if (n >= 40) return 'warn'
  if (n >= 30) return 'info'
  if (n >= 20) return 'debug'
  if (n >= 10) return 'trace'
  return 'unknown'
}

const SYSLOG_SEVERITIES: readonly Level[] = ['critical', 'critical', 'critical', 'error', 'warn', 'info', 'info', 'debug']

/**
 * An RFC 5424 severity as a level: its number 0–7, or its keyword as the syslog source writes
 * the `severity` attribute (emerg, alert, crit, err, warning, notice, info, debug).
 */
export function syslogSeverityLevel (s: string): Level {
  if (s.length === 1 && s >= '0' && s <= '7') return SYSLOG_SEVERITIES[Number(s)]!
  return WORDS[s.toLowerCase()] ?? 'unknown'
}

const JSON_KEY = /"(?:level|lvl|severity|log\.level|loglevel)"\s*:\s*(?:"([A-Za-z]+)|(\d+))/
const LOGFMT_KEY = /(?:^|\s)(?:level|lvl|severity)="?([A-Za-z]+)/
const PREFIX_WORD = /(?:^|[\s[<|:(])(FATAL|PANIC|CRITICAL|CRIT|EMERG|ALERT|ERROR|ERR|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE|Fatal|Error|Warning|Warn|Info|Debug)(?=$|[\s\]>|:)-])/
const KLOG = /^([IWEF])\d{4} \d\d:\d\d:\d\d/
const KLOG_LEVELS: Record<string, Level> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' }

export function detectLevel (message: string): Level {
  const c0 = message.charCodeAt(0)
  if (c0 === 0x7b /* { */) {
    const m = JSON_KEY.exec(message.length > HEAD ? message.slice(0, HEAD) : message)
    if (m !== null) return m[1] !== undefined ? (WORDS[m[1].toLowerCase()] ?? 'unknown') : numeric(Number(m[2]))
  }
  const head = message.length > HEAD ? message.slice(0, HEAD) : message
  if (head.indexOf('=') !== -1) {
    const m = LOGFMT_KEY.exec(head)
    if (m !== null) return WORDS[m[1]!.toLowerCase()] ?? 'unknown'
  }
  if (c0 >= 0x45 && c0 <= 0x57) { // E F I W: klog / glog
    const k = KLOG.exec(head)
    if (k !== null) return KLOG_LEVELS[k[1]!]!
  }
  const m = PREFIX_WORD.exec(head.length > PREFIX_HEAD ? head.slice(0, PREFIX_HEAD) : head)
  if (m !== null) return WORDS[m[1]!.toLowerCase()]!
  return 'unknown'
}

// The same on a line's bytes, for the file tailer's direct way (no string per line). Lines
// whose head has a non-ASCII byte are decoded and given to detectLevel: `\s` in the patterns
// above also matches Unicode spaces, which only the string form sees. Kept equal to
// detectLevel by a test that runs both over generated lines.

const JSON_KEYS = ['level', 'lvl', 'severity', 'log.level', 'loglevel'].map((k) => Buffer.from(k))
const LOGFMT_KEYS = ['level', 'lvl', 'severity'].map((k) => Buffer.from(k))
const PREFIX_WORDS = ['FATAL', 'PANIC', 'CRITICAL', 'CRIT', 'EMERG', 'ALERT', 'ERROR', 'ERR', 'WARNING', 'WARN', 'NOTICE', 'INFO', 'DEBUG', 'TRACE', 'Fatal', 'Error', 'Warning', 'Warn', 'Info', 'Debug'].map((w) => ({ bytes: Buffer.from(w), level: WORDS[w.toLowerCase()]! }))
/** PREFIX_WORDS by first byte, in their order (the regex tries its alternatives in order). */
const PREFIX_BY_FIRST: Array<typeof PREFIX_WORDS | null> = new Array(256).fill(null)
for (const w of PREFIX_WORDS) (PREFIX_BY_FIRST[w.bytes[0]!] ??= []).push(w)
/** Bytes a prefix word may follow (`\s[<|:(`) and end before (`\s]>|:)-`), as tables. */
const BEFORE_WORD = new Uint8Array(256)
const AFTER_WORD = new Uint8Array(256)
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) { BEFORE_WORD[c] = 1; AFTER_WORD[c] = 1 }
for (const c of '[<|:(') BEFORE_WORD[c.charCodeAt(0)] = 1
for (const c of ']>|:)-') AFTER_WORD[c.charCodeAt(0)] = 1

/** JS `\s` restricted to ASCII: tab, LF, VT, FF, CR, space. */
function space (c: number): boolean { return c === 0x20 || (c >= 0x09 && c <= 0x0d) }
function letter (c: number): boolean { return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) }
function digit (c: number): boolean { return c >= 0x30 && c <= 0x39 }

function at (b: Buffer, p: number, word: Buffer, end: number): boolean {
  if (p + word.length > end) return false
  for (let k = 0; k < word.length; k++) if (b[p + k] !== word[k]) return false
  return true
}

/** WORDS by length, as lowercase bytes, for matching letters in place. */
const WORDS_BY_LENGTH: Array<Array<{ bytes: Buffer, level: Level }>> = []
for (const [w, level] of Object.entries(WORDS)) (WORDS_BY_LENGTH[w.length] ??= []).push({ bytes: Buffer.from(w), level })

/** Letters b[p, end) as a level word (any case), or 'unknown'; no string is made. */
function wordLevel (b: Buffer, p: number, end: number): Level {
  const candidates = WORDS_BY_LENGTH[end - p]
  if (candidates === undefined) return 'unknown'
  next: for (const c of candidates) {
    for (let k = 0; k < c.bytes.length; k++) if ((b[p + k]! | 0x20) !== c.bytes[k]) continue next
    return c.level
  }
  return 'unknown'
}

export function detectLevelBytes (b: Buffer, start: number, end: number, ascii = false): Level {
  const head = Math.min(end, start + HEAD)
  const view = b.subarray(start, head)
  if (!ascii && !isAscii(view)) return detectLevel(b.toString('utf8', start, Math.min(end, start + HEAD * 4)))
  const c0 = start < end ? b[start]! : -1
  if (c0 === 0x7b /* { */) {
    const lv = jsonLevel(b, start, head)
    if (lv !== null) return lv
  }
  const eq = view.indexOf(0x3d /* = */)
  if (eq !== -1) {
    const lv = logfmtLevel(b, start, start + eq, head)
    if (lv !== null) return lv
  }
  if (c0 === 0x49 || c0 === 0x57 || c0 === 0x45 || c0 === 0x46) { // I W E F: klog / glog
    const p = start
    if (p + 14 <= head && digit(b[p + 1]!) && digit(b[p + 2]!) && digit(b[p + 3]!) && digit(b[p + 4]!) && b[p + 5] === 0x20 &&
        digit(b[p + 6]!) && digit(b[p + 7]!) && b[p + 8] === 0x3a && digit(b[p + 9]!) && digit(b[p + 10]!) && b[p + 11] === 0x3a && digit(b[p + 12]!) && digit(b[p + 13]!)) {
      return KLOG_LEVELS[String.fromCharCode(c0)]!
    }
  }
  return prefixLevel(b, start, Math.min(head, start + PREFIX_HEAD))
}

/** JSON_KEY: the leftmost `"<key>"\s*:\s*("letters|digits)`. */
function jsonLevel (b: Buffer, start: number, end: number): Level | null {
  for (let q = b.indexOf(0x22, start); q !== -1 && q < end; q = b.indexOf(0x22, q + 1)) {
    for (const key of JSON_KEYS) {
      let p = q + 1
      if (!at(b, p, key, end)) continue
      p += key.length
      if (b[p] !== 0x22 || p >= end) continue
      p++
      while (p < end && space(b[p]!)) p++
      if (p >= end || b[p] !== 0x3a) continue
      p++
      while (p < end && space(b[p]!)) p++
      if (p < end && b[p] === 0x22) {
        const w = p + 1
        let e = w
        while (e < end && letter(b[e]!)) e++
        if (e > w) return wordLevel(b, w, e)
      } else {
        let e = p
        while (e < end && digit(b[e]!)) e++
        if (e > p) return numeric(Number(b.toString('latin1', p, e)))
      }
    }
  }
  return null
}

/**
 * LOGFMT_KEY: the leftmost `(^|\s)(level|lvl|severity)="?letters`, from the head's first `=` at
 * `eq` on. Keys hold no `=`, so the leftmost key is the one before the leftmost `=` that has one.
 */
function logfmtLevel (b: Buffer, start: number, eq: number, end: number): Level | null {
  for (let e = eq; e < end; e++) {
    if (b[e] !== 0x3d) continue
    for (const key of LOGFMT_KEYS) {
      const i = e - key.length
      if (i < start || (i !== start && !space(b[i - 1]!)) || !at(b, i, key, e)) continue
      let p = e + 1
      if (p < end && b[p] === 0x22) p++
      const w = p
      while (p < end && letter(b[p]!)) p++
      if (p > w) return wordLevel(b, w, p)
    }
  }
  return null
}

/** PREFIX_WORD: the leftmost level word after the start or one of `\s[<|:(`, before the end or one of `\s]>|:)-`. */
function prefixLevel (b: Buffer, start: number, end: number): Level {
  for (let p = start; p < end; p++) {
    // Most bytes start no level word: that test first, the byte before only then.
    const words = PREFIX_BY_FIRST[b[p]!]!
    if (words === null || (p !== start && BEFORE_WORD[b[p - 1]!] === 0)) continue
    for (const w of words) {
      if (!at(b, p, w.bytes, end)) continue
      const after = p + w.bytes.length
      if (after === end || AFTER_WORD[b[after]!] === 1) return w.level
    }
  }
  return 'unknown'
}
