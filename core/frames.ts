import { DaytwoError } from './errors.js'
import type { Entry, StreamBatch, StreamTags } from './record.js'
import { checkEntries, checkTags } from './wire.js'

// The forwarder's batch format, beside NDJSON (core/wire.ts): the same groups by stream, but
// each message travels as its own bytes behind a length instead of inside a JSON string. A
// forwarder then copies a line's bytes from its read buffer as they are; escaping them into
// JSON cost more than everything else it does to a line (quotes are common in log lines).
//
//   S <stream tags as JSON>\n
//   E <ts ns> <offset> <stdio, or - for none> <message bytes> <attribute bytes>\n<message><attributes as JSON>\n
//
// An S line starts a group; the E records after it are its entries. The newline after each
// entry's payload is a check that the lengths were right. Text headers keep a body readable
// with `zcat | less`. The collector validates exactly what it validates for NDJSON.

export const FRAMES = 'application/vnd.daytwo.frames.v1'

const S = 0x53
const E = 0x45
const SPACE = 0x20
const NL = 0x0a
const DASH = 0x2d
/** Longest number field: a safe integer has at most 16 digits; a ts at most 20 and a sign. */
const MAX_DIGITS = 16
const MAX_TS = 21

/** A stream's `S` line, which callers cache per stream. */
export function streamFrame (tags: StreamTags): Buffer {
  return Buffer.from('S ' + JSON.stringify(tags) + '\n')
}

/** One entry's bytes (the general way; the forwarder's tailer writes them directly). */
export function entryFrame (e: Entry): string {
  const attrs = e[4] === undefined ? '' : JSON.stringify(e[4])
  return `E ${e[0]} ${e[1]} ${e[3] === '' ? '-' : e[3]} ${Buffer.byteLength(e[2])} ${Buffer.byteLength(attrs)}\n${e[2]}${attrs}\n`
}

export function encodeFrames (groups: StreamBatch[]): Buffer {
  const parts: Buffer[] = []
  for (const g of groups) {
    parts.push(streamFrame(g.stream))
    for (const e of g.entries) parts.push(Buffer.from(entryFrame(e)))
  }
  return Buffer.concat(parts)
}

function bad (at: number, why: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', `frames, byte ${at}: ${why}`)
}

/**
 * Parse and validate a whole frames body. Throws DAYTWO_ERR_BAD_BATCH naming the byte and
 * group. `validate: false` only parses (a forwarder splitting its own batch, whose tags may
 * break limits that only the collector enforces).
 */
export function decodeFrames (body: Buffer, validate = true): StreamBatch[] {
  const out: StreamBatch[] = []
  let group: StreamBatch | null = null
  let pos = 0
  const len = body.length
  while (pos < len) {
    const kind = body[pos]
    if ((kind !== S && kind !== E) || body[pos + 1] !== SPACE) throw bad(pos, 'expected "S " (a stream) or "E " (an entry)')
    if (kind === S) {
      const nl = body.indexOf(NL, pos)
      if (nl === -1) throw bad(pos, 'stream line has no newline')
      let tags: unknown
      try {
        tags = JSON.parse(body.toString('utf8', pos + 2, nl))
      } catch (err) {
        throw bad(pos, `stream tags are not JSON (${(err as Error).message})`)
      }
      group = { stream: validate ? checkTags(tags, `frames, group ${out.length + 1}`) : tags as StreamTags, entries: [] }
      out.push(group)
      pos = nl + 1
      continue
    }
    if (group === null) throw bad(pos, 'an entry before any stream line')
    const at = pos
    let p = pos + 2
    // <ts> <offset> <stdio> <message bytes> <attribute bytes>\n
    const tsEnd = field(body, p, MAX_TS, at, 'time')
    const ts = body.toString('latin1', p, tsEnd)
    p = tsEnd + 1
    const offEnd = field(body, p, MAX_DIGITS, at, 'offset')
    const offset = digits(body, p, offEnd, at, 'offset')
    p = offEnd + 1
    const stdioEnd = field(body, p, 16, at, 'stdio')
    const stdio = stdioEnd === p + 1 && body[p] === DASH ? '' : body.toString('latin1', p, stdioEnd)
    p = stdioEnd + 1
    const msgLenEnd = field(body, p, MAX_DIGITS, at, 'message length')
    const msgLen = digits(body, p, msgLenEnd, at, 'message length')
    p = msgLenEnd + 1
    let attrLenEnd = p
    while (attrLenEnd < len && attrLenEnd - p <= MAX_DIGITS && body[attrLenEnd] !== NL) attrLenEnd++
    if (body[attrLenEnd] !== NL) throw bad(at, 'entry header has no newline after the attribute length')
    const attrLen = digits(body, p, attrLenEnd, at, 'attribute length')
    const msgStart = attrLenEnd + 1
    const attrStart = msgStart + msgLen
    const end = attrStart + attrLen
    if (end >= len || body[end] !== NL) throw bad(at, `entry of ${msgLen} + ${attrLen} bytes is not followed by a newline (a wrong length, or a body cut short)`)
    const message = body.toString('utf8', msgStart, attrStart)
    if (attrLen === 0) {
      group.entries.push([ts, offset, message, stdio])
    } else {
      let attrs: unknown
      try {
        attrs = JSON.parse(body.toString('utf8', attrStart, end))
      } catch (err) {
        throw bad(at, `attributes are not JSON (${(err as Error).message})`)
      }
      group.entries.push([ts, offset, message, stdio, attrs as Entry[4]])
    }
    pos = end + 1
  }
  if (validate) for (let i = 0; i < out.length; i++) checkEntries(out[i]!.entries, `frames, group ${i + 1}`)
  return out
}

/** End of a space-terminated field starting at `p`, at most `max` bytes long. */
function field (body: Buffer, p: number, max: number, at: number, name: string): number {
  const stop = Math.min(body.length, p + max + 1)
  for (let i = p; i < stop; i++) {
    const c = body[i]!
    if (c === SPACE) {
      if (i === p) throw bad(at, `entry header: ${name} missing`)
      return i
    }
    if (c === NL) throw bad(at, 'entry header has too few fields (E <ts> <offset> <stdio> <message bytes> <attribute bytes>)')
  }
  throw bad(at, `entry header: ${name} missing or longer than ${max} bytes`)
}

/** A non-negative decimal integer in body[p, end). */
function digits (body: Buffer, p: number, end: number, at: number, name: string): number {
  if (end === p || end - p > MAX_DIGITS) throw bad(at, `entry header: ${name} must be a decimal number`)
  let n = 0
  for (let i = p; i < end; i++) {
    const d = body[i]! - 0x30
    if (d < 0 || d > 9) throw bad(at, `entry header: ${name} must be a decimal number`)
    n = n * 10 + d
  }
  if (!Number.isSafeInteger(n)) throw bad(at, `entry header: ${name} is too large`)
  return n
}
