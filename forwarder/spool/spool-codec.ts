import type { Attributes, StreamTags } from '../../core/record.js'

// Records in a spool segment file: TYPE (1 byte) LENGTH (u32 BE) PAYLOAD.
//   'S' defines the segment's next stream: PAYLOAD is the stream's tags as JSON; streams are
//       numbered 0, 1, … in the order of their 'S' records, afresh in each segment, so a
//       segment can be read alone.
//   'M' is one message: PAYLOAD = stream number (u32 BE), timestamp length (u8), timestamp
//       (Unix ns, ASCII digits), message (UTF-8). Its sequence number is the segment's first
//       sequence (the file name) plus the count of 'M' records before it.
//   'A' is one message with attributes: like 'M', with after the timestamp the attributes'
//       JSON length (u16 BE) and JSON, then the message.
// A record cut short (the process died mid-write) or a byte that is no record type ends the
// readable part of a segment; recovery truncates the file there.
//
// The writer encodes straight into the spool's write buffer (writeMessageRecord), so a
// message costs no allocation of its own; decodeAt is the plain reader for recovery and tests.

export const TYPE_STREAM = 0x53
export const TYPE_MESSAGE = 0x4d
export const TYPE_ATTRIBUTED = 0x41
export const HEADER_BYTES = 5
/** Longest attributes JSON a record can hold (u16 length). */
export const MAX_ATTRS_JSON = 0xffff

export function encodeStream (tags: StreamTags): Buffer {
  const json = Buffer.from(JSON.stringify(tags), 'utf8')
  const b = Buffer.allocUnsafe(HEADER_BYTES + json.length)
  b[0] = TYPE_STREAM
  b.writeUInt32BE(json.length, 1)
  json.copy(b, HEADER_BYTES)
  return b
}

/** The attributes as the JSON an 'A' record carries. */
export function encodeAttributes (attrs: Attributes): Buffer {
  const json = Buffer.from(JSON.stringify(attrs), 'utf8')
  if (json.length > MAX_ATTRS_JSON) throw new RangeError('syslog attributes longer than 64 KiB')
  return json
}

/** Most bytes writeMessageRecord may write for a message of `messageBytes` bytes. */
export function messageRecordBound (tsNs: string, attrsJson: Buffer | null, messageBytes: number): number {
  return HEADER_BYTES + 4 + 1 + tsNs.length + (attrsJson === null ? 0 : 2 + attrsJson.length) + messageBytes
}

/**
 * Write one message record at `pos` in `buf` (which has room for messageRecordBound, with a
 * string message counted as 3 bytes per UTF-16 unit); returns where it ends. The message is
 * a string, or the bytes `message[start, end)` (valid UTF-8).
 */
export function writeMessageRecord (buf: Buffer, pos: number, stream: number, tsNs: string, attrsJson: Buffer | null, message: string | Buffer, start = 0, end = 0): number {
  buf[pos] = attrsJson === null ? TYPE_MESSAGE : TYPE_ATTRIBUTED
  buf.writeUInt32BE(stream, pos + 5)
  const tsLen = tsNs.length
  buf[pos + 9] = tsLen
  let p = pos + 10
  for (let i = 0; i < tsLen; i++) buf[p + i] = tsNs.charCodeAt(i)
  p += tsLen
  if (attrsJson !== null) {
    buf.writeUInt16BE(attrsJson.length, p)
    attrsJson.copy(buf, p + 2)
    p += 2 + attrsJson.length
  }
  if (typeof message === 'string') p += buf.write(message, p, 'utf8')
  else p += message.copy(buf, p, start, end)
  buf.writeUInt32BE(p - pos - HEADER_BYTES, pos + 1)
  return p
}

export type DecodedRecord =
  | { type: 'stream', tags: StreamTags, size: number }
  | { type: 'message', stream: number, tsNs: string, message: string, attrs?: Attributes, size: number }

/**
 * The record at `pos` in `buf`, or 'short' when `buf` ends inside it, or 'corrupt' when the
 * bytes there are no record.
 */
export function decodeAt (buf: Buffer, pos: number, end: number): DecodedRecord | 'short' | 'corrupt' {
  if (end - pos < HEADER_BYTES) return 'short'
  const type = buf[pos]
  const len = buf.readUInt32BE(pos + 1)
  if (type !== TYPE_STREAM && type !== TYPE_MESSAGE && type !== TYPE_ATTRIBUTED) return 'corrupt'
  if (end - pos - HEADER_BYTES < len) return 'short'
  const p = pos + HEADER_BYTES
  const size = HEADER_BYTES + len
  if (type === TYPE_STREAM) {
    try {
      return { type: 'stream', tags: JSON.parse(buf.toString('utf8', p, p + len)) as StreamTags, size }
    } catch {
      return 'corrupt'
    }
  }
  if (len < 5) return 'corrupt'
  const tsLen = buf[p + 4]!
  if (5 + tsLen > len) return 'corrupt'
  if (type === TYPE_ATTRIBUTED) {
    if (5 + tsLen + 2 > len) return 'corrupt'
    const a = p + 5 + tsLen
    const jsonLen = buf.readUInt16BE(a)
    if (5 + tsLen + 2 + jsonLen > len) return 'corrupt'
    let attrs: Attributes
    try { attrs = JSON.parse(buf.toString('utf8', a + 2, a + 2 + jsonLen)) as Attributes } catch { return 'corrupt' }
    return { type: 'message', stream: buf.readUInt32BE(p), tsNs: buf.toString('latin1', p + 5, p + 5 + tsLen), attrs, message: buf.toString('utf8', a + 2 + jsonLen, p + len), size }
  }
  return {
    type: 'message',
    stream: buf.readUInt32BE(p),
    tsNs: buf.toString('latin1', p + 5, p + 5 + tsLen),
    message: buf.toString('utf8', p + 5 + tsLen, p + len),
    size
  }
}
