import { streamId } from '../../../core/ids.js'
import type { Entry, StreamBatch } from '../../../core/record.js'
import { recordKey } from '../record-key.js'
import { ecsRecord } from './ecs-record.js'

// An Elasticsearch _bulk body (NDJSON: an action line, then for create/index a document line)
// → stream batches, and one result slot per item in Elasticsearch's shape, so that a sender
// retries only the items that failed.
//
// Each document's offset slot holds its record key (collector/receivers/record-key.ts): its
// `_id` when the sender gave one, else its time and message. The store keeps a stream's
// documents in the order they came and a retried one once — unless it has neither `_id` nor
// `@timestamp`: its time is then the time it arrived, which a retry does not share
// (docs/receivers.md "Delivery guarantees").

export interface BulkItem {
  action: string
  index: string
  id?: string
  status: number
  error?: { type: string, reason: string }
}

export interface ParsedBulk {
  batches: StreamBatch[]
  items: BulkItem[]
  /** Attribute fields not kept (over MAX_ATTRIBUTES or MAX_ATTRIBUTE_BYTES). */
  droppedFields: number
}

function fail (action: string, index: string, id: string | undefined, type: string, reason: string): BulkItem {
  return { action, index, ...(id !== undefined ? { id } : {}), status: 400, error: { type, reason } }
}

export function parseBulk (body: Buffer, pathIndex: string | undefined, receivedNs: string): ParsedBulk {
  const lines = body.toString('utf8').split('\n')
  const items: BulkItem[] = []
  const groups = new Map<string, StreamBatch>()
  let droppedFields = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    let action: unknown
    try { action = JSON.parse(line) } catch (err) {
      // Without its action we cannot tell whether a document line follows: the rest is not read.
      items.push(fail('index', pathIndex ?? '', undefined, 'parse_exception', `action line ${i + 1}: ${(err as Error).message}`))
      break
    }
    const kind = action !== null && typeof action === 'object' ? Object.keys(action)[0] : undefined
    const meta = (kind !== undefined ? (action as Record<string, unknown>)[kind] : undefined) as { _index?: unknown, _id?: unknown } | undefined
    const index = typeof meta?._index === 'string' ? meta._index : pathIndex ?? ''
    const id = typeof meta?._id === 'string' ? meta._id : typeof meta?._id === 'number' ? String(meta._id) : undefined
    if (kind === 'delete') { items.push(fail('delete', index, id, 'action_request_validation_exception', 'daytwo keeps logs: delete is not supported')); continue }
    if (kind !== 'create' && kind !== 'index') {
      // update (and anything unknown) carries a document line we skip.
      i++
      items.push(fail(kind ?? 'index', index, id, 'action_request_validation_exception', `unsupported action ${String(kind)}`))
      continue
    }
    if (index === '') { i++; items.push(fail(kind, index, id, 'action_request_validation_exception', 'index is missing')); continue }
    const docLine = lines[++i]
    if (docLine === undefined || docLine.trim() === '') { items.push(fail(kind, index, id, 'parse_exception', 'the document line is missing')); continue }
    let doc: unknown
    try { doc = JSON.parse(docLine) } catch (err) { items.push(fail(kind, index, id, 'mapper_parsing_exception', `failed to parse: ${(err as Error).message}`)); continue }
    const rec = ecsRecord(doc, index)
    if (typeof rec === 'string') { items.push(fail(kind, index, id, 'mapper_parsing_exception', rec)); continue }
    droppedFields += rec.droppedFields
    const t = rec.tags
    const claimed = streamId('elasticsearch', index, t.node, t.deployment, t.job, t.index, t.process)
    let g = groups.get(claimed)
    if (!g) { g = { stream: { id: claimed, ...t }, entries: [] }; groups.set(claimed, g) }
    const ts = rec.tsNs ?? receivedNs
    const entry: Entry = [ts, recordKey(ts, rec.message, id), rec.message, rec.stdio]
    if (rec.attrs) entry.push(rec.attrs)
    g.entries.push(entry)
    items.push({ action: kind, index, ...(id !== undefined ? { id } : {}), status: 201 })
  }
  return { batches: [...groups.values()], items, droppedFields }
}
