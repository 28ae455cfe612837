import { streamId } from '../../../core/ids.js'
import type { Attributes, Entry, StreamBatch } from '../../../core/record.js'
import { identityFromLabels, type IdentityRules } from '../identity-rules.js'
import { recordKey } from '../record-key.js'
import type { PushStream } from './push-json.js'

// A Loki line's offset slot holds its record key (collector/receivers/record-key.ts): the
// store keeps a stream's lines in the order they came, out-of-order times included, and a
// retried line once.

/**
 * A receiver stream's lines as entries with their offsets: the one place where the Loki and
 * OTLP receivers (collector/receivers/otlp/) make offsets, so a change of how receiver lines
 * are told apart is made here alone.
 */
export function lineEntries (values: Array<[ts: string, line: string, attrs: Attributes | undefined]>): Entry[] {
  return values.map(([ts, line, meta]) => meta ? [ts, recordKey(ts, line), line, '', meta] : [ts, recordKey(ts, line), line, ''])
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
