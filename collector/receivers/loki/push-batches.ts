import { streamId } from '../../../core/ids.js'
import type { Entry, StreamBatch } from '../../../core/record.js'
import { identityFromLabels, type IdentityRules } from '../identity-rules.js'
import { recordKey } from '../record-key.js'
import type { PushStream } from './push-json.js'

// A Loki line's offset slot holds its record key (collector/receivers/record-key.ts): the
// store keeps a stream's lines in the order they came, out-of-order times included, and a
// retried line once.

/** Decoded push streams → daytwo batches: identity from labels, one stream id per label set. */
export function pushBatches (streams: PushStream[], rules?: IdentityRules): StreamBatch[] {
  return streams.map((s) => {
    const id = identityFromLabels(s.labels, rules)
    const sorted = Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]!}`)
    const entries: Entry[] = s.values.map(([ts, line, meta]) => meta ? [ts, recordKey(ts, line), line, '', meta] : [ts, recordKey(ts, line), line, ''])
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
      entries
    }
  })
}
