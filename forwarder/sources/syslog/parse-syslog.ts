import { parseRfc3164, type Rfc3164Options } from './rfc3164.js'
import { parseRfc5424 } from './rfc5424.js'
import type { SyslogMessage } from './syslog-message.js'

/**
 * One frame's text (one UDP datagram or TCP frame, trailing LF/CR/NUL removed) to a message.
 * `<PRI>1 ` is RFC 5424; anything else is read as RFC 3164, which keeps any text as a message
 * (no PRI: user.notice, as a relay does). A broken RFC 5424 header keeps the text after PRI.
 * `at` is as parseRfc5424's.
 */
export function parseSyslog (text: string, opts: Rfc3164Options, at?: { headerEnd: number }): SyslogMessage {
  return parseRfc5424(text, at) ?? parseRfc3164(text, opts)
}

/** The frame without the trailer senders add: LF, CR LF, NUL (RFC 6587 §3.4.2 non-transparent framing). */
export function stripTrailer (buf: Buffer): Buffer {
  let end = buf.length
  while (end > 0) {
    const c = buf[end - 1]
    if (c !== 0x0a && c !== 0x0d && c !== 0x00) break
    end--
  }
  return end === buf.length ? buf : buf.subarray(0, end)
}
