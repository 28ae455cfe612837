import { crc32c } from '@node-rs/crc32'
import type { Attributes, StreamTags } from '../../core/record.js'
import { matches, pattern, viewOf, type Pattern } from './byte-pattern.js'

// The records of a spool segment file; this module is the only one that encodes or decodes them.
//
// Version 3 (written since the spool checksums a chunk, not each record):
//   TYPE 'c' (1 byte) LENGTH (u32 BE) BODY (LENGTH bytes) CRC32C (u32 BE, of TYPE, LENGTH and BODY)
//   A chunk is what one flush writes (one write() of the writer's buffer, spool-writer.ts):
//   its BODY is records without a checksum of their own, each TYPE (1) LENGTH (u32 BE) BODY,
//   of the types and bodies of version 2 below ('s', 'm', 'a'). One CRC32C call per flush and
//   one per chunk read, instead of one per message on each side (as Vector's disk_v2 does:
//   its record is a batch with one checksum).
//   Stream numbers are per segment, and every chunk defines the streams its messages use, so a
//   chunk can be read without the others. A chunk that fails its checksum is skipped alone, as
//   a version-2 record is: the next chunk that passes is found by scanning on (resync), and the
//   index of its first message says exactly how many were lost. Only whole chunks are readable (the writer's `durable` ends at
//   one), and the decoder hands out a chunk's messages only once all of it passed its checksum.
//
// Version 2 (read only, for spools written before chunks):
//   TYPE (1 byte) LENGTH (u32 BE) BODY (LENGTH bytes) CRC32C (u32 BE, of TYPE, LENGTH and BODY)
//   's' a stream: BODY = its number (u32 BE), its tags as JSON. Numbers are per segment, so a
//       segment can be read alone.
//   'm' a message: BODY = its index in the segment (u32 BE: its sequence number minus the
//       segment's first, the file name), stream number (u32 BE), timestamp length (u8),
//       timestamp (Unix ns, ASCII digits), message (UTF-8).
//   'a' a message with attributes: like 'm', with after the timestamp the attributes' JSON
//       length (u16 BE) and JSON, then the message.
// Numbers and indexes are in the records, not implied by their order, so a record (version 3:
// a chunk) that fails its checksum is skipped alone: the next one that passes is found by
// scanning on (resync), and the index of the next message says exactly how many were lost.
//
// Version 1 (read only, for spools written before; no checksum):
//   TYPE (1) LENGTH (u32 BE) PAYLOAD; 'S' a stream (tags JSON; numbered by order), 'M' and 'A'
//   like 'm' and 'a' without the index (a message's index is the count of messages before it).
//   A version-1 record that is no record cannot be skipped alone: the rest of its segment is
//   (only checksummed records are looked for after it), and counted when the next segment starts.
//
// A segment holds one version only (DiskSpool starts a new segment after an older one). The
// writer encodes straight into its write buffer (beginChunk, writeMessageRecord,
// finishRecord, sealChunk), so a message costs no allocation of its own; RecordDecoder is the
// reader's and recovery's decoder.

export const TYPE_STREAM = 0x73 // 's'
export const TYPE_MESSAGE = 0x6d // 'm'
export const TYPE_ATTRIBUTED = 0x61 // 'a'
export const TYPE_CHUNK = 0x63 // 'c'
const V1_STREAM = 0x53 // 'S'
const V1_MESSAGE = 0x4d // 'M'
const V1_ATTRIBUTED = 0x41 // 'A'
/** TYPE and LENGTH. */
const HEAD = 5
const CRC = 4
/** Bytes a chunk (version 3) has besides its records; a version-2 record besides its BODY. */
export const FRAME_BYTES = HEAD + CRC
/** Longest attributes JSON a record can hold (u16 length). */
export const MAX_ATTRS_JSON = 0xffff

/** A stream definition record (inside a chunk), numbered `stream` in its segment. */
export function encodeStream (stream: number, tags: StreamTags): Buffer {
  const json = Buffer.from(JSON.stringify(tags), 'utf8')
  const b = Buffer.allocUnsafe(HEAD + 4 + json.length)
  b[0] = TYPE_STREAM
  b.writeUInt32BE(stream, HEAD)
  json.copy(b, HEAD + 4)
  finishRecord(b, 0, b.length)
  return b
}

/** The attributes as the JSON an 'a' record carries. */
export function encodeAttributes (attrs: Attributes): Buffer {
  const json = Buffer.from(JSON.stringify(attrs), 'utf8')
  if (json.length > MAX_ATTRS_JSON) throw new RangeError('syslog attributes longer than 64 KiB')
  return json
}

/** Most bytes writeMessageRecord may write for a message of `messageBytes` bytes. */
export function messageRecordBound (tsNs: string, attrsJson: Buffer | null, messageBytes: number): number {
  return HEAD + 4 + 4 + 1 + tsNs.length + (attrsJson === null ? 0 : 2 + attrsJson.length) + messageBytes
}

/**
 * Write one message record (inside a chunk) at `pos` in `buf` (which has room for
 * messageRecordBound, with a string message counted as 3 bytes per UTF-16 unit); returns
 * where it ends. The message is a string, or the bytes `message[start, end)` (valid UTF-8).
 * `messageAt` is set to where the message starts (what comes before it is the record's
 * prefix, see setIndex).
 */
export function writeMessageRecord (buf: Buffer, pos: number, index: number, stream: number, tsNs: string, attrsJson: Buffer | null, message: string | Buffer, start = 0, end = 0): number {
  buf[pos] = attrsJson === null ? TYPE_MESSAGE : TYPE_ATTRIBUTED
  buf.writeUInt32BE(index, pos + HEAD)
  buf.writeUInt32BE(stream, pos + HEAD + 4)
  const tsLen = tsNs.length
  buf[pos + HEAD + 8] = tsLen
  let p = pos + HEAD + 9
  for (let i = 0; i < tsLen; i++) buf[p + i] = tsNs.charCodeAt(i)
  p += tsLen
  if (attrsJson !== null) {
    buf.writeUInt16BE(attrsJson.length, p)
    attrsJson.copy(buf, p + 2)
    p += 2 + attrsJson.length
  }
  messageAt = p - pos
  if (typeof message === 'string') p += buf.write(message, p, 'utf8')
  else p += message.copy(buf, p, start, end)
  return finishRecord(buf, pos, p)
}

/** Where the message of the record writeMessageRecord wrote last starts, from the record's start. */
export let messageAt = 0

/** Set the index of the message record at `pos` (a copied prefix of another record). */
export function setIndex (buf: Buffer, pos: number, index: number): void {
  buf.writeUInt32BE(index, pos + HEAD)
}

/** Finish the record at `pos` whose BODY ends at `bodyEnd`: its LENGTH (the chunk's CRC covers it); returns `bodyEnd`. */
export function finishRecord (buf: Buffer, pos: number, bodyEnd: number): number {
  buf.writeUInt32BE(bodyEnd - pos - HEAD, pos + 1)
  return bodyEnd
}

/** Start a chunk at `pos` in `buf`; returns where its first record goes. */
export function beginChunk (buf: Buffer, pos: number): number {
  buf[pos] = TYPE_CHUNK
  return pos + HEAD
}

/**
 * Seal the chunk at `pos` whose records end at `end` (buf has FRAME_BYTES - HEAD more bytes
 * of room): its LENGTH and its one CRC32C; returns where it ends.
 */
export function sealChunk (buf: Buffer, pos: number, end: number): number {
  buf.writeUInt32BE(end - pos - HEAD, pos + 1)
  buf.writeUInt32BE(crc32c(buf.subarray(pos, end)), end)
  return end + CRC
}

/** What RecordDecoder.decode found at a position. */
export const MESSAGE = 0
/** A stream definition, or a whole record or the end of a chunk that holds nothing more to hand out. */
export const STREAM = 1
/** Bytes that are no record were passed over (`size` of them), or a message was lost. */
export const SKIPPED = 2
/** The record goes on past the bytes given: read more and decode again from the same position. */
export const NEED_MORE = 3

export type LossReason = 'checksum' | 'corrupt'

/**
 * Decodes one segment's records in order. Holds what a segment's records refer to (its
 * streams, the next message's index) and, for speed, the last message's head (stream number,
 * timestamp, attributes): a record that starts with the same bytes is not decoded again, and
 * equal timestamps and attributes read one after the other are the same string and object.
 * Messages that cannot be handed out are added up in `lost` (not when already acknowledged).
 *
 * A chunk (version 3) is decoded a message per call once it passed its checksum: `size` is 0
 * for each of its messages but the last, and the whole chunk's for the call that finishes it,
 * so a caller that adds up `size` stays at the chunk's start until all of it was handed out
 * (and, stopping inside it, calls retake and decodes it again from there).
 */
export class RecordDecoder {
  /** Stream tags by number, and the JSON they were read from. */
  readonly streams: Array<StreamTags | undefined> = []
  private readonly streamJson: Array<Buffer | undefined> = []
  /** The index the next message should have. */
  nextIndex = 0
  /** Messages with a lower index are acknowledged: not counted when lost. */
  ackedIndex = 0
  /** Messages lost since the caller last reset it, why, and where the first loss began. */
  lost = 0
  lostReason: LossReason = 'checksum'
  lostWhy = ''
  /** After a bad record: passing bytes over until a checksummed record (or chunk) passes its checksum. */
  resyncing = false
  /**
   * The segment's format, from its first good record (0 before): a segment is all of one
   * version, so a type byte that a bit flip turned into another version's ('m' ^ 0x20 is 'M',
   * 'a' ^ 0x02 is 'c') is not taken for a record of that version.
   */
  version = 0
  /** Bytes the last decode consumed. */
  size = 0
  // The message decode found (MESSAGE).
  index = 0
  tags: StreamTags | undefined = undefined
  tsNs = ''
  attrs: Attributes | undefined = undefined
  messageStart = 0
  messageEnd = 0

  private head: Pattern | null = null
  private headType = 0
  private readAttrsJson = Buffer.alloc(0)
  private readAttrs: Attributes | undefined = undefined
  private view: DataView | null = null
  private viewBuf: Buffer | null = null
  /** The chunk whose messages are being handed out: where it starts in the buffer (-1: none), its next record, where its records end. */
  private chunkAt = -1
  private inner = 0
  private chunkEnd = 0

  /**
   * Decode the record at `p` in `buf`, of which the bytes up to `n` were read and those up to
   * `limit` (≥ n) exist (a record boundary: no record goes on past it).
   */
  decode (buf: Buffer, p: number, n: number, limit: number): number {
    if (this.chunkAt >= 0) return this.inChunk(buf)
    if (this.resyncing) return this.resync(buf, p, n, limit)
    if (n - p < HEAD) return n < limit ? NEED_MORE : this.fail('corrupt', 'a record cut short')
    const type = buf[p]!
    const len = buf.readUInt32BE(p + 1)
    const v = this.version
    if (type === TYPE_CHUNK && (v === 0 || v === 3)) {
      const end = p + HEAD + len + CRC
      if (end > limit) return this.fail('checksum', 'a chunk runs past the end of the segment')
      if (end > n) return NEED_MORE
      if (crc32c(buf.subarray(p, end - CRC)) !== buf.readUInt32BE(end - CRC)) return this.fail('checksum', 'a chunk fails its checksum')
      this.version = 3
      this.chunkAt = p
      this.inner = p + HEAD
      this.chunkEnd = end - CRC
      return this.inChunk(buf)
    }
    if ((type === TYPE_MESSAGE || type === TYPE_ATTRIBUTED || type === TYPE_STREAM) && (v === 0 || v === 2)) {
      const end = p + HEAD + len + CRC
      if (end > limit) return this.fail('checksum', 'a record runs past the end of the segment')
      if (end > n) return NEED_MORE
      if (crc32c(buf.subarray(p, end - CRC)) !== buf.readUInt32BE(end - CRC)) return this.fail('checksum', 'a record fails its checksum')
      this.size = end - p
      if (type === TYPE_STREAM) return this.stream(2, buf, p + HEAD + 4, end - CRC, len < 4 ? -1 : buf.readUInt32BE(p + HEAD))
      if (len < 4) return this.fail('corrupt', 'a message record too short')
      return this.message(2, buf, type === TYPE_ATTRIBUTED, p + HEAD + 4, end - CRC, buf.readUInt32BE(p + HEAD))
    }
    if ((type === V1_MESSAGE || type === V1_ATTRIBUTED || type === V1_STREAM) && (v === 0 || v === 1)) {
      const end = p + HEAD + len
      if (end > limit) return this.fail('corrupt', 'a record runs past the end of the segment')
      if (end > n) return NEED_MORE
      this.size = end - p
      if (type === V1_STREAM) return this.stream(1, buf, p + HEAD, end, this.streams.length)
      return this.message(1, buf, type === V1_ATTRIBUTED, p + HEAD, end, this.nextIndex)
    }
    return this.fail('corrupt', 'bytes that are no record')
  }

  /**
   * The message decode found last is to be offered again (the reader's taker refused it): the
   * next decode starts over at the record or chunk that holds it, and passes over the
   * messages of that chunk before it, which were handed out already.
   */
  retake (): void {
    this.nextIndex = this.index
    this.chunkAt = -1
  }

  /**
   * The next segment starts with the byte `first`. Versions only go up from one segment to
   * the next, so when it is a checksummed one's ('c' or 's'), so was this one, even if its
   * bad bytes left no record to tell (a lone chunk whose head was hit): its losses are the
   * checksums', not a version-1 segment's garbage.
   */
  nextSegmentStarts (first: number): void {
    if (this.version === 0 && (first === TYPE_CHUNK || first === TYPE_STREAM)) this.lostReason = 'checksum'
  }

  /** Count the messages from nextIndex up to `index` as lost (the segment holds `index` messages, or the next one found has it). */
  lose (index: number): void {
    const from = Math.max(this.nextIndex, this.ackedIndex)
    if (index > from) this.lost += index - from
    if (index > this.nextIndex) this.nextIndex = index
  }

  private fail (reason: LossReason, why: string): number {
    // Whatever is wrong in a checksummed segment, its checksums are what find it (not what a
    // chunk that passed its checksum holds: that was written so).
    if (!this.resyncing && this.lost === 0) { this.lostReason = this.version >= 2 && this.chunkAt < 0 ? 'checksum' : reason; this.lostWhy = why }
    this.resyncing = true
    this.head = null
    this.size = 1
    return SKIPPED
  }

  /**
   * Hand out the next message of the chunk that passed its checksum (MESSAGE), or finish it
   * (STREAM: nothing more in it). Its stream records are taken in passing.
   */
  private inChunk (buf: Buffer): number {
    const e = this.chunkEnd
    while (this.inner < e) {
      const q = this.inner
      if (e - q < HEAD) return this.badChunk('a record cut short inside a chunk')
      const type = buf[q]!
      const len = buf.readUInt32BE(q + 1)
      const end = q + HEAD + len
      if (end > e) return this.badChunk('a record runs past the end of its chunk')
      this.inner = end
      let r: number
      if (type === TYPE_STREAM) {
        r = this.stream(3, buf, q + HEAD + 4, end, len < 4 ? -1 : buf.readUInt32BE(q + HEAD))
      } else if (type === TYPE_MESSAGE || type === TYPE_ATTRIBUTED) {
        if (len < 4) return this.badChunk('a message record too short')
        const index = buf.readUInt32BE(q + HEAD)
        // Handed out before the reader stopped inside this chunk (retake): passed over.
        if (index < this.nextIndex) continue
        r = this.message(3, buf, type === TYPE_ATTRIBUTED, q + HEAD + 4, end, index)
      } else {
        return this.badChunk('bytes that are no record inside a chunk')
      }
      if (this.resyncing) return this.badChunk('')
      if (r === MESSAGE) {
        this.size = this.inner === e ? this.leaveChunk() : 0
        return MESSAGE
      }
      // A stream, or a message whose stream was lost (counted): on to the next record.
    }
    this.size = this.leaveChunk()
    return STREAM
  }

  /** The chunk's bytes, from its start; it is done with. */
  private leaveChunk (): number {
    const size = this.chunkEnd + CRC - this.chunkAt
    this.chunkAt = -1
    return size
  }

  /**
   * A record inside a chunk that passed its checksum is no record (a chunk written so): the
   * rest of the chunk is lost, and the next chunk starts right after it (no resync).
   */
  private badChunk (why: string): number {
    if (!this.resyncing) this.fail('corrupt', why)
    this.resyncing = false
    this.size = this.leaveChunk()
    return SKIPPED
  }

  /** Pass over bytes up to the next checksummed record or chunk (of the segment's version) that passes its checksum. */
  private resync (buf: Buffer, p: number, n: number, limit: number): number {
    const v = this.version
    let q = p
    for (; q < n; q++) {
      const type = buf[q]
      if (!checksummed(type!, v)) continue
      if (n - q < HEAD) break
      const end = q + HEAD + buf.readUInt32BE(q + 1) + CRC
      if (end > limit) continue
      if (end > n) break
      if (crc32c(buf.subarray(q, end - CRC)) === buf.readUInt32BE(end - CRC)) {
        this.resyncing = false
        // The segment's first bytes were bad (no version known yet), and it is checksummed:
        // what was passed over is what its checksums found, not a version-1 segment's garbage.
        if (v === 0) this.lostReason = 'checksum'
        break
      }
    }
    // At the end of what exists, nothing more can start a record here.
    if (q >= n || (this.resyncing && n === limit)) q = n
    this.size = q - p
    return this.size === 0 ? NEED_MORE : SKIPPED
  }

  /** The stream numbered `no` whose tags' JSON is buf[a, b). */
  private stream (version: number, buf: Buffer, a: number, b: number, no: number): number {
    // Every chunk defines its streams again: the same bytes are the same stream object (the
    // reader's callers tell streams apart by it), and the cached head still holds.
    const json = no < 0 ? undefined : this.streamJson[no]
    if (json !== undefined && this.streams[no] !== undefined && json.length === b - a && buf.compare(json, 0, json.length, a, b) === 0) {
      this.version = version
      return STREAM
    }
    let tags: StreamTags
    try { tags = JSON.parse(buf.toString('utf8', a, b)) as StreamTags } catch { return this.fail('corrupt', 'a stream record that is no JSON') }
    if (no < 0 || typeof tags !== 'object' || tags === null) return this.fail('corrupt', 'a stream record that is no stream')
    this.streams[no] = tags
    this.streamJson[no] = Buffer.from(buf.subarray(a, b))
    this.version = version
    this.head = null // a number may be defined again: the cached head may no longer hold
    return STREAM
  }

  /** The message whose BODY after the index is buf[h, e); `version` is its segment's. */
  private message (version: number, buf: Buffer, attributed: boolean, h: number, e: number, index: number): number {
    if (index < this.nextIndex) return this.fail('corrupt', 'a message index that goes back')
    const size = this.size
    const type = attributed ? TYPE_ATTRIBUTED : TYPE_MESSAGE
    if (this.viewBuf !== buf) { this.view = viewOf(buf); this.viewBuf = buf }
    const head = this.head
    let m: number
    if (head !== null && type === this.headType && h + head.bytes.length <= e && matches(this.view!, buf, h, head)) {
      m = h + head.bytes.length
    } else {
      if (e - h < 5) return this.fail('corrupt', 'a message record too short')
      const tsLen = buf[h + 4]!
      m = h + 5 + tsLen
      if (m > e) return this.fail('corrupt', 'a timestamp longer than its record')
      let attrs: Attributes | undefined
      if (attributed) {
        if (m + 2 > e) return this.fail('corrupt', 'attributes longer than their record')
        const jsonLen = buf.readUInt16BE(m)
        if (m + 2 + jsonLen > e) return this.fail('corrupt', 'attributes longer than their record')
        attrs = this.attrsAt(buf, m + 2, m + 2 + jsonLen)
        if (attrs === undefined) return this.fail('corrupt', 'attributes that are no JSON object')
        m += 2 + jsonLen
      }
      const tags = this.streams[buf.readUInt32BE(h)]
      const ts = this.tsAt(buf, h + 5, h + 5 + tsLen)
      if (tags === undefined) {
        // In version 1, streams are numbered by order: an unknown one means the bytes are no records.
        if (version === 1) return this.fail('corrupt', `stream ${buf.readUInt32BE(h)} used before it is defined`)
        // Its stream's record was lost (versions 2 and 3 number streams, so the others still hold).
        this.version = version
        this.lose(index + 1)
        if (this.lost > 0 && this.lostWhy === '') { this.lostReason = 'checksum'; this.lostWhy = `stream ${buf.readUInt32BE(h)} is not defined` }
        this.head = null
        this.size = size
        return SKIPPED
      }
      // Learn the head once two messages in a row decoded alike.
      this.head = tags === this.tags && ts === this.tsNs && attrs === this.attrs && type === this.headType ? pattern(Buffer.from(buf.subarray(h, m))) : null
      this.headType = type
      this.tags = tags
      this.tsNs = ts
      this.attrs = attrs
    }
    this.lose(index)
    this.nextIndex = index + 1
    this.version = version
    this.index = index
    this.messageStart = m
    this.messageEnd = e
    this.size = size
    return MESSAGE
  }

  /** The timestamp at buf[a, b): the last one's string when the bytes are the same. */
  private tsAt (buf: Buffer, a: number, b: number): string {
    const last = this.tsNs
    if (last.length === b - a) {
      let i = 0
      while (i < last.length && last.charCodeAt(i) === buf[a + i]) i++
      if (i === last.length) return last
    }
    return buf.toString('latin1', a, b)
  }

  /** The attributes JSON at buf[a, b) parsed (the last object when the bytes are the same), or undefined when it is no JSON object. */
  private attrsAt (buf: Buffer, a: number, b: number): Attributes | undefined {
    const last = this.readAttrsJson
    if (this.readAttrs !== undefined && last.length === b - a && buf.compare(last, 0, last.length, a, b) === 0) return this.readAttrs
    let attrs: Attributes
    try { attrs = JSON.parse(buf.toString('utf8', a, b)) as Attributes } catch { return undefined }
    if (typeof attrs !== 'object' || attrs === null) return undefined
    this.readAttrsJson = Buffer.from(buf.subarray(a, b))
    this.readAttrs = attrs
    return attrs
  }
}

/** Whether `type` starts a checksummed frame in a segment of version `v` (0: not known yet; 1: none, but look for any). */
function checksummed (type: number, v: number): boolean {
  if (type === TYPE_CHUNK) return v !== 2
  return (type === TYPE_MESSAGE || type === TYPE_ATTRIBUTED || type === TYPE_STREAM) && v !== 3
}

/** What recovery learns from a segment: how many of its bytes end in a whole record, the next message's index, its streams. */
export interface SegmentScan { validBytes: number, nextIndex: number, streams: Array<StreamTags | undefined>, version: number }

/**
 * Scan a whole segment. A bad stretch followed by good records (a bit flip, a page written
 * out of order) is passed over; one that runs to the end (a write cut short by a crash) is
 * where the segment's valid bytes end.
 */
export function scanSegment (data: Buffer): SegmentScan {
  const d = new RecordDecoder()
  let p = 0
  let valid = 0
  let nextIndex = 0
  while (p < data.length) {
    const r = d.decode(data, p, data.length, data.length)
    p += d.size
    if (r !== SKIPPED || !d.resyncing) { valid = p; nextIndex = d.nextIndex }
    if (r === NEED_MORE) break // cannot happen with n === limit; here so the loop always ends
  }
  return { validBytes: valid, nextIndex, streams: d.streams, version: d.version }
}
