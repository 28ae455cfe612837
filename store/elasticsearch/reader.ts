import type { Entry } from '../../core/record.js'
import type { ReadRequest, StreamInfo } from '../log-store.js'
import { isoToNs, nsToIso } from './timestamp.js'

// read(): one point in time over the data stream for the whole read (a consistent view
// while pages are fetched), one stream after the other in streams() order, each sorted by
// log.offset and paged with search_after, so memory stays at one page whatever the range.

export const READ_FIELDS = ['@timestamp', 'log.offset', 'message', 'stream', 'log.syslog.facility.name', 'log.syslog.severity.name', 'log.syslog.msgid', 'log.syslog.structured_data']

export function readQuery (stream: StreamInfo, req: ReadRequest): Record<string, unknown> {
  const filter: unknown[] = [{ term: { 'daytwo.stream_id': stream.id } }]
  const after = req.after?.get(stream.id)
  if (after !== undefined) filter.push({ range: { 'log.offset': { gt: after } } })
  if (req.fromNs !== undefined || req.toNs !== undefined) {
    const range: Record<string, string> = {}
    if (req.fromNs !== undefined) range.gte = nsToIso(clampNs(req.fromNs))
    if (req.toNs !== undefined) range.lte = nsToIso(clampNs(req.toNs))
    filter.push({ range: { '@timestamp': { ...range, format: 'strict_date_optional_time_nanos' } } })
  }
  return { bool: { filter } }
}

/** date_nanos covers 1970 to 2262: clamp open-ended bounds into it. */
function clampNs (ns: bigint): string {
  const max = 9223372036854775807n
  return (ns < 0n ? 0n : ns > max ? max : ns).toString()
}

interface Hit { _source?: Record<string, unknown>, sort?: unknown[] }

export function hitToEntry (h: Hit): Entry {
  const src = h._source ?? {}
  const log = src.log as { offset?: number } | undefined
  const offset = Number(src['log.offset'] ?? log?.offset ?? 0)
  const entry: Entry = [isoToNs(String(src['@timestamp'])), offset, String(src.message ?? ''), typeof src.stream === 'string' ? src.stream : '']
  const attrs = attributesOf(src)
  if (attrs !== undefined) entry.push(attrs)
  return entry
}

/** The per-line attributes encoder.ts wrote as `log.syslog.*` fields, back in Entry form. */
function attributesOf (src: Record<string, unknown>): Record<string, string> | undefined {
  let a: Record<string, string> | undefined
  const put = (k: string, v: unknown) => { if (typeof v === 'string') (a ??= {})[k] = v }
  put('facility', src['log.syslog.facility.name'])
  put('severity', src['log.syslog.severity.name'])
  put('msgid', src['log.syslog.msgid'])
  const sd = src['log.syslog.structured_data']
  if (typeof sd === 'object' && sd !== null) for (const [k, v] of Object.entries(sd)) put('sd.' + k, v)
  return a
}
