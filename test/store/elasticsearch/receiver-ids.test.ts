import assert from 'node:assert/strict'
import { test } from 'node:test'
import { recordKey } from '../../../collector/receivers/record-key.js'
import type { Entry } from '../../../core/record.js'
import { batch, fakeAndStore, sentDocs } from './setup.js'

// Issue 17: a receiver's line (here a Loki stream) is named in the search engine by (stream,
// time, record key), core/record.ts entryId: a retried line is refused with 409 and not stored
// twice, out-of-order lines and two lines of one millisecond are all stored.

test('receiver lines: _id is (stream, time, key); a retry is 409, out-of-order and same-ms lines are stored', async (t) => {
  const { es, store } = await fakeAndStore(t)
  const T = 1_795_428_000_000_000_000n
  const line = (ns: bigint, text: string): Entry => [String(ns), recordKey(String(ns), text), text, '']
  const lines = [line(T + 5_000_000n, 'newest'), line(T, 'older'), line(T + 1n, 'same ms a'), line(T + 2n, 'same ms b')]
  const b = batch('l1', lines)
  b.stream.source = 'loki'
  const first = await store.write([b])
  assert.equal(first.newLines, 4)
  const ids = sentDocs(es, 'logs-daytwo-default').map((d) => d.id)
  assert.deepEqual(ids, lines.map((e) => `l1:${e[0]}:${e[1]}`))
  const again = await store.write([b])
  assert.equal(again.newLines, 0, 'the retry is refused as already stored')
  assert.equal(store.stats.existing, 4)
})
