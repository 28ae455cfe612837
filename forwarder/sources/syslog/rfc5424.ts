import { rfc3339ToNs } from '../../../core/time.js'
import { parsePri, type SdElement, type SyslogMessage } from './syslog-message.js'

// RFC 5424 §6:
//   SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG]
//   HEADER     = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
// Header fields are NILVALUE ("-") or printable US-ASCII of bounded length. Timestamps keep
// every fractional digit (up to 9, the RFC allows 6) as Unix ns. PARAM-VALUE escapes are
// \" \\ \] ; a backslash before any other character stays a backslash (§6.3.3). A BOM at the
// start of MSG marks UTF-8 and is not part of the message (§6.4).

const BOM = '\ufeff'

/** Thrown inside the parser; the caller turns it into a fallback with `malformed` set. */
class Malformed extends Error {}

class Cursor {
  pos: number
  constructor (readonly s: string, start: number) { this.pos = start }

  /** A header field: up to the next SP, printable US-ASCII, at most `max` chars. */
  field (name: string, max: number): string {
    const s = this.s
    const start = this.pos
    let i = start
    while (i < s.length) {
      const c = s.charCodeAt(i)
      if (c === 0x20) break
      if (c < 33 || c > 126) throw new Malformed(`${name} has a character outside printable US-ASCII`)
      i++
    }
    if (i === start) throw new Malformed(`${name} is empty`)
    if (i - start > max) throw new Malformed(`${name} is longer than ${max}`)
    this.pos = i
    return s.slice(start, i)
  }

  sp (after: string): void {
    if (this.s.charCodeAt(this.pos) !== 0x20) throw new Malformed(`no space after ${after}`)
    this.pos++
  }
}

const nil = (v: string): string => (v === '-' ? '' : v)

/**
 * Parse an RFC 5424 message. Returns null when `s` does not start with `<PRI>VERSION SP`
 * (it is not RFC 5424: let the RFC 3164 parser try); throws nothing. A broken header after
 * that point gives the text after PRI as message, with `malformed` saying what broke.
 * When the header is whole, `at.headerEnd` is set to where it ends (after STRUCTURED-DATA).
 */
export function parseRfc5424 (s: string, at?: { headerEnd: number }): SyslogMessage | null {
  const pri = parsePri(s)
  if (pri === null) return null
  const [facility, severity, priLen] = pri
  // VERSION = NONZERO-DIGIT 0*2DIGIT, then SP. Only version 1 is defined; others are read
  // with the same grammar, as go-syslog does (a later version would extend it, not change it).
  let i = priLen
  while (i < s.length && i - priLen < 3 && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++
  if (i === priLen || s.charCodeAt(priLen) === 0x30 || s.charCodeAt(i) !== 0x20) return null
  const out: SyslogMessage = { format: 'rfc5424', facility, severity, tsNs: null, hostname: '', appName: '', procId: '', msgId: '', sd: [], message: '' }
  const c = new Cursor(s, i + 1)
  try {
    const ts = c.field('TIMESTAMP', 64)
    if (ts !== '-') {
      out.tsNs = rfc3339ToNs(ts)
      if (out.tsNs === null || ts.indexOf(' ') !== -1) throw new Malformed(`TIMESTAMP ${JSON.stringify(ts)} is not RFC 3339`)
    }
    c.sp('TIMESTAMP')
    out.hostname = nil(c.field('HOSTNAME', 255)); c.sp('HOSTNAME')
    out.appName = nil(c.field('APP-NAME', 48)); c.sp('APP-NAME')
    out.procId = nil(c.field('PROCID', 128)); c.sp('PROCID')
    out.msgId = nil(c.field('MSGID', 32))
    c.sp('MSGID')
    c.pos = parseStructuredData(s, c.pos, out.sd)
  } catch (err) {
    if (!(err instanceof Malformed)) throw err
    return { format: 'rfc5424', facility, severity, tsNs: null, hostname: '', appName: '', procId: '', msgId: '', sd: [], message: s.slice(priLen), malformed: err.message }
  }
  if (c.pos < s.length) {
    if (s.charCodeAt(c.pos) !== 0x20) {
      return { ...out, sd: [], message: s.slice(priLen), malformed: 'no space after STRUCTURED-DATA' }
    }
    let msg = s.slice(c.pos + 1)
    if (msg.startsWith(BOM)) msg = msg.slice(1)
    out.message = msg
  }
  if (at !== undefined) at.headerEnd = c.pos
  return out
}

/** STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT, from `pos`; returns the position after it. */
function parseStructuredData (s: string, pos: number, into: SdElement[]): number {
  if (s.charCodeAt(pos) === 0x2d) return pos + 1 // "-"
  if (s.charCodeAt(pos) !== 0x5b) throw new Malformed('STRUCTURED-DATA is neither "-" nor "["')
  while (s.charCodeAt(pos) === 0x5b) {
    pos++
    const [id, afterId] = sdName(s, pos, 'SD-ID')
    pos = afterId
    const el: SdElement = { id, params: [] }
    while (s.charCodeAt(pos) === 0x20) {
      const [name, afterName] = sdName(s, pos + 1, 'PARAM-NAME')
      pos = afterName
      if (s.charCodeAt(pos) !== 0x3d || s.charCodeAt(pos + 1) !== 0x22) throw new Malformed(`SD-PARAM ${name} is not name="value"`)
      pos += 2
      let value = ''
      let from = pos
      for (;;) {
        if (pos >= s.length) throw new Malformed(`PARAM-VALUE of ${name} is not closed`)
        const ch = s.charCodeAt(pos)
        if (ch === 0x22) break
        if (ch === 0x5c) {
          const next = s.charCodeAt(pos + 1)
          if (next === 0x22 || next === 0x5c || next === 0x5d) {
            value += s.slice(from, pos)
            from = pos + 1 // keep the escaped character, drop the backslash
            pos += 2
            continue
          }
        }
        pos++
      }
      value += s.slice(from, pos)
      pos++ // closing quote
      el.params.push([name, value])
    }
    if (s.charCodeAt(pos) !== 0x5d) throw new Malformed(`SD-ELEMENT ${id} is not closed by "]"`)
    pos++
    into.push(el)
  }
  return pos
}

/** SD-NAME = 1*32PRINTUSASCII except '=', SP, ']', '"'. */
function sdName (s: string, pos: number, what: string): [string, number] {
  const start = pos
  while (pos < s.length) {
    const ch = s.charCodeAt(pos)
    if (ch === 0x3d || ch === 0x20 || ch === 0x5d || ch === 0x22) break
    if (ch < 33 || ch > 126) throw new Malformed(`${what} has a character outside printable US-ASCII`)
    pos++
  }
  if (pos === start) throw new Malformed(`${what} is empty`)
  if (pos - start > 32) throw new Malformed(`${what} is longer than 32`)
  return [s.slice(start, pos), pos]
}
