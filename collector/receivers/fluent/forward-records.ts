import { streamId } from '../../../core/ids.js'
import { syslogSeverityLevel } from '../../../core/level.js'
import { MAX_ATTRIBUTES, type Entry, type StreamBatch, type StreamTags } from '../../../core/record.js'
import { ecsRecord } from '../bulk/ecs-record.js'
import { recordKey } from '../record-key.js'
import type { ForwardFrame } from './forward-frames.js'

// A forward frame's events → daytwo stream batches.
//  - Record fields are read as the _bulk receiver reads a document (collector/receivers/bulk/
//    ecs-record.ts): the message is `log` or `message`, Fluent Bit's kubernetes filter fields
//    (kubernetes.namespace_name, pod_name, container_name, host, labels.app) name the
//    identity, `stream` is stdout/stderr, every other field is a per-line attribute (bounded).
//  - A record without them takes its identity from the tag: `bosh.<deployment>.<job>.<index>[.<process>]`,
//    or else deployment collector.fluent.defaultDeployment and job = the tag.
//  - A record with neither `log` nor `message` is kept whole: its JSON is the line.
//  - A `level` (or `log.level`, `loglevel`, `lvl`) field that names a level becomes the line's
//    `severity` attribute, which the store reads the level from (core/level.ts); otherwise the
//    level is found in the message as for every line.
//  - Offsets: forward has chunk ids, no offsets (and a re-sent chunk may carry a new id); a
//    line's offset slot holds its record key (collector/receivers/record-key.ts: its time and
//    text), so a chunk the sender re-sends after a lost ack is recognised line by line, and the
//    store keeps the lines in the order they came.

const LEVEL_FIELDS = ['level', 'log.level', 'loglevel', 'lvl']

export interface ForwardBatches {
  batches: StreamBatch[]
  /** Record fields not kept as attributes (over MAX_ATTRIBUTES or too long). */
  droppedFields: number
}

/** Identity from a tag: a BOSH-style tag names all four parts, any other is the job. */
export function tagIdentity (tag: string, defaultDeployment: string): Pick<StreamTags, 'deployment' | 'job' | 'index' | 'process'> {
  const parts = tag.split('.')
  if (parts[0] === 'bosh' && parts.length >= 4 && parts.slice(1, 4).every((p) => p !== '')) {
    return { deployment: parts[1]!, job: parts[2]!, index: parts[3]!, process: parts.slice(4).join('.') }
  }
  return { deployment: defaultDeployment, job: tag, index: '', process: '' }
}

export function forwardBatches (frame: ForwardFrame, defaultDeployment: string): ForwardBatches {
  const groups = new Map<string, StreamBatch>()
  const fromTag = tagIdentity(frame.tag, defaultDeployment)
  let droppedFields = 0
  for (const ev of frame.events) {
    const rec = ecsRecord(ev.record, frame.tag)
    let tags: Omit<StreamTags, 'id'>
    let message: string
    let stdio = ''
    let attrs
    if (typeof rec === 'string') {
      tags = { source: 'fluent', node: '', ...fromTag, path: frame.tag }
      message = JSON.stringify(ev.record)
    } else {
      // Kubernetes records name their identity; others take it from the tag.
      tags = { ...rec.tags, source: 'fluent', path: frame.tag, ...(rec.tags.namespace === undefined ? fromTag : {}) }
      message = rec.message
      stdio = rec.stdio
      attrs = rec.attrs
      droppedFields += rec.droppedFields
      if (attrs !== undefined && attrs.severity === undefined && Object.keys(attrs).length < MAX_ATTRIBUTES) {
        const level = LEVEL_FIELDS.map((k) => attrs![k]).find((v) => v !== undefined && syslogSeverityLevel(v) !== 'unknown')
        if (level !== undefined) attrs.severity = level
      }
    }
    const id = streamId('fluent', frame.tag, tags.node, tags.deployment, tags.job, tags.index, tags.process)
    let g = groups.get(id)
    if (!g) { g = { stream: { id, ...tags }, entries: [] }; groups.set(id, g) }
    const e: Entry = [ev.ns, recordKey(ev.ns, message), message, stdio]
    if (attrs !== undefined) e.push(attrs)
    g.entries.push(e)
  }
  return { batches: [...groups.values()], droppedFields }
}
