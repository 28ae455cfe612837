import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Entry, StreamTags } from '../../core/record.js'
import { recordKey } from '../../collector/receivers/record-key.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import type { KeyWindow } from '../../store/embedded/record-keys.js'

// Issue 17: a receiver's lines (Loki push here) carry record keys, not offsets
// (store/embedded/record-keys.ts). Lines older than the stream's newest are stored, lines of
// one millisecond keep the order they came in, a retry is stored once even after the store was
// closed and opened again, and what is kept for that is bounded.

const loki: StreamTags = { id: 'loki-s1', source: 'loki', node: '', deployment: 'shop', job: 'cart', index: 'p', process: 'c', path: 'loki' }
const T0 = 1_795_428_000_000_000_000n
const line = (ns: bigint, text: string): Entry => [String(ns), recordKey(String(ns), text), text, '']

async function readAll (store: EmbeddedStore): Promise<Entry[]> {
  const out: Entry[] = []
  for await (const c of store.read({ selector: {} })) out.push(...c.entries)
  return out
}

function withStore (t: { after: (fn: () => Promise<void>) => void }, keyWindow?: KeyWindow) {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-keys-'))
  let store: EmbeddedStore | null = null
  t.after(async () => { await store?.close(); rmSync(dir, { recursive: true, force: true }) })
  return {
    dir,
    open: async () => { store = await EmbeddedStore.open(dir, { blockLines: 3, ...(keyWindow ? { keyWindow } : {}) }); return store },
    close: async () => { await store?.close(); store = null }
  }
}

test('out-of-order lines are all stored, same-millisecond lines keep their arrival order, offsets are dense', async (t) => {
  const s = withStore(t)
  const store = await s.open()
  const newest = [line(T0 + 5_000_000n, 'newest')]
  assert.equal((await store.write([{ stream: loki, entries: newest }])).newLines, 1)
  // Older than the stream's newest (Loki takes these since 2.4), then ten lines in one ms
  // whose hashes would order them otherwise.
  const older = [line(T0 + 1_000_000n, 'older a'), line(T0, 'oldest')]
  const sameMs = Array.from({ length: 10 }, (_, i) => line(T0 + 9_000_000n + BigInt(i), `same ms ${i}`))
  const r = await store.write([{ stream: loki, entries: [...older, ...sameMs] }])
  assert.equal(r.newLines, 12)
  const got = await readAll(store)
  assert.deepEqual(got.map((e) => e[2]), ['newest', 'older a', 'oldest', ...sameMs.map((e) => e[2])], 'every line, in the order they came')
  assert.deepEqual(got.map((e) => e[1]), got.map((_, i) => i), 'offsets are dense, from 0')
  assert.deepEqual(got.map((e) => e[0]), [...newest, ...older, ...sameMs].map((e) => e[0]), 'times as sent')
})

test('a retry is stored once, in the same request, later, and after the store was reopened; the same text at another time is a new line', async (t) => {
  const s = withStore(t)
  let store = await s.open()
  const batch = [line(T0, 'a'), line(T0 + 1n, 'b'), line(T0, 'a')]
  const first = await store.write([{ stream: loki, entries: batch }])
  assert.deepEqual([first.lines, first.newLines], [3, 2], 'the same (time, line) twice in one request is one line, as in Loki')
  await s.close()
  store = await s.open()
  const retry = await store.write([{ stream: loki, entries: [...batch, line(T0 + 2n, 'a')] }])
  assert.deepEqual([retry.lines, retry.newLines], [4, 1], 'only the line at a new time is new')
  assert.deepEqual((await readAll(store)).map((e) => [e[2], e[1]]), [['a', 0], ['b', 1], ['a', 2]])
})

test('the keys kept are bounded: past the window a retry is new again, and at most maxKeys are kept', async (t) => {
  const s = withStore(t, { windowMs: 60_000, maxKeys: 5 })
  const store = await s.open()
  const lines = Array.from({ length: 8 }, (_, i) => line(T0 + BigInt(i), `l${i}`))
  await store.write([{ stream: loki, entries: lines }])
  // The next transaction trims to maxKeys, oldest first.
  assert.equal((await store.write([{ stream: loki, entries: [lines[7]!] }])).newLines, 0, 'a recent key is still known')
  await s.close()
  const db = new Database(join(s.dir, 'daytwo.sqlite'), { readonly: true })
  const kept = (db.prepare('SELECT count(*) AS n FROM record_keys').get() as { n: number }).n
  db.close()
  assert.equal(kept, 5)
  const again = await s.open()
  const r = await again.write([{ stream: loki, entries: [lines[0]!] }])
  assert.equal(r.newLines, 1, 'a key trimmed away no longer makes a duplicate')
})

test('forwarder streams keep their offsets and their high-water mark', async (t) => {
  const s = withStore(t)
  const store = await s.open()
  const file: StreamTags = { ...loki, id: 'file-s1', source: 'file', path: '/x.log' }
  const e = (off: number): Entry => [String(T0 + BigInt(off)), off, `at ${off}`, 'stdout']
  await store.write([{ stream: file, entries: [e(100), e(200)] }])
  const r = await store.write([{ stream: file, entries: [e(150), e(300)] }])
  assert.equal(r.newLines, 1, 'a line at or below the mark is a duplicate')
  assert.deepEqual((await readAll(store)).map((x) => x[1]), [100, 200, 300])
})
