import { isUtf8 } from 'node:buffer'
import type { Attributes, StreamTags } from '../../../core/record.js'
import { nowNs, rfc3339ToNs } from '../../../core/time.js'
import type { ForwarderMetrics } from '../../metrics.js'
import { matches, pattern, viewOf, type Pattern } from '../../spool/byte-pattern.js'
import type { DiskSpool } from '../../spool/disk-spool.js'
import { lineAttributes } from './line-attributes.js'
import type { Receiver, Transport } from './listeners.js'
import { parseSyslog } from './parse-syslog.js'
import type { SyslogMetrics } from './syslog-metrics.js'
import type { SyslogFormat, SyslogMessage } from './syslog-message.js'

// The frames of one connection (or one UDP sender): each is parsed, tagged and appended to
// the spool. Counters are added up per chunk and handed to prom-client once per chunk.
//
// A sender repeats its header: PRI, VERSION, and HOSTNAME … STRUCTURED-DATA stay the same
// message after message, only TIMESTAMP and MSG change. Once an RFC 5424 message was parsed
// whole (and its header is ASCII), its header bytes are kept with the stream tags and
// attributes they gave. A later frame whose bytes are the same around a valid TIMESTAMP would
// parse to the same fields, so it is spooled without being decoded: its MSG bytes are copied
// into the spool as they are (they are valid UTF-8, checked once per chunk). Anything else —
// another header, a broken one, RFC 3164, invalid UTF-8, a cut frame — takes the full parse.

export interface ReceiverContext {
  spool: DiskSpool
  metrics: ForwarderMetrics
  syslogMetrics: SyslogMetrics
  /** forwarder.syslog.rfc3164TimeZone */
  zone: string
  /** The stream a parsed message belongs to (cached by the source). */
  tagsFor: (m: SyslogMessage, listener: string, peer: string) => StreamTags
  /** Whether these tags ignored an identity their sender is not trusted for (counted per message). */
  identityIgnored: (tags: StreamTags) => boolean
  /** Why the spool is full, for the drop's log line. */
  spoolFullDetail: () => string
}

/** A header learnt from a message parsed whole: the bytes before TIMESTAMP and after it. */
interface Header {
  /** `<PRI>VERSION SP` */
  pre: Pattern
  /** `HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA` */
  rest: Pattern
  tags: StreamTags
  attrs: Attributes | undefined
  /** The header names an identity its sender is not trusted for. */
  untrusted: boolean
  /** pre, TIMESTAMP, SP and rest of a TIMESTAMP seen twice in a row (and its value): one compare for the usual case. */
  whole: Pattern | null
  wholeTs: string | null
}

const FORMATS: SyslogFormat[] = ['rfc5424', 'rfc3164', 'none']
/** lines_altered_total reason: structured-data identity from a sender not trusted for it. */
export const UNTRUSTED_IDENTITY = 'syslog_untrusted_identity'
const MAX_TIMESTAMP = 64
const EMPTY: Buffer = Buffer.alloc(0)

export class SyslogReceiver implements Receiver {
  private chunk: Buffer = EMPTY
  /** Whether `chunk` is valid UTF-8: 0 not known yet, 1 yes, 2 no. */
  private chunkUtf8 = 0
  private header: Header | null = null
  private readonly tsBytes = Buffer.alloc(MAX_TIMESTAMP)
  private tsLen = -1
  private tsNs: string | null = null
  /** The last timestamp() call found the same TIMESTAMP as the one before. */
  private tsRepeated = false
  private view: DataView | null = null
  private readonly at = { headerEnd: -1 }
  // Counts of the current chunk.
  private bytes = 0
  private lines = 0
  private truncated = 0
  private invalidUtf8 = 0
  private malformed = 0
  private untrusted = 0
  private spoolFull = 0
  private readonly formats = [0, 0, 0]

  constructor (private readonly ctx: ReceiverContext, private readonly transport: Transport, private readonly listener: string, private readonly peer: string) {}

  begin (chunk: Buffer): void {
    this.chunk = chunk
    this.chunkUtf8 = 0
    this.view = null
  }

  frame (buf: Buffer, start: number, rawEnd: number, truncated: boolean): void {
    this.bytes += rawEnd - start
    let end = rawEnd
    // The trailer senders add: LF, CR LF, NUL (RFC 6587 §3.4.2).
    while (end > start) {
      const c = buf[end - 1]
      if (c !== 0x0a && c !== 0x0d && c !== 0x00) break
      end--
    }
    if (end === start) {
      this.ctx.metrics.drop('syslog_empty', 1, `from ${this.peer} on ${this.listener}`)
      return
    }
    this.lines++
    if (truncated) this.truncated++
    else if (this.known(buf, start, end, rawEnd)) return
    this.parse(buf, start, end, truncated)
  }

  end (): void {
    const c = this.ctx
    if (this.bytes > 0) { c.metrics.bytesRead.inc({ source: 'syslog' }, this.bytes); this.bytes = 0 }
    if (this.lines === 0) { this.chunk = EMPTY; return }
    c.metrics.linesRead.inc({ source: 'syslog' }, this.lines)
    this.lines = 0
    for (let i = 0; i < FORMATS.length; i++) {
      if (this.formats[i]! > 0) { c.syslogMetrics.messages.inc({ transport: this.transport, format: FORMATS[i]! }, this.formats[i]!); this.formats[i] = 0 }
    }
    if (this.truncated > 0) { c.metrics.altered.inc({ reason: 'truncated' }, this.truncated); this.truncated = 0 }
    if (this.invalidUtf8 > 0) { c.metrics.altered.inc({ reason: 'invalid_utf8' }, this.invalidUtf8); this.invalidUtf8 = 0 }
    if (this.malformed > 0) { c.metrics.altered.inc({ reason: 'syslog_malformed_header' }, this.malformed); this.malformed = 0 }
    if (this.untrusted > 0) { c.metrics.altered.inc({ reason: UNTRUSTED_IDENTITY }, this.untrusted); this.untrusted = 0 }
    if (this.spoolFull > 0) {
      // A write that failed (a full disk) refuses messages like a full spool; the reason says which.
      const failed = c.spool.writeError
      c.metrics.drop(failed === null ? 'spool_full' : 'spool_write_failed', this.spoolFull, failed === null ? c.spoolFullDetail() : `cannot write the spool: ${failed}`)
      this.spoolFull = 0
    }
    this.chunk = EMPTY
  }

  /** Spool a frame with the learnt header without parsing it; false when it may differ. */
  private known (buf: Buffer, s: number, e: number, rawEnd: number): boolean {
    const h = this.header
    if (h === null) return false
    const view = buf === this.chunk ? (this.view ??= viewOf(buf)) : viewOf(buf)
    let m: number
    let ts: string | null | undefined
    const whole = h.whole
    if (whole !== null && e - s >= whole.bytes.length && matches(view, buf, s, whole)) {
      m = s + whole.bytes.length
      ts = h.wholeTs
    } else {
      const t = s + h.pre.bytes.length
      if (t >= e || !matches(view, buf, s, h.pre)) return false
      // TIMESTAMP: 1 to 64 printable US-ASCII characters, then SP.
      const lim = Math.min(e, t + MAX_TIMESTAMP + 1)
      let p = t
      while (p < lim) {
        const c = buf[p]!
        if (c === 0x20) break
        if (c < 33 || c > 126) return false
        p++
      }
      if (p === lim || p === t) return false
      const r = p + 1
      if (e - r < h.rest.bytes.length || !matches(view, buf, r, h.rest)) return false
      ts = this.timestamp(buf, t, p)
      if (ts === undefined) return false
      m = r + h.rest.bytes.length
      if (this.tsRepeated) { h.whole = pattern(Buffer.from(buf.subarray(s, m))); h.wholeTs = ts }
    }
    // After STRUCTURED-DATA: the end, or SP MSG (a BOM before MSG is not part of it).
    if (m < e) {
      if (buf[m] !== 0x20) return false
      m++
      if (e - m >= 3 && buf[m] === 0xef && buf[m + 1] === 0xbb && buf[m + 2] === 0xbf) m += 3
    }
    if (m < e && !this.utf8(buf, m, e, rawEnd)) return false
    this.formats[0]!++
    if (h.untrusted) this.untrusted++
    if (this.ctx.spool.appendBytes(h.tags, ts ?? nowNs(), buf, m, e, h.attrs) === null) this.spoolFull++
    return true
  }

  /**
   * Whether buf[m, e) is valid UTF-8. `m` follows an ASCII byte or a BOM; inside a chunk that is
   * valid UTF-8 as a whole the range is too, unless the frame ends inside a character (an octet
   * count that lies: the byte after the frame then continues a character).
   */
  private utf8 (buf: Buffer, m: number, e: number, rawEnd: number): boolean {
    if (buf === this.chunk) {
      if (this.chunkUtf8 === 0) this.chunkUtf8 = isUtf8(buf) ? 1 : 2
      if (this.chunkUtf8 === 1 && (rawEnd >= buf.length || (buf[rawEnd]! & 0xc0) !== 0x80)) return true
    }
    return isUtf8(buf.subarray(m, e))
  }

  /** TIMESTAMP buf[a, b) in Unix ns; null for NILVALUE; undefined when it is not RFC 3339. */
  private timestamp (buf: Buffer, a: number, b: number): string | null | undefined {
    const n = b - a
    if (n === this.tsLen) {
      let k = 0
      while (k < n && buf[a + k] === this.tsBytes[k]) k++
      if (k === n) { this.tsRepeated = true; return this.tsNs }
    }
    this.tsRepeated = false
    const text = buf.toString('latin1', a, b)
    const ns = text === '-' ? null : rfc3339ToNs(text)
    if (ns === null && text !== '-') return undefined
    buf.copy(this.tsBytes, 0, a, b)
    this.tsLen = n
    this.tsNs = ns
    return ns
  }

  /** The full parse; learns the header of a whole RFC 5424 message. */
  private parse (buf: Buffer, s: number, e: number, truncated: boolean): void {
    const bytes = buf.subarray(s, e)
    const valid = isUtf8(bytes)
    if (!valid) this.invalidUtf8++ // toString replaces with U+FFFD
    const text = bytes.toString('utf8')
    this.at.headerEnd = -1
    const m = parseSyslog(text, { zone: this.ctx.zone, nowMs: Date.now() }, this.at)
    this.formats[FORMATS.indexOf(m.format)]!++
    if (m.malformed !== undefined) this.malformed++
    const tags = this.ctx.tagsFor(m, this.listener, this.peer)
    if (this.ctx.identityIgnored(tags)) this.untrusted++
    const attrs = lineAttributes(m, tags)
    if (this.ctx.spool.append(tags, m.tsNs ?? nowNs(), m.message, attrs) === null) this.spoolFull++
    if (valid && !truncated && m.format === 'rfc5424' && m.malformed === undefined && this.at.headerEnd > 0) this.learn(bytes, text, tags, attrs)
  }

  private learn (bytes: Buffer, text: string, tags: StreamTags, attrs: Attributes | undefined): void {
    const end = this.at.headerEnd
    // String positions are byte positions only while every character is ASCII.
    for (let i = 0; i < end; i++) if (bytes[i]! >= 0x80) { this.header = null; return }
    const afterVersion = text.indexOf(' ') + 1
    const afterTimestamp = text.indexOf(' ', afterVersion) + 1
    if (afterVersion <= 0 || afterTimestamp <= 0 || afterTimestamp > end) { this.header = null; return }
    this.header = { pre: pattern(Buffer.from(bytes.subarray(0, afterVersion))), rest: pattern(Buffer.from(bytes.subarray(afterTimestamp, end))), tags, attrs, untrusted: this.ctx.identityIgnored(tags), whole: null, wholeTs: null }
  }
}
