import { Decoder, ExtData } from '@msgpack/msgpack'
import { InflateBudget, InflateError, inflate, rejectReason } from '../../inflate.js'

// One decoded forward frame (protocol v1 "Event Modes") → its tag, its events and its options:
//   Message                  [tag, time, record, option?]
//   Forward                  [tag, [[time, record], …], option?]
//   PackedForward            [tag, bin|str <concatenated msgpack [time, record]>, option?]
//   CompressedPackedForward  the same, gzip (one or more members), option.compressed = 'gzip'
// Times: an integer (seconds), a float (seconds), or EventTime, ext type 0 (two big-endian
// uint32: seconds, nanoseconds); Fluent Bit 2.1+ may send [[time, metadata], record].
// Strings arrive as bytes (the receiver decodes with rawStrings, since PackedForward entries
// may come as str and must not be read as UTF-8) and become text here.
// A frame whose shape is wrong is refused whole (FrameError); an event that is not
// [time, record] is dropped and counted, the rest of the frame kept.

export interface ForwardEvent {
  /** Unix ns as a decimal string. */
  ns: string
  record: Record<string, unknown>
}

export interface ForwardFrame {
  mode: 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward'
  tag: string
  events: ForwardEvent[]
  /** The sender wants `{ack: chunk}` once the frame is stored. */
  chunk?: string
  /** Events that were not [time, record] (counted by the caller). */
  badEvents: number
  /** Fields cut because they nested deeper than MAX_DEPTH. */
  cutFields: number
}

export class FrameError extends Error {
  constructor (readonly reason: 'malformed_batch' | 'too_large' | 'inflate_busy' | 'bad_encoding', message: string) { super(message) }
}

const MAX_TAG_BYTES = 1024
/** Record values nest at most this deep; deeper ones are cut (a bound on every recursion after). */
const MAX_DEPTH = 16

export function text (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')
}

/** The decoder every frame and packed stream is read with: strings as bytes, every length bounded by `maxBytes`. */
export function frameDecoder (maxBytes: number): Decoder {
  return new Decoder({ rawStrings: true, maxStrLength: maxBytes, maxBinLength: maxBytes, maxArrayLength: maxBytes, maxMapLength: maxBytes, maxExtLength: maxBytes })
}

/** Unix ns of a forward time, or null when it is none. */
export function eventTimeNs (t: unknown): string | null {
  if (t instanceof ExtData) {
    if (t.type !== 0 || !(t.data instanceof Uint8Array) || t.data.length !== 8) return null
    const v = new DataView(t.data.buffer, t.data.byteOffset, 8)
    const ns = v.getUint32(4)
    return ns < 1_000_000_000 ? String(BigInt(v.getUint32(0)) * 1_000_000_000n + BigInt(ns)) : null
  }
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) return null
  if (Number.isInteger(t)) return String(BigInt(t) * 1_000_000_000n)
  // A float: seconds with a fraction; microseconds are all a double keeps of today's times.
  return String(BigInt(Math.round(t * 1e6)) * 1000n)
}

/** Record values as JSON-able text: bytes → UTF-8, EventTime → ns, nesting cut at MAX_DEPTH. */
function plain (v: unknown, depth: number, cut: { n: number }): unknown {
  if (v instanceof Uint8Array) return text(v)
  if (v === null || typeof v !== 'object') return v
  if (depth >= MAX_DEPTH) { cut.n++; return undefined }
  if (v instanceof ExtData) return eventTimeNs(v) ?? `ext:${v.type}`
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1, cut))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) { const p = plain(x, depth + 1, cut); if (p !== undefined) out[k] = p }
  return out
}

function isMap (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof ExtData) && !(v instanceof Date)
}

function pushEvent (e: unknown, out: ForwardFrame): void {
  if (!Array.isArray(e) || e.length < 2) { out.badEvents++; return }
  // Fluent Bit 2.1+: [[time, metadata], record]
  const time = Array.isArray(e[0]) ? e[0][0] : e[0]
  const ns = eventTimeNs(time)
  if (ns === null || !isMap(e[1])) { out.badEvents++; return }
  const cut = { n: 0 }
  out.events.push({ ns, record: plain(e[1], 0, cut) as Record<string, unknown> })
  out.cutFields += cut.n
}

function option (v: unknown): { chunk?: string, compressed?: string } {
  if (v === undefined || v === null) return {}
  if (!isMap(v)) throw new FrameError('malformed_batch', 'the option is not a map')
  const out: { chunk?: string, compressed?: string } = {}
  if (v.chunk instanceof Uint8Array) out.chunk = text(v.chunk)
  else if (v.chunk !== undefined) throw new FrameError('malformed_batch', 'option.chunk is not a string')
  if (v.compressed instanceof Uint8Array) out.compressed = text(v.compressed)
  return out
}

export interface FrameLimits {
  maxChunkBytes: number
  inflateBudget: InflateBudget
}

/** A decoded frame → ForwardFrame; throws FrameError. */
export async function readFrame (msg: unknown, limits: FrameLimits): Promise<ForwardFrame> {
  if (!Array.isArray(msg) || msg.length < 2 || msg.length > 4) throw new FrameError('malformed_batch', 'a frame is [tag, time, record, option?], [tag, entries, option?] or [tag, packed entries, option?]')
  const [rawTag, body] = msg as unknown[]
  if (!(rawTag instanceof Uint8Array) || rawTag.length === 0 || rawTag.length > MAX_TAG_BYTES) throw new FrameError('malformed_batch', `the tag is not a string of 1 to ${MAX_TAG_BYTES} bytes`)
  const tag = text(rawTag)
  const out = (mode: ForwardFrame['mode'], opt: { chunk?: string }): ForwardFrame => ({ mode, tag, events: [], ...(opt.chunk !== undefined ? { chunk: opt.chunk } : {}), badEvents: 0, cutFields: 0 })
  if (typeof body === 'number' || body instanceof ExtData) {
    const f = out('Message', option(msg[3]))
    pushEvent([body, msg[2]], f)
    return f
  }
  if (msg.length > 3) throw new FrameError('malformed_batch', 'a Forward or PackedForward frame has 2 or 3 elements')
  const opt = option(msg[2])
  if (Array.isArray(body)) {
    const f = out('Forward', opt)
    for (const e of body) pushEvent(e, f)
    return f
  }
  if (!(body instanceof Uint8Array)) throw new FrameError('malformed_batch', 'the second element is neither a time, an array of entries nor packed entries')
  if (opt.compressed !== undefined && opt.compressed !== 'gzip' && opt.compressed !== 'text') throw new FrameError('bad_encoding', `option.compressed ${opt.compressed} (gzip or text)`)
  const gzip = opt.compressed === 'gzip'
  const f = out(gzip ? 'CompressedPackedForward' : 'PackedForward', opt)
  let packed = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  let release = () => {}
  if (gzip) {
    try {
      ({ body: packed, release } = await inflate(packed, limits.maxChunkBytes, limits.inflateBudget))
    } catch (err) {
      if (!(err instanceof InflateError)) throw err
      const reason = rejectReason(err.failure)
      throw new FrameError(reason === 'bad_encoding' ? 'malformed_batch' : reason, err.message)
    }
  }
  try {
    for (const e of frameDecoder(limits.maxChunkBytes).decodeMulti(packed)) pushEvent(e, f)
  } catch (err) {
    throw new FrameError('malformed_batch', `packed entries: ${(err as Error).message}`)
  } finally {
    release()
  }
  return f
}
