import { DaytwoError } from './errors.js'
import type { Entry, StreamTags } from './record.js'

// The bundle framing of `GET /api/v1/logs`, asked for with `Accept: FILE_FRAMES` (never for a
// follow): the lines of each bundle file as the bytes the file will hold, so the CLI copies
// them into the tar stream with no JSON parse per line. A frame is one JSON header line, then
// exactly `bytes` bytes of lines, each ending in "\n":
//   {"stream":{…tags},"lines":1000,"bytes":131072}\n<131072 bytes>
// and the response ends with a totals frame, so a response cut short is never mistaken for
// a complete one:
//   {"end":{"lines":1620000,"bytes":210919754}}\n
// Frames of one stream arrive in offset order; streams in bundle order (see logs-api.ts).
// Unlike the forwarder's frames (core/frames.ts), which keep each entry's time and offset,
// a file frame carries only what a bundle keeps: the lines' bytes.

export const FILE_FRAMES = 'application/vnd.daytwo.file-frames.v1'

/** Largest header and payload a reader accepts: a guard against a garbled stream, not a limit the server meets. */
const MAX_HEADER = 64 * 1024
const MAX_PAYLOAD = 256 * 1024 * 1024

/** A frame, header and payload, as one string; `tagsJson` is the stream's cached JSON.stringify(tags). */
export function encodeFileFrame (tagsJson: string, entries: Entry[]): { text: string, bytes: number } {
  let lines = ''
  for (let i = 0; i < entries.length; i++) lines += entries[i]![2] + '\n'
  const bytes = Buffer.byteLength(lines)
  return { text: '{"stream":' + tagsJson + ',"lines":' + entries.length + ',"bytes":' + bytes + '}\n' + lines, bytes }
}

export function encodeEndFrame (lines: number, bytes: number): string {
  return '{"end":{"lines":' + lines + ',"bytes":' + bytes + '}}\n'
}

export type FileFrameEvent =
  /** A frame starts: `bytes` bytes of `lines` lines of this stream follow as `data` events. */
  | { kind: 'frame', stream: StreamTags, lines: number, bytes: number }
  /** Part of the current frame's payload (a view into the received chunk: copy it or use it before the next event). */
  | { kind: 'data', chunk: Buffer }

function bad (why: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', `the query service's response: ${why}`)
}

const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

function parseHeader (text: string): { stream: StreamTags, lines: number, bytes: number } | { end: { lines: number, bytes: number } } {
  let h: unknown
  try {
    h = JSON.parse(text)
  } catch {
    throw bad(`a frame header is not JSON: ${text.slice(0, 120)}`)
  }
  const o = (typeof h === 'object' && h !== null ? h : {}) as Record<string, unknown>
  if (o.end !== undefined) {
    const e = o.end as Record<string, unknown>
    if (typeof e !== 'object' || e === null || !count(e.lines) || !count(e.bytes)) throw bad('the end frame must carry lines and bytes')
    return { end: { lines: e.lines as number, bytes: e.bytes as number } }
  }
  const s = o.stream as Record<string, unknown> | undefined
  if (typeof s !== 'object' || s === null || !['job', 'index', 'process', 'path'].every((k) => typeof s[k] === 'string')) throw bad('a frame header must name its stream (job, index, process, path)')
  if (!count(o.lines) || !count(o.bytes) || (o.bytes as number) > MAX_PAYLOAD) throw bad('a frame header must carry lines and bytes')
  return { stream: s as unknown as StreamTags, lines: o.lines as number, bytes: o.bytes as number }
}

/**
 * The frames of a FILE_FRAMES response body, as a header event then its payload in `data`
 * views of the chunks received (no copy, no parse). Throws DAYTWO_ERR_BAD_BATCH when the body
 * is garbled, ends inside a frame or without its end frame, or when the totals disagree.
 */
export async function * fileFrames (body: AsyncIterable<Buffer>): AsyncGenerator<FileFrameEvent> {
  const it = body[Symbol.asyncIterator]()
  const next = async () => {
    try {
      return await it.next()
    } catch (err) {
      throw bad(`the connection was cut (${(err as Error).message})`)
    }
  }
  let remaining = 0 // payload bytes of the current frame still to come
  let head: Buffer[] = [] // a header split across chunks
  let headBytes = 0
  let lines = 0
  let bytes = 0
  let end: { lines: number, bytes: number } | null = null
  try {
    for (let r = await next(); r.done !== true; r = await next()) {
      const chunk = r.value
      let pos = 0
      while (pos < chunk.length) {
        if (end !== null) throw bad('bytes after the end frame')
        if (remaining > 0) {
          const n = Math.min(remaining, chunk.length - pos)
          yield { kind: 'data', chunk: chunk.subarray(pos, pos + n) }
          remaining -= n
          pos += n
          continue
        }
        const nl = chunk.indexOf(10, pos)
        if (nl === -1) {
          head.push(chunk.subarray(pos))
          headBytes += chunk.length - pos
          if (headBytes > MAX_HEADER) throw bad(`a frame header is longer than ${MAX_HEADER} bytes`)
          break
        }
        let text: string
        if (head.length > 0) {
          head.push(chunk.subarray(pos, nl))
          text = Buffer.concat(head).toString('utf8')
          head = []
          headBytes = 0
        } else {
          text = chunk.toString('utf8', pos, nl)
        }
        pos = nl + 1
        const h = parseHeader(text)
        if ('end' in h) {
          end = h.end
          continue
        }
        lines += h.lines
        bytes += h.bytes
        remaining = h.bytes
        yield { kind: 'frame', stream: h.stream, lines: h.lines, bytes: h.bytes }
      }
    }
  } finally {
    // Stopped early (an error here or in the consumer): release the body.
    await it.return?.()
  }
  if (remaining > 0 || headBytes > 0) throw bad('it ended in the middle of a frame (the connection was cut)')
  if (end === null) throw bad('it ended without its end frame (the connection was cut)')
  if (end.lines !== lines || end.bytes !== bytes) throw bad(`it announced ${end.lines} lines (${end.bytes} bytes) and sent ${lines} (${bytes} bytes)`)
}
