import { DaytwoError } from './errors.js'
import { detectLevelBytes, levelIndex, syslogSeverityLevel } from './level.js'
import type { Entry, StreamBatch, StreamTags } from './record.js'
import { checkAttributes, checkTags } from './wire.js'

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
//
// The collector does not turn E records into strings: a decoded group keeps its records as
// the bytes they came in (FramedBatch), which the embedded store writes into its blocks as
// they are. Entries are made only for what needs them (the Elasticsearch encoder, a
// rate-limited app's lines, a query reading a block back).

export const FRAMES = 'application/vnd.daytwo.frames.v1'

const S = 0x53
const E = 0x45
const SPACE = 0x20
const NL = 0x0a
const DASH = 0x2d
const ZERO = 0x30
/** Longest number field: a safe integer has at most 16 digits; a ts at most 20 and a sign. */
const MAX_DIGITS = 16
const MAX_TS = 21
/** Signed 64-bit nanoseconds' bounds as digits: equal-length digit strings compare like numbers. */
const MAX_NS = Buffer.from('9223372036854775807')
const MIN_NS = Buffer.from('9223372036854775808')

/** A stream's `S` line, which callers cache per stream. */
export function streamFrame (tags: StreamTags): Buffer {
  return Buffer.from('S ' + JSON.stringify(tags) + '\n')
}

/** One entry's bytes (the general way; the forwarder's tailer writes them directly). */
export function entryFrame (e: Entry): string {
  const attrs = e[4] === undefined ? '' : JSON.stringify(e[4])
  return `E ${e[0]} ${e[1]} ${e[3] === '' ? '-' : e[3]} ${Buffer.byteLength(e[2])} ${Buffer.byteLength(attrs)}\n${e[2]}${attrs}\n`
}

/** The E records of a list of entries, without a stream line. */
export function encodeEntries (entries: Entry[]): Buffer {
  let s = ''
  for (const e of entries) s += entryFrame(e)
  return Buffer.from(s)
}

export function encodeFrames (groups: StreamBatch[]): Buffer {
  const parts: Buffer[] = []
  for (const g of groups) {
    parts.push(streamFrame(g.stream))
    parts.push(g instanceof FramedBatch ? g.frames : encodeEntries(g.entries))
  }
  return Buffer.concat(parts)
}

/**
 * Each record of a decoded group, eight numbers apiece, so that a store can cut blocks, take
 * their bounds and index them without parsing the records again: where the record starts in
 * `frames`, its offset, its time as two exact parts (TsParts), its message's length in bytes,
 * its level (an index in core/level.ts LEVELS: the `severity` attribute's, else detected from
 * the message), where its message starts (from the record's start), and its stdio
 * (stdioCode). These are found here, once, where a line enters the collector, on the thread
 * that decodes the request, so the store's writer thread only files them.
 */
export const RECORD_INDEX = { width: 8, start: 0, offset: 1, tsHi: 2, tsLo: 3, msgLen: 4, level: 5, msgAt: 6, stdio: 7 } as const

/**
 * The stdio field body[start, end) as stores number it (store/stream-filter.ts STDIOS): 0 for
 * none (`-`, or empty), 1 stdout, 2 stderr; -1 for anything else. Bytes compared in place.
 */
export function stdioCode (body: Uint8Array, start: number, end: number): number {
  const n = end - start
  if (n === 1) return body[start] === DASH ? 0 : -1
  if (n === 0) return 0
  // std + out / err
  if (n !== 6 || body[start] !== 0x73 || body[start + 1] !== 0x74 || body[start + 2] !== 0x64) return -1
  const c3 = body[start + 3]
  const c4 = body[start + 4]
  const c5 = body[start + 5]
  if (c3 === 0x6f && c4 === 0x75 && c5 === 0x74) return 1
  if (c3 === 0x65 && c4 === 0x72 && c5 === 0x72) return 2
  return -1
}

/** A decoded frames body: its bytes and how many groups were made of it. */
export interface FramesBody {
  bytes: Buffer
  groups: number
  /**
   * Nobody else will read these bytes (a request body, read once): whoever takes every group
   * of the body may take its memory rather than copy it (decodeFrames' `owned`).
   */
  owned?: boolean
}

/**
 * One group of a frames body, its entries kept as the E records they arrived as. `entries`
 * parses them on first use; the records are the truth, so build a new batch to change them.
 */
export class FramedBatch implements StreamBatch {
  private parsed: Entry[] | undefined
  /** How many records. */
  readonly count: number

  constructor (
    public stream: StreamTags,
    /** The group's E records, back to back. */
    readonly frames: Buffer,
    /** Where each record is, and what a store needs of it (RECORD_INDEX). */
    readonly index: Float64Array,
    /** Their messages' bytes. */
    readonly bytes: number,
    /** The body the group was decoded from (which `frames` is part of). */
    readonly source: FramesBody = { bytes: frames, groups: 1 }
  ) {
    this.count = index.length / RECORD_INDEX.width
  }

  /** Whether a store took this group's memory (an `owned` body, FramesBody). */
  get released (): boolean {
    return this.count > 0 && this.frames.byteLength === 0
  }

  get entries (): Entry[] {
    if (this.released) throw new DaytwoError('BAD_BATCH', 'these records were handed to the store and are no longer readable here')
    return (this.parsed ??= entriesOf(this.frames))
  }
}

/** How many entries a batch holds, without parsing a FramedBatch's records. */
export function entryCount (b: StreamBatch): number {
  return b instanceof FramedBatch ? b.count : b.entries.length
}

/** The bytes of a batch's messages, without parsing a FramedBatch's records. */
export function messageBytes (b: StreamBatch): number {
  if (b instanceof FramedBatch) return b.bytes
  let n = 0
  for (const e of b.entries) n += Buffer.byteLength(e[2])
  return n
}

/** A batch as a FramedBatch: itself, or its entries encoded and indexed. */
export function framed (b: StreamBatch): FramedBatch {
  if (b instanceof FramedBatch) return b
  const [g] = decodeFrames(Buffer.concat([streamFrame(b.stream), encodeEntries(b.entries)]), false)
  g!.stream = b.stream
  return g!
}

/**
 * Where one E record's parts lie in its buffer: filled by readEntry, reused from one record
 * to the next so that walking a batch makes no object per record.
 */
export class EntryView {
  tsStart = 0
  tsEnd = 0
  offset = 0
  stdioStart = 0
  stdioEnd = 0
  msgStart = 0
  msgLen = 0
  attrLen = 0
  /** The record's closing newline. */
  end = 0
  /** The last number read. */
  num = 0

  /** The time split into exact parts: ts = hi × 1e9 + lo, both carrying the sign. */
  tsParts (body: Buffer, out: TsParts): TsParts {
    let p = this.tsStart
    const neg = body[p] === DASH
    if (neg) p++
    const split = Math.max(p, this.tsEnd - 9)
    let hi = 0
    let lo = 0
    for (let i = p; i < split; i++) hi = hi * 10 + body[i]! - ZERO
    for (let i = split; i < this.tsEnd; i++) lo = lo * 10 + body[i]! - ZERO
    out.hi = neg ? -hi : hi
    out.lo = neg ? -lo : lo
    return out
  }
}

/** A time in nanoseconds as two safe integers; compare hi, then lo. */
export interface TsParts { hi: number, lo: number }

export function tsBigInt (t: TsParts): bigint {
  return BigInt(t.hi) * 1_000_000_000n + BigInt(t.lo)
}

function bad (at: number, why: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', `frames, byte ${at}: ${why}`)
}

/**
 * Parse the structure of the E record at `pos` (fields present, numbers decimal, lengths
 * right) into `v`; its values are checked by the caller. Returns the position after it.
 */
export function readEntry (body: Buffer, pos: number, v: EntryView): number {
  const at = pos
  // <ts> <offset> <stdio> <message bytes> <attribute bytes>\n, each field scanned once.
  v.tsStart = pos + 2
  v.tsEnd = field(body, v.tsStart, MAX_TS, at, 'time')
  let p = number(body, v.tsEnd + 1, SPACE, at, 'offset', v)
  v.offset = v.num
  v.stdioStart = p + 1
  v.stdioEnd = field(body, v.stdioStart, 16, at, 'stdio')
  p = number(body, v.stdioEnd + 1, SPACE, at, 'message length', v)
  v.msgLen = v.num
  p = number(body, p + 1, NL, at, 'attribute length', v)
  v.attrLen = v.num
  v.msgStart = p + 1
  v.end = v.msgStart + v.msgLen + v.attrLen
  if (v.end >= body.length || body[v.end] !== NL) throw bad(at, `entry of ${v.msgLen} + ${v.attrLen} bytes is not followed by a newline (a wrong length, or a body cut short)`)
  return v.end + 1
}

/** The entry an E record holds. */
export function entryAt (body: Buffer, v: EntryView): Entry {
  const ts = body.toString('latin1', v.tsStart, v.tsEnd)
  const stdio = v.stdioEnd === v.stdioStart + 1 && body[v.stdioStart] === DASH ? '' : body.toString('latin1', v.stdioStart, v.stdioEnd)
  const attrStart = v.msgStart + v.msgLen
  const message = body.toString('utf8', v.msgStart, attrStart)
  if (v.attrLen === 0) return [ts, v.offset, message, stdio]
  return [ts, v.offset, message, stdio, JSON.parse(body.toString('utf8', attrStart, v.end)) as Entry[4]]
}

/** The entries of E records already checked (a decoded group, a stored block). */
export function entriesOf (records: Buffer): Entry[] {
  const out: Entry[] = []
  const v = new EntryView()
  for (let pos = 0; pos < records.length;) {
    if (records[pos] !== E || records[pos + 1] !== SPACE) throw bad(pos, 'expected "E " (an entry)')
    pos = readEntry(records, pos, v)
    out.push(entryAt(records, v))
  }
  return out
}

/**
 * Parse and validate a whole frames body into its groups. Throws DAYTWO_ERR_BAD_BATCH naming
 * the byte and group. `validate: false` only parses (a forwarder splitting its own batch, whose
 * tags may break limits that only the collector enforces).
 */
export function decodeFrames (body: Buffer, validate = true, owned = false): FramedBatch[] {
  const v = new EntryView()
  const ts: TsParts = { hi: 0, lo: 0 }
  const W = RECORD_INDEX.width
  // One index for the whole body, grown by doubling; each group takes a view of its part.
  let index = new Float64Array(W * (16 + (body.length >>> 7)))
  let n = 0 // records so far in the body
  let tags: StreamTags | null = null
  let start = 0
  let first = 0 // the group's first record
  let bytes = 0
  let last = -1
  let label: string | undefined // the group's name in errors, made once per group when needed
  // Groups are made once the index has its final size (it may grow while the body is read).
  const groups: Array<{ tags: StreamTags, start: number, end: number, first: number, n: number, bytes: number }> = []
  const close = (end: number) => { if (tags !== null) groups.push({ tags, start, end, first, n, bytes }) }
  let pos = 0
  const len = body.length
  while (pos < len) {
    const kind = body[pos]
    if ((kind !== S && kind !== E) || body[pos + 1] !== SPACE) throw bad(pos, 'expected "S " (a stream) or "E " (an entry)')
    if (kind === S) {
      close(pos)
      const nl = body.indexOf(NL, pos)
      if (nl === -1) throw bad(pos, 'stream line has no newline')
      let parsed: unknown
      try {
        parsed = JSON.parse(body.toString('utf8', pos + 2, nl))
      } catch (err) {
        throw bad(pos, `stream tags are not JSON (${(err as Error).message})`)
      }
      tags = validate ? checkTags(parsed, `frames, group ${groups.length + 1}`) : parsed as StreamTags
      pos = start = nl + 1
      label = undefined
      first = n
      bytes = 0
      last = -1
      continue
    }
    if (tags === null) throw bad(pos, 'an entry before any stream line')
    const at = pos
    pos = readEntry(body, pos, v)
    const i = n - first
    if (validate) {
      const group = groups.length + 1
      checkTime(body, v, group, i)
      checkStdio(body, v, group, i)
      if (v.offset <= last) throw refuse(group, i, '[1]: offsets must increase within a group')
    }
    last = v.offset
    let severity: unknown
    if (v.attrLen > 0) {
      let attrs: unknown
      try {
        attrs = JSON.parse(body.toString('utf8', v.msgStart + v.msgLen, v.end))
      } catch (err) {
        throw bad(at, `attributes are not JSON (${(err as Error).message})`)
      }
      if (validate) checkAttributes(attrs, label ??= `frames, group ${groups.length + 1}`, i)
      if (attrs !== null && typeof attrs === 'object') severity = (attrs as Record<string, unknown>).severity
    }
    if ((n + 1) * W > index.length) { const grown = new Float64Array(index.length * 2); grown.set(index); index = grown }
    const k = n * W
    v.tsParts(body, ts)
    index[k] = at - start
    index[k + 1] = v.offset
    index[k + 2] = ts.hi
    index[k + 3] = ts.lo
    index[k + 4] = v.msgLen
    index[k + 5] = levelIndex(typeof severity === 'string' ? syslogSeverityLevel(severity) : detectLevelBytes(body, v.msgStart, v.msgStart + v.msgLen))
    index[k + 6] = v.msgStart - at
    index[k + 7] = stdioCode(body, v.stdioStart, v.stdioEnd)
    n++
    bytes += v.msgLen
  }
  close(len)
  const source: FramesBody = { bytes: body, groups: groups.length, owned }
  return groups.map((g) => new FramedBatch(g.tags, body.subarray(g.start, g.end), index.subarray(g.first * W, g.n * W), g.bytes, source))
}

/** A refused entry, named as NDJSON's checks name it (core/wire.ts). Made only on failure. */
function refuse (group: number, i: number, why: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', `frames, group ${group}: entries[${i}]${why}`)
}

/** The same checks as NDJSON's (core/wire.ts), on the time's bytes. */
function checkTime (body: Buffer, v: EntryView, group: number, i: number): void {
  let p = v.tsStart
  const neg = body[p] === DASH
  if (neg) p++
  const n = v.tsEnd - p
  let ok = n >= 1 && n <= 20
  for (let k = p; ok && k < v.tsEnd; k++) { const d = body[k]! - ZERO; ok = d >= 0 && d <= 9 }
  if (!ok) throw refuse(group, i, '[0] must be Unix nanoseconds as a decimal string')
  if (n < 19) return
  // 19 digits and more may leave signed 64 bits (see core/wire.ts).
  let first = p
  while (first < v.tsEnd - 1 && body[first] === ZERO) first++ // leading zeros
  const sig = v.tsEnd - first
  if (sig > 19 || (sig === 19 && above(body, first, neg ? MIN_NS : MAX_NS))) throw refuse(group, i, '[0] is outside signed 64-bit nanoseconds')
}

/**
 * The stdio field: `stdout`, `stderr`, or `-` for none, as NDJSON's check (core/wire.ts) allows.
 * Stores keep it as one of three values (the Loki label `stream`), so nothing else is taken.
 */
function checkStdio (body: Buffer, v: EntryView, group: number, i: number): void {
  if (v.stdioEnd > v.stdioStart && stdioCode(body, v.stdioStart, v.stdioEnd) !== -1) return
  throw refuse(group, i, '[3] must be the stdio stream: "stdout", "stderr", or "-" for none')
}

/** Whether the 19 digits at body[p] are more than `bound`'s (Buffer#compare costs more per call). */
function above (body: Buffer, p: number, bound: Buffer): boolean {
  for (let i = 0; i < 19; i++) {
    const d = body[p + i]! - bound[i]!
    if (d !== 0) return d > 0
  }
  return false
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

/**
 * A non-negative decimal field starting at `p` and ending in `term`: its value goes to
 * `v.num`; returns the terminator's position. Digits are checked as they are read.
 */
function number (body: Buffer, p: number, term: number, at: number, name: string, v: EntryView): number {
  const stop = Math.min(body.length, p + MAX_DIGITS + 1)
  let n = 0
  let i = p
  for (; i < stop; i++) {
    const c = body[i]!
    const d = c - ZERO
    if (d >= 0 && d <= 9) { n = n * 10 + d; continue }
    if (c === term) break
    if (term === SPACE && c === NL) throw bad(at, 'entry header has too few fields (E <ts> <offset> <stdio> <message bytes> <attribute bytes>)')
    if (term === SPACE && c === SPACE && i === p) throw bad(at, `entry header: ${name} missing`)
    throw bad(at, `entry header: ${name} must be a decimal number`)
  }
  if (i === stop) throw bad(at, term === NL ? 'entry header has no newline after the attribute length' : `entry header: ${name} missing or longer than ${MAX_DIGITS} bytes`)
  if (i === p) throw bad(at, `entry header: ${name} ${term === NL ? 'must be a decimal number' : 'missing'}`)
  if (!Number.isSafeInteger(n)) throw bad(at, `entry header: ${name} is too large`)
  v.num = n
  return i
}
