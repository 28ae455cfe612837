import { isSource } from '../../core/record.js'
import { selectorEquals, type StreamInfo, type StreamSelector } from '../log-store.js'

// streams(): a search of the streams index (see rollups.ts), oldest first, paged with
// search_after on (first_seen, id) so any number of streams is read in pages.

export function streamsFilter (sel: StreamSelector): unknown[] | null {
  const filter: unknown[] = []
  for (const [field, v] of selectorEquals(sel)) filter.push({ term: { [field]: v } })
  if (sel.streamIds) {
    if (sel.streamIds.length === 0) return null
    filter.push({ terms: { id: sel.streamIds } })
  }
  return filter
}

export function streamsSearch (filter: unknown[], size: number, after: unknown[] | undefined): Record<string, unknown> {
  return {
    size,
    query: { bool: { filter } },
    sort: [{ first_seen: 'asc' }, { id: 'asc' }],
    ...(after ? { search_after: after } : {})
  }
}

export function toStreamInfo (src: Record<string, unknown>): StreamInfo {
  const s = (k: string) => (typeof src[k] === 'string' ? src[k] : '') as string
  const info: StreamInfo = {
    id: s('id'),
    source: isSource(src.source) ? src.source : 'file',
    node: s('node'),
    deployment: s('deployment'),
    job: s('job'),
    index: s('index'),
    process: s('process'),
    path: s('path'),
    firstSeenNs: s('first_seen_ns'),
    lastTsNs: s('last_ts_ns'),
    lines: Number(src.lines ?? 0),
    bytes: Number(src.bytes ?? 0)
  }
  for (const k of ['namespace', 'pod', 'container', 'org', 'space', 'app'] as const) {
    if (typeof src[k] === 'string' && src[k] !== '') info[k] = src[k]
  }
  if (src.labels && typeof src.labels === 'object') info.labels = src.labels as Record<string, string>
  return info
}
