import { DaytwoError } from './errors.js'
import { isSource, MAX_ATTRIBUTES, SOURCES, type Entry, type StreamBatch, type StreamTags } from './record.js'

// The wire format between roles (forwarder → collector, query → CLI): NDJSON, one line per
// stream group: {"stream":{…tags},"entries":[["<ts ns>",<offset>,"<message>","<stdio>"],…]}.
// Tags travel once per group, not once per line (docs/architecture.md "Delivery").

export const NDJSON = 'application/x-ndjson'

/** The constant head of a stream's group; callers cache it per stream. */
export function groupPrefix (tags: StreamTags): string {
  return '{"stream":' + JSON.stringify(tags) + ',"entries":['
}

export function encodeEntry (e: Entry): string {
  const head = '["' + e[0] + '",' + e[1] + ',' + JSON.stringify(e[2]) + ',"' + e[3] + '"'
  return e[4] === undefined ? head + ']' : head + ',' + JSON.stringify(e[4]) + ']'
}

/** One NDJSON line for a group, given its cached prefix. */
export function encodeGroup (prefix: string, entries: Entry[]): string {
  let s = prefix
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) s += ','
    s += encodeEntry(entries[i]!)
  }
  return s + ']}\n'
}

export function encodeBatch (groups: StreamBatch[]): string {
  let s = ''
  for (const g of groups) s += encodeGroup(groupPrefix(g.stream), g.entries)
  return s
}

const TAG_STRINGS = ['id', 'node', 'deployment', 'job', 'index', 'process', 'path'] as const
const OPTIONAL_STRINGS = ['namespace', 'pod', 'container', 'org', 'space', 'app'] as const
const TS_RE = /^-?\d{1,20}$/
/** The stdio values a store keeps (the Loki label `stream`); "" is none ("-" in frames). */
const STDIO_RE = /^(?:stdout|stderr)$/
const MAX_TAG = 1024
/** Signed 64-bit nanoseconds' bounds as digits: equal-length digit strings compare like numbers. */
const MAX_NS_DIGITS = '9223372036854775807'
const MIN_NS_DIGITS = '9223372036854775808'
const MAX_NS = (1n << 63n) - 1n

function outsideInt64 (ts: string): boolean {
  const neg = ts.charCodeAt(0) === 0x2d
  const digits = neg ? ts.length - 1 : ts.length
  if (digits < 19) return false
  if (digits > 19) { const n = BigInt(ts); return n > MAX_NS || n < -MAX_NS - 1n } // leading zeros
  return neg ? ts.slice(1) > MIN_NS_DIGITS : ts > MAX_NS_DIGITS
}

/** `line`: an NDJSON line number, or where else the data came from (core/frames.ts). */
function bad (line: number | string, why: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', `${typeof line === 'number' ? `line ${line}` : line}: ${why}`)
}

export function checkTags (t: unknown, line: number | string): StreamTags {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw bad(line, '"stream" must be an object')
  const o = t as Record<string, unknown>
  for (const k of TAG_STRINGS) {
    const v = o[k]
    if (typeof v !== 'string') throw bad(line, `stream.${k} must be a string`)
    if (v.length > MAX_TAG) throw bad(line, `stream.${k} is longer than ${MAX_TAG}`)
  }
  if ((o.id as string).length === 0) throw bad(line, 'stream.id must not be empty')
  if (!isSource(o.source)) throw bad(line, `stream.source must be one of ${SOURCES.join(', ')}`)
  for (const k of OPTIONAL_STRINGS) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw bad(line, `stream.${k} must be a string`)
  }
  if (o.labels !== undefined) {
    if (typeof o.labels !== 'object' || o.labels === null || Array.isArray(o.labels)) throw bad(line, 'stream.labels must be an object')
    for (const v of Object.values(o.labels)) if (typeof v !== 'string') throw bad(line, 'stream.labels values must be strings')
  }
  return o as unknown as StreamTags
}

export function checkEntries (es: unknown, line: number | string): Entry[] {
  if (!Array.isArray(es)) throw bad(line, '"entries" must be an array')
  let last = -1
  for (let i = 0; i < es.length; i++) {
    const e = es[i] as unknown[]
    if (!Array.isArray(e) || (e.length !== 4 && e.length !== 5)) throw bad(line, `entries[${i}] must be [ts, offset, message, stdio] or [ts, offset, message, stdio, attributes]`)
    if (typeof e[0] !== 'string' || !TS_RE.test(e[0])) throw bad(line, `entries[${i}][0] must be Unix nanoseconds as a decimal string`)
    // 19 digits and more may leave signed 64 bits, which no store can hold: refused here, as a
    // 400, rather than failing the store write with a 503 the forwarder would retry forever.
    if (e[0].length >= 19 && outsideInt64(e[0])) throw bad(line, `entries[${i}][0] is outside signed 64-bit nanoseconds`)
    const off = e[1]
    if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) throw bad(line, `entries[${i}][1] must be a non-negative integer offset`)
    if (off <= last) throw bad(line, `entries[${i}][1]: offsets must increase within a group`)
    last = off
    if (typeof e[2] !== 'string') throw bad(line, `entries[${i}][2] must be a string`)
    if (typeof e[3] !== 'string' || !(e[3] === '' || STDIO_RE.test(e[3]))) throw bad(line, `entries[${i}][3] must be the stdio stream: "stdout", "stderr", or "" for none`)
    if (e.length === 5) checkAttributes(e[4], line, i)
  }
  return es as Entry[]
}

export function checkAttributes (a: unknown, line: number | string, i: number): void {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw bad(line, `entries[${i}][4] must be an object of strings`)
  const keys = Object.keys(a)
  if (keys.length > MAX_ATTRIBUTES) throw bad(line, `entries[${i}][4] has more than ${MAX_ATTRIBUTES} attributes`)
  for (const k of keys) {
    const v = (a as Record<string, unknown>)[k]
    if (typeof v !== 'string') throw bad(line, `entries[${i}][4].${k} must be a string`)
    if (k.length > MAX_TAG || v.length > MAX_TAG * 8) throw bad(line, `entries[${i}][4].${k} is too long`)
  }
}

/** Parse and validate a whole NDJSON body. Throws DAYTWO_ERR_BAD_BATCH naming the line. */
export function decodeBatch (body: string): StreamBatch[] {
  const out: StreamBatch[] = []
  let start = 0
  let lineNo = 0
  while (start < body.length) {
    let nl = body.indexOf('\n', start)
    if (nl === -1) nl = body.length
    lineNo++
    const text = body.slice(start, nl)
    start = nl + 1
    if (text.trim().length === 0) continue
    out.push(decodeGroup(text, lineNo))
  }
  return out
}

export function decodeGroup (text: string, lineNo = 1): StreamBatch {
  let obj: unknown
  try {
    obj = JSON.parse(text)
  } catch (err) {
    throw bad(lineNo, `not JSON (${(err as Error).message})`)
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad(lineNo, 'each line must be an object')
  const o = obj as Record<string, unknown>
  return { stream: checkTags(o.stream, lineNo), entries: checkEntries(o.entries, lineNo) }
}
