import { isAscii } from 'node:buffer'
import { rfc3339ToNs } from '../../core/time.js'
import type { ParsedLine } from './parsed-line.js'

// The one reader of the CRI envelope `<RFC 3339 nano time> <stdout|stderr> <P|F>[:more tags] <message>`:
// scanCri finds its parts in the line's bytes; parseCri (the general way) and the tailer's
// direct way (forwarder/sources/tailer.ts writeCri) both take them from there.

/** Where scanCri found the envelope's parts: offsets into the scanned buffer. */
export interface CriScan {
  /** End of the time (the space after it). */
  timeEnd: number
  /** The fractional digits after `YYYY-MM-DDTHH:MM:SS.` (fracStart === fracEnd: none); the zone starts at fracEnd. */
  fracStart: number
  fracEnd: number
  stdio: 'stdout' | 'stderr'
  /** P: the next line of the same stream continues this one; F: the last part. */
  partial: boolean
  /** Start of the message (the line's end when it is empty). */
  msgStart: number
}

/** A result to hand scanCri again and again (it allocates nothing itself). */
export function criScan (): CriScan {
  return { timeEnd: 0, fracStart: 0, fracEnd: 0, stdio: 'stdout', partial: false, msgStart: 0 }
}

/** `YYYY-MM-DDTHH:MM:SS`: the length of an RFC 3339 time before its fraction and zone. */
export const CRI_SECOND_PREFIX = 19

const SP = 0x20

/**
 * The envelope of the line `buf[start, end)`, into `out`; false when the line has none. The
 * time is only located here (fraction, zone): rfc3339ToNs says whether it is one. Anything
 * scanCri refuses, rfc3339ToNs would refuse too: a time shorter than 20 bytes, a `.` without digits.
 */
export function scanCri (buf: Uint8Array, start: number, end: number, out: CriScan): boolean {
  let i = start
  while (i < end && buf[i] !== SP) i++
  const timeEnd = i
  if (timeEnd - start <= CRI_SECOND_PREFIX || timeEnd >= end) return false
  let fracStart = start + CRI_SECOND_PREFIX
  let fracEnd = fracStart
  if (buf[fracStart] === 0x2e /* . */) {
    fracEnd = ++fracStart
    while (fracEnd < timeEnd && buf[fracEnd]! >= 0x30 && buf[fracEnd]! <= 0x39) fracEnd++
    if (fracEnd === fracStart) return false
  }
  const st = timeEnd + 1 // stdout / stderr, then a space
  if (st + 7 >= end || buf[st] !== 0x73 || buf[st + 1] !== 0x74 || buf[st + 2] !== 0x64 || buf[st + 6] !== SP) return false
  if (buf[st + 3] === 0x6f && buf[st + 4] === 0x75 && buf[st + 5] === 0x74) out.stdio = 'stdout'
  else if (buf[st + 3] === 0x65 && buf[st + 4] === 0x72 && buf[st + 5] === 0x72) out.stdio = 'stderr'
  else return false
  const tag = st + 7
  const flag = buf[tag]
  if (flag !== 0x46 && flag !== 0x50) return false // F | P
  let msgStart: number
  if (tag + 1 >= end) msgStart = end // an empty message may come without its separator
  else if (buf[tag + 1] === SP) msgStart = tag + 2
  else if (buf[tag + 1] === 0x3a /* F:more tags */) {
    i = tag + 2
    while (i < end && buf[i] !== SP) i++
    msgStart = i < end ? i + 1 : end
  } else return false
  out.timeEnd = timeEnd
  out.fracStart = fracStart
  out.fracEnd = fracEnd
  out.partial = flag === 0x50
  out.msgStart = msgStart
  return true
}

const scanned = criScan()

/**
 * A CRI log line, as a string or as its UTF-8 bytes (the message then decoded from them,
 * invalid sequences as U+FFFD). P marks a partial line that the next lines of the same
 * stream continue; F the last part.
 */
export function parseCri (line: string | Buffer): ParsedLine | null {
  const buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : line
  const r = scanned
  if (!scanCri(buf, 0, buf.length, r)) return null
  const ts = rfc3339ToNs(buf.toString('latin1', 0, r.timeEnd))
  if (ts === null) return null
  let message: string
  if (r.msgStart >= buf.length) message = ''
  else if (typeof line !== 'string') message = buf.toString('utf8', r.msgStart)
  // The envelope ends at an ASCII space: decoded, its length is where the message starts in the string.
  else message = line.slice(isAscii(buf.subarray(0, r.msgStart)) ? r.msgStart : buf.toString('utf8', 0, r.msgStart).length)
  return { ts, stdio: r.stdio, partial: r.partial, message }
}
