import { createHash } from 'node:crypto'

// What a receiver puts in a line's offset slot (core/record.ts isReceiverSource): not a
// position, which Loki push, OTLP, _bulk and Fluent forward lines do not have, but a key that
// follows from the line alone, so that a sender's retry of it gets the same key and the store
// keeps it once (store/embedded/record-keys.ts; in Elasticsearch the document `_id`). The
// store orders a stream's lines by arrival, not by key.
//   - by default the line's identity is its time and text, as Loki's (two lines of a stream
//     with the same nanosecond and text are one line there too);
//   - a sender's own id (a _bulk document's `_id`) is the identity when there is one: a
//     document re-sent under its id is the same document, as in Elasticsearch.
// 48 bits, below the collector's offset bound (2^50); the store compares the time as well, so
// two different lines are taken for one only if they share a nanosecond and 48 bits of hash.

/** The record key of a line of a receiver's stream. */
export function recordKey (ns: string, line: string, senderId?: string): number {
  const h = createHash('sha1')
  if (senderId !== undefined) h.update('id\0').update(senderId)
  else h.update('line\0').update(ns).update('\0').update(line)
  return h.digest().readUIntBE(0, 6)
}
