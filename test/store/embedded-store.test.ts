import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Entry, StreamBatch } from '../../core/record.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'

const tags = { id: 's1', source: 'file' as const, node: 'n', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/x.log', org: 'o1', app: 'a1' }

function entries (from: number, n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => [String(1_795_428_000_000_000_000n + BigInt(from + i)), (from + i) * 10, `line ${from + i}`, 'stdout'] as Entry)
}

async function open (t: { after: (fn: () => Promise<void>) => void }, blockLines = 4): Promise<EmbeddedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-store-'))
  const store = await EmbeddedStore.open(dir, { blockLines })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  return store
}

async function readAll (store: EmbeddedStore, req: Parameters<EmbeddedStore['read']>[0] = { selector: {} }): Promise<Entry[]> {
  const out: Entry[] = []
  for await (const c of store.read(req)) out.push(...c.entries)
  return out
}

test('writes are idempotent: a retry stores nothing twice and says so', async (t) => {
  const store = await open(t)
  const batch: StreamBatch[] = [{ stream: tags, entries: entries(0, 10) }]
  const first = await store.write(batch)
  assert.equal(first.newLines, 10)
  const again = await store.write(batch)
  assert.equal(again.lines, 10)
  assert.equal(again.newLines, 0)
  // An overlapping retry stores only the new tail.
  const overlap = await store.write([{ stream: tags, entries: entries(5, 10) }])
  assert.equal(overlap.newLines, 5)
  assert.equal(overlap.newBytes, Buffer.byteLength(entries(10, 5).map((e) => e[2]).join('')))
  const all = await readAll(store)
  assert.deepEqual(all.map((e) => e[2]), entries(0, 15).map((e) => e[2]))
})

test('usage counts only newly stored bytes, and drops separately', async (t) => {
  const store = await open(t)
  const batch: StreamBatch[] = [{ stream: tags, entries: entries(0, 7) }]
  for (let i = 0; i < 3; i++) await store.write(batch)
  await store.recordDrops([{ org: 'o1', app: 'a1', reason: 'rate_limited', lines: 2, bytes: 20 }])
  const rows = await store.usage({ fromMs: 0, toMs: Date.now() + 60000 })
  // Rows are per minute, and the writes and the drops may straddle a minute boundary: sum them.
  assert.ok(rows.length >= 1 && rows.length <= 2 && rows.every((r) => r.org === 'o1' && r.app === 'a1'))
  const sum = { lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0 }
  for (const r of rows) { sum.lines += r.lines; sum.bytes += r.bytes; sum.droppedLines += r.droppedLines; sum.droppedBytes += r.droppedBytes }
  const bytes = entries(0, 7).reduce((n, e) => n + Buffer.byteLength(e[2]), 0)
  assert.deepEqual(sum, { lines: 7, bytes, droppedLines: 2, droppedBytes: 20 })
  assert.deepEqual(await store.usage({ fromMs: 0, toMs: Date.now() + 60000, org: 'other' }), [])
})

test('reads select by identity and time, resume after an offset, and page through blocks', async (t) => {
  const store = await open(t, 3)
  await store.write([{ stream: tags, entries: entries(0, 200) }, { stream: { ...tags, id: 's2', job: 'uaa' }, entries: entries(0, 5) }])
  assert.equal((await readAll(store, { selector: { job: 'router' } })).length, 200)
  assert.equal((await readAll(store, { selector: { job: 'uaa' } })).length, 5)
  const ranged = await readAll(store, { selector: { job: 'router' }, fromNs: 1_795_428_000_000_000_010n, toNs: 1_795_428_000_000_000_019n })
  assert.deepEqual(ranged.map((e) => e[2]), entries(10, 10).map((e) => e[2]))
  const after = await readAll(store, { selector: { job: 'router' }, after: new Map([['s1', 1985]]) })
  assert.deepEqual(after.map((e) => e[1]), [1990])
  const streams = await store.streams({ deployment: 'cf' })
  assert.deepEqual(streams.map((s) => [s.id, s.lines]), [['s1', 200], ['s2', 5]])
  assert.equal(await store.check(), null)
})

test('tags refined after the first write are updated on the stream', async (t) => {
  const store = await open(t)
  await store.write([{ stream: tags, entries: entries(0, 1) }])
  await store.write([{ stream: { ...tags, job: 'renamed', org: 'o2' }, entries: entries(1, 1) }])
  const [s] = await store.streams({})
  assert.equal(s!.job, 'renamed')
  assert.equal(s!.org, 'o2')
})

test('retention deletes lines past their age, then the oldest past the size limit; marks stay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-store-'))
  const day = 86_400_000
  const store = await EmbeddedStore.open(dir, { blockLines: 10, retention: { days: 7, maxBytes: 0, checkMs: 3_600_000 } })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  const now = Date.now()
  const at = (msAgo: number, from: number, n: number): Entry[] => Array.from({ length: n }, (_, i) => [String(BigInt(now - msAgo) * 1_000_000n + BigInt(i)), from + i, `line ${from + i}`, ''] as Entry)
  await store.write([{ stream: tags, entries: [...at(10 * day, 0, 20), ...at(1 * day, 20, 20)] }])
  const r = await store.enforceRetention(now)
  assert.deepEqual([r.blocks, r.lines], [2, 20])
  const left = await readAll(store)
  assert.deepEqual(left.map((e) => e[1]), at(day, 20, 20).map((e) => e[1]))
  // The high-water mark survives: an old retry is still recognised, not stored again.
  assert.equal((await store.write([{ stream: tags, entries: at(10 * day, 0, 20) }])).newLines, 0)
})

test('retention by size deletes the oldest blocks until the rest fits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-store-'))
  const store = await EmbeddedStore.open(dir, { blockLines: 10, retention: { days: 0, maxBytes: 4000, checkMs: 3_600_000 } })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  // The oldest block holds incompressible lines (≈ 10 kB); the two newer ones are tiny.
  const big = entries(0, 10).map((e) => [e[0], e[1], randomBytes(500).toString('hex'), e[3]] as Entry)
  await store.write([{ stream: tags, entries: [...big, ...entries(10, 20)] }])
  const r = await store.enforceRetention()
  assert.equal(r.blocks, 1)
  assert.deepEqual((await readAll(store)).map((e) => e[1]), entries(10, 20).map((e) => e[1]))
})
