// One syslog message once its header is parsed, whichever RFC it came in. Field names follow
// RFC 5424; an RFC 3164 message fills the same fields (TAG → appName, [pid] → procId).

export interface SdElement {
  id: string
  params: Array<[name: string, value: string]>
}

export type SyslogFormat = 'rfc5424' | 'rfc3164' | 'none'

export interface SyslogMessage {
  /** Which header was recognised; `none`: no header, the whole frame is the message. */
  format: SyslogFormat
  facility: number
  severity: number
  /** The sender's timestamp in Unix ns, or null when it sent none (NILVALUE, no header). */
  tsNs: string | null
  /** '' when the sender gave none (NILVALUE or no header). */
  hostname: string
  appName: string
  procId: string
  msgId: string
  sd: SdElement[]
  message: string
  /** Set when a header was present but broken and the parser fell back; says what broke. */
  malformed?: string
  /** Set when a PRI was read but the header after it was not understood: facility and severity are still the sender's. */
  pri?: true
}

/** RFC 3164 §4.3.3: a message without PRI is given facility user (1), severity notice (5). */
export const DEFAULT_FACILITY = 1
export const DEFAULT_SEVERITY = 5

export const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7']
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']

/** `<PRI>` at the start of `s`: [facility, severity, length of the PRI part], or null. */
export function parsePri (s: string): [number, number, number] | null {
  if (s.charCodeAt(0) !== 0x3c) return null
  let i = 1
  let v = 0
  while (i < s.length && i <= 4) {
    const c = s.charCodeAt(i)
    if (c === 0x3e) break
    if (c < 0x30 || c > 0x39) return null
    v = v * 10 + (c - 0x30)
    i++
  }
  // 1 to 3 digits, no leading zero except "<0>", at most 191 (facility 23, severity 7).
  if (i === 1 || i > 4 || s.charCodeAt(i) !== 0x3e || v > 191) return null
  if (i > 2 && s.charCodeAt(1) === 0x30) return null
  return [v >> 3, v & 7, i + 1]
}
