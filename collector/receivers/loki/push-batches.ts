import { createHash } from 'node:crypto'
import { streamId } from '../../../core/ids.js'
import { OFFSET, type Attributes, type Entry, type StreamBatch } from '../../../core/record.js'
import { identityFromLabels, type IdentityRules } from '../identity-rules.js'
import type { PushStream } from './push-json.js'

// Offsets: Loki lines have no byte offset, and a client retries a whole request, so a line's
// offset must follow from the line alone: (its millisecond) × 256 + (8 bits of a hash of its
// nanosecond time and text). Offsets then order a stream's lines by time, stay below 2^50
// until the year 2109, and a retried line gets the offset it had, so the store sees a
// duplicate. Two lines with the same time and text are one line, as in Loki itself; two
// different lines of one stream in the same millisecond share an offset with odds 1/256 and
// the second is then taken for a duplicate (docs/receivers.md "Loki push": where duplicates remain).
const BUCKETS = 256n

export function lineOffset (ns: string, line: string): number {
  const h = createHash('sha1').update(ns).update('\0').update(line).digest()
  return Number((BigInt(ns) / 1_000_000n) * BUCKETS + BigInt(h[0]!))
}

/**
 * A receiver stream's lines as entries with their offsets: the one place where the Loki and
 * OTLP receivers (collector/receivers/otlp/) make offsets, so a change of how receiver lines
 * are told apart is made here alone.
 */
export function lineEntries (values: Array<[ts: string, line: string, attrs: Attributes | undefined]>): Entry[] {
  const all: Entry[] = values.map(([ts, line, meta]) => meta ? [ts, lineOffset(ts, line), line, '', meta] : [ts, lineOffset(ts, line), line, ''])
  // A group's offsets must increase (core/wire.ts, the store's high-water mark): sort, and
  // keep the first of lines that share an offset (the same line twice in one request).
  all.sort((a, b) => a[OFFSET] - b[OFFSET])
  return all.filter((e, i) => i === 0 || e[OFFSET] !== all[i - 1]![OFFSET])
}

/** Decoded push streams → daytwo batches: identity from labels, one stream id (and batch) per label set. */
export function pushBatches (streams: PushStream[], rules?: IdentityRules): StreamBatch[] {
  // A request may name one label set in several streams: one batch each would write the same
  // stream twice in one store write.
  const byKey = new Map<string, PushStream>()
  for (const s of streams) {
    const key = JSON.stringify(Object.keys(s.labels).sort().map((k) => [k, s.labels[k]]))
    const seen = byKey.get(key)
    if (seen === undefined) byKey.set(key, { labels: s.labels, values: [...s.values] })
    else seen.values.push(...s.values)
  }
  return [...byKey.values()].map((s) => {
    const id = identityFromLabels(s.labels, rules)
    const sorted = Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]!}`)
    return {
      stream: {
        id: streamId('loki', ...sorted),
        source: 'loki',
        node: '',
        deployment: id.deployment,
        job: id.job,
        index: id.index,
        process: id.process,
        path: 'loki',
        ...(Object.keys(id.labels).length > 0 ? { labels: id.labels } : {})
      },
      entries: lineEntries(s.values)
    }
  })
}
