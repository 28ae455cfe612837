import type { Entry, StreamTags } from '../../core/record.js'
import { recordId } from '../../core/record.js'
import { ingestFields } from '../search-engine/fields.js'
import { nsToIso } from './timestamp.js'

// Records → bulk NDJSON, by concatenation onto a per-stream cached tail (no object and
// JSON.stringify per record on this hot path). Field names follow ECS where ECS has one; dotted keys in _source are what the
// index template maps (see templates.ts), and what reader.ts reads back.

/** The constant part of every document of a stream, after the per-line fields. */
export function streamTail (t: StreamTags): string {
  let s = '"log.file.path":' + JSON.stringify(t.path) +
    ',"host.name":' + JSON.stringify(t.node) +
    ',"daytwo.stream_id":' + JSON.stringify(t.id) +
    ',"daytwo.source":"' + t.source + '"' +
    ',"deployment":' + JSON.stringify(t.deployment) +
    ',"job":' + JSON.stringify(t.job) +
    ',"index":' + JSON.stringify(t.index) +
    ',"process":' + JSON.stringify(t.process)
  if (t.namespace !== undefined) s += ',"orchestrator.type":"kubernetes","kubernetes.namespace":' + JSON.stringify(t.namespace)
  if (t.pod !== undefined) s += ',"kubernetes.pod.name":' + JSON.stringify(t.pod)
  if (t.container !== undefined) s += ',"kubernetes.container.name":' + JSON.stringify(t.container)
  if (t.org) s += ',"organization.name":' + JSON.stringify(t.org)
  if (t.space) s += ',"space":' + JSON.stringify(t.space)
  if (t.app) s += ',"app":' + JSON.stringify(t.app)
  if (t.labels && Object.keys(t.labels).length > 0) s += ',"labels":' + JSON.stringify(t.labels)
  return s + '}\n'
}

/**
 * The action line and the document of one record: `create` with the record id, and the
 * fields computed at ingest for queries (level, bytes, time in ms; search-engine/fields.ts).
 */
export function encodeRecord (streamId: string, tail: string, e: Entry, bytes = Buffer.byteLength(e[2]), id = recordId(streamId, e[1])): string {
  let s = '{"create":{"_id":' + JSON.stringify(id) + '}}\n{"@timestamp":"' + nsToIso(e[0]) + '","message":' + JSON.stringify(e[2]) + ingestFields(e, bytes)
  if (e[3]) s += ',"stream":' + JSON.stringify(e[3])
  if (e[4] !== undefined) s += attributeFields(e[4])
  return s + ',"log.offset":' + e[1] + ',' + tail
}

/** Per-line attributes as ECS fields: `log.syslog.*`, structured data under `log.syslog.structured_data`. */
function attributeFields (a: Record<string, string>): string {
  let s = ''
  let sd: Record<string, string> | null = null
  for (const [k, v] of Object.entries(a)) {
    if (k === 'facility') s += ',"log.syslog.facility.name":' + JSON.stringify(v)
    else if (k === 'severity') s += ',"log.syslog.severity.name":' + JSON.stringify(v)
    else if (k === 'msgid') s += ',"log.syslog.msgid":' + JSON.stringify(v)
    else (sd ??= {})[k.startsWith('sd.') ? k.slice(3) : k] = v
  }
  if (sd !== null) s += ',"log.syslog.structured_data":' + JSON.stringify(sd)
  return s
}

/**
 * The dead-letter document of a refused record: the original document as text (it did not
 * fit the mapping, so it must not be parsed again) and Elasticsearch's reason.
 */
/** The original document is kept up to this many characters (a record refused as too large must still fit). */
export const DEAD_LETTER_ORIGINAL_MAX = 32768

export function encodeDeadLetter (id: string, streamId: string, original: string, status: number, error: unknown, nowIso: string): string {
  const err = (error ?? {}) as { type?: unknown, reason?: unknown, caused_by?: { type?: unknown, reason?: unknown } }
  const reason = [err.reason, err.caused_by?.reason].filter((r) => typeof r === 'string').join(': ')
  return '{"create":{"_id":' + JSON.stringify(id) + '}}\n' + JSON.stringify({
    '@timestamp': nowIso,
    'daytwo.record_id': id,
    'daytwo.stream_id': streamId,
    'error.type': typeof err.type === 'string' ? err.type : 'unknown',
    'error.message': reason || JSON.stringify(error ?? null),
    'http.response.status_code': status,
    'event.original': original.length > DEAD_LETTER_ORIGINAL_MAX ? original.slice(0, DEAD_LETTER_ORIGINAL_MAX) : original,
    ...(original.length > DEAD_LETTER_ORIGINAL_MAX ? { 'daytwo.original_truncated': true } : {})
  }) + '\n'
}
