import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import Database from 'better-sqlite3'
import { DaytwoError } from '../../core/errors.js'
import { FramedBatch, decodeFrames, encodeEntries, encodeFrames, streamFrame } from '../../core/frames.js'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { SCHEMA_VERSION } from '../../store/embedded/schema.js'
import { Rng } from '../helpers/faults.js'

// Schema 2 of the embedded store (commit 00c4b78), driven as a user would: through
// EmbeddedStore on real files. Upgrade from schema 1, exact time bounds, group commit
// isolation, hand-off of request bodies, and message bytes that are not UTF-8.

const TAGS: StreamTags = { id: 's1', source: 'file', node: 'n', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/x.log', org: 'o1', app: 'a1' }

function tempDir (t: { after: (fn: () => void | Promise<void>) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-store2-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function open (t: { after: (fn: () => void | Promise<void>) => void }, dir: string, blockLines = 4): Promise<EmbeddedStore> {
  const store = await EmbeddedStore.open(dir, { blockLines })
  // Registered after tempDir's cleanup, so it runs first (after hooks run in reverse order).
  t.after(async () => { await store.close() })
  return store
}

async function readAll (store: EmbeddedStore, req: Parameters<EmbeddedStore['read']>[0] = { selector: {} }): Promise<Entry[]> {
  const out: Entry[] = []
  for await (const c of store.read(req)) out.push(...c.entries)
  return out
}

async function readByStream (store: EmbeddedStore): Promise<Map<string, Entry[]>> {
  const out = new Map<string, Entry[]>()
  for await (const c of store.read({ selector: {} })) {
    const list = out.get(c.stream.id) ?? []
    list.push(...c.entries)
    out.set(c.stream.id, list)
  }
  return out
}

const msgBytes = (es: Entry[]): number => es.reduce((n, e) => n + Buffer.byteLength(e[2]), 0)

// ---------------------------------------------------------------------------------------
// 1. Upgrade from schema 1
// ---------------------------------------------------------------------------------------

/** Schema 1's DDL as it was (git show 905e4b3:store/embedded/schema.ts). */
const V1_DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS streams (
  sid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL, node TEXT NOT NULL,
  deployment TEXT NOT NULL, job TEXT NOT NULL, idx TEXT NOT NULL, process TEXT NOT NULL,
  path TEXT NOT NULL,
  namespace TEXT, pod TEXT, container TEXT,
  org TEXT NOT NULL DEFAULT '', space TEXT NOT NULL DEFAULT '', app TEXT NOT NULL DEFAULT '',
  labels TEXT,
  first_seen INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  hwm INTEGER NOT NULL DEFAULT -1,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS streams_identity ON streams (deployment, job, idx);
CREATE INDEX IF NOT EXISTS streams_org ON streams (org, app);
CREATE TABLE IF NOT EXISTS blocks (
  sid INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (sid, first_offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_max_ts ON blocks (max_ts);
CREATE TABLE IF NOT EXISTS usage (
  minute INTEGER NOT NULL,
  org TEXT NOT NULL,
  app TEXT NOT NULL,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  dropped_lines INTEGER NOT NULL DEFAULT 0,
  dropped_bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, org, app)
) WITHOUT ROWID;
`

const BASE = 1_795_428_000_000_000_000n

/** Line i of the upgraded stream: offsets 10·i, times 1 ns apart, some with attributes and tricky text. */
function oldLine (i: number): Entry {
  const ts = String(BASE + BigInt(i))
  if (i % 5 === 1) return [ts, i * 10, `line ${i} "quoted" ü ✓ 𝄞 \n inner newline`, 'stderr', { facility: 'local0', severity: String(i % 8) }]
  if (i % 5 === 3) return [ts, i * 10, '', '']
  return [ts, i * 10, `line ${i}`, 'stdout']
}
const oldLines = (from: number, n: number): Entry[] => Array.from({ length: n }, (_, k) => oldLine(from + k))

/** A schema-1 database, written the way schema 1's writer wrote it. */
function buildV1 (file: string, streams: Array<{ tags: StreamTags, entries: Entry[] }>, blockLines: number, version = '1'): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(V1_DDL)
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', version)
  const insStream = db.prepare(`INSERT INTO streams (id, source, node, deployment, job, idx, process, path, namespace, pod, container, org, space, app, labels, first_seen, last_ts, hwm, lines, bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, '', ?, NULL, ?, ?, ?, ?, ?)`)
  const insBlock = db.prepare('INSERT INTO blocks (sid, first_offset, last_offset, min_ts, max_ts, lines, bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  for (const { tags: t, entries } of streams) {
    const times = entries.map((e) => BigInt(e[0]))
    const maxTs = times.reduce((a, b) => (b > a ? b : a))
    const info = insStream.run(t.id, t.source, t.node, t.deployment, t.job, t.index, t.process, t.path, t.org ?? '', t.app ?? '',
      times[0]!, maxTs, entries[entries.length - 1]![1], entries.length, msgBytes(entries))
    const sid = info.lastInsertRowid
    for (let i = 0; i < entries.length; i += blockLines) {
      const chunk = entries.slice(i, i + blockLines)
      const ts = chunk.map((e) => BigInt(e[0]))
      const min = ts.reduce((a, b) => (b < a ? b : a))
      const max = ts.reduce((a, b) => (b > a ? b : a))
      insBlock.run(sid, chunk[0]![1], chunk[chunk.length - 1]![1], min, max, chunk.length, msgBytes(chunk), deflateRawSync(JSON.stringify(chunk), { level: 1 }))
    }
  }
  db.close()
}

function metaVersion (file: string): string {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string }).value
  } finally {
    db.close()
  }
}

test('schema 1 → 3: old lines read back exactly, writes continue after the old mark, retries store nothing, version becomes 3', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'daytwo.sqlite')
  const other: StreamTags = { ...TAGS, id: 's-other', job: 'uaa' }
  const old = oldLines(0, 10)
  const otherOld: Entry[] = [['1700000000000000000', 3, 'other old', 'stdout']]
  buildV1(file, [{ tags: TAGS, entries: old }, { tags: other, entries: otherOld }], 4)
  assert.equal(metaVersion(file), '1')

  const store = await open(t, dir, 4)
  // The migration ran in the writer before open resolved.
  assert.equal(metaVersion(file), String(SCHEMA_VERSION))

  // Old format-1 blocks read back exactly, attributes, empty messages and all.
  assert.deepEqual(await readAll(store, { selector: { job: 'router' } }), old)
  assert.deepEqual(await readAll(store, { selector: { job: 'uaa' } }), otherOld)

  // A retry of an old batch (plain, and as frames) stores nothing new.
  for (const batch of [{ stream: TAGS, entries: old }, ...decodeFrames(encodeFrames([{ stream: TAGS, entries: old }]))] as StreamBatch[]) {
    const again = await store.write([batch])
    assert.deepEqual([again.lines, again.newLines, again.newBytes], [10, 0, 0])
  }
  // An overlapping batch stores only what is after the old high-water mark (offset 90).
  const overlap = await store.write([{ stream: TAGS, entries: oldLines(6, 8) }])
  assert.deepEqual([overlap.lines, overlap.newLines, overlap.newBytes], [8, 4, msgBytes(oldLines(10, 4))])
  assert.deepEqual(overlap.perStream.get('s1'), { lines: 4, bytes: msgBytes(oldLines(10, 4)) })
  // And the same again as frames, handed off, adds nothing.
  const [framedRetry] = decodeFrames(encodeFrames([{ stream: TAGS, entries: oldLines(0, 14) }]), true, true)
  assert.equal((await store.write([framedRetry!])).newLines, 0)
  // New lines after that, as frames.
  const [more] = decodeFrames(encodeFrames([{ stream: TAGS, entries: oldLines(12, 6) }]))
  assert.equal((await store.write([more!])).newLines, 4)

  // Old then new, in order, each once.
  const all = await readAll(store, { selector: { job: 'router' } })
  assert.deepEqual(all, oldLines(0, 18))
  assert.deepEqual(await readAll(store, { selector: { job: 'uaa' } }), otherOld)
  // A time range across the old (format 1) and new (format 2) blocks.
  const ranged = await readAll(store, { selector: { job: 'router' }, fromNs: BASE + 7n, toNs: BASE + 12n })
  assert.deepEqual(ranged, oldLines(7, 6))
  // Resuming after an old offset goes on into the new blocks.
  assert.deepEqual(await readAll(store, { selector: { job: 'router' }, after: new Map([['s1', 85]]) }), oldLines(9, 9))

  const [s] = await store.streams({ job: 'router' })
  assert.equal(s!.lines, 18)
  assert.equal(s!.bytes, msgBytes(oldLines(0, 18)))
  assert.equal(s!.firstSeenNs, String(BASE))
  assert.equal(s!.lastTsNs, String(BASE + 17n))
  await store.close()

  // On disk: the old blocks stay format 1, the new ones are format 2; the version is 3.
  const db = new Database(file, { readonly: true })
  const formats = db.prepare('SELECT first_offset, format FROM blocks WHERE sid = (SELECT sid FROM streams WHERE id = ?) ORDER BY first_offset').all('s1') as Array<{ first_offset: number, format: number }>
  db.close()
  assert.deepEqual(formats.map((r) => [r.first_offset, r.format]), [[0, 1], [40, 1], [80, 1], [100, 2], [140, 2]])
  assert.equal(metaVersion(file), String(SCHEMA_VERSION))

  // Opening the upgraded file again changes nothing.
  const again = await EmbeddedStore.open(dir, { blockLines: 4 })
  try {
    assert.deepEqual(await readAll(again, { selector: { job: 'router' } }), oldLines(0, 18))
    assert.equal((await again.write([{ stream: TAGS, entries: oldLines(0, 18) }])).newLines, 0)
  } finally {
    await again.close()
  }
})

const NEWER = String(SCHEMA_VERSION + 1)

test('a store with a newer schema is refused, naming the version, and is left at its version', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'daytwo.sqlite')
  buildV1(file, [{ tags: TAGS, entries: oldLines(0, 3) }], 4, NEWER)
  await assert.rejects(EmbeddedStore.open(dir, { blockLines: 4 }), (err: Error) => {
    assert.match(err.message, new RegExp(`schema version ${NEWER}`))
    assert.match(err.message, new RegExp(`up to ${SCHEMA_VERSION}`))
    return true
  })
  assert.equal(metaVersion(file), NEWER)
  const db = new Database(file, { readonly: true })
  const cols = (db.prepare('PRAGMA table_info(blocks)').all() as Array<{ name: string }>).map((c) => c.name)
  db.close()
  assert.ok(!cols.includes('format'), 'no migration ran on a newer file')
})

test('a newer file refused is left in its own journal mode; a version-1 file that lost its version row is upgraded; a file that is not SQLite is named so', async (t) => {
  // Refused before anything changes: buildV1 leaves WAL, so make it "delete" first.
  const dir = tempDir(t)
  const file = join(dir, 'daytwo.sqlite')
  buildV1(file, [{ tags: TAGS, entries: oldLines(0, 3) }], 4, NEWER)
  const db = new Database(file)
  db.pragma('journal_mode = DELETE')
  db.close()
  await assert.rejects(EmbeddedStore.open(dir, { blockLines: 4 }), new RegExp(`schema version ${NEWER}`))
  const after = new Database(file, { readonly: true })
  assert.equal(after.pragma('journal_mode', { simple: true }), 'delete')
  after.close()

  // Version 1 made its tables before it wrote its version: a crash in between left blocks
  // and no version. Such a file is version 1, upgraded, and takes new lines.
  const dir1 = tempDir(t)
  const file1 = join(dir1, 'daytwo.sqlite')
  buildV1(file1, [{ tags: TAGS, entries: oldLines(0, 6) }], 4)
  const d1 = new Database(file1)
  d1.prepare('DELETE FROM meta').run()
  d1.close()
  const store = await open(t, dir1, 4)
  assert.equal((await store.write([{ stream: TAGS, entries: oldLines(6, 3) }])).newLines, 3)
  assert.deepEqual(await readAll(store), oldLines(0, 9))
  assert.equal(metaVersion(file1), String(SCHEMA_VERSION))

  // Not an SQLite file at all: the error says which file and why.
  const dir2 = tempDir(t)
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(dir2, 'daytwo.sqlite'), 'this is not a database '.repeat(100))
  await assert.rejects(EmbeddedStore.open(dir2, { blockLines: 4 }), (err: Error) => {
    assert.ok(err instanceof DaytwoError)
    assert.match(err.message, /daytwo\.sqlite/)
    assert.match(err.message, /SQLITE_NOTADB|not an SQLite database|file is not a database/)
    return true
  })
})

test('a new store file is schema 3 with 16 KiB pages', async (t) => {
  const dir = tempDir(t)
  const store = await EmbeddedStore.open(dir, { blockLines: 4 })
  await store.write([{ stream: TAGS, entries: oldLines(0, 5) }])
  await store.close()
  const file = join(dir, 'daytwo.sqlite')
  const db = new Database(file, { readonly: true })
  const pageSize = db.pragma('page_size', { simple: true })
  const formats = db.prepare('SELECT DISTINCT format FROM blocks').all() as Array<{ format: number }>
  db.close()
  assert.equal(pageSize, 16384)
  assert.deepEqual(formats, [{ format: 2 }])
  assert.equal(metaVersion(file), String(SCHEMA_VERSION))
})

// ---------------------------------------------------------------------------------------
// 2. Exact time bounds
// ---------------------------------------------------------------------------------------

test('time bounds are exact: 1 ns apart beyond double precision, before 1970, and with leading zeros', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 3)
  // Near 1.8e18 doubles are 256 ns apart: Number() would merge all of these times, and
  // BASE2 + 100 rounds down to BASE2 itself (below every one of them).
  const BASE2 = 1_800_000_000_000_000_000n + 100n
  const big: string[] = [3, 0, 1, 2, 5, 4, 6, 7, 8].map((k) => String(BASE2 + BigInt(k)))
  // Times out of order within blocks, so the bounds are a real min and max.
  const neg: string[] = ['-5', '-1000000000', '-999999999', '-1000000001', '0', '-1', '5', '-0']
  // 20 digits with leading zeros (the validator allows up to 20 digits), and a 21-character negative one.
  const padded: string[] = ['00000000000000000007', '00000000001000000000', '-00000000001000000000', '00000000000999999999']
  const groups: StreamBatch[] = [
    { stream: { ...TAGS, id: 'big', job: 'big' }, entries: big.map((ts, i) => [ts, i, `big ${ts}`, 'stdout'] as Entry) },
    { stream: { ...TAGS, id: 'neg', job: 'neg' }, entries: neg.map((ts, i) => [ts, i, `neg ${ts}`, 'stdout'] as Entry) },
    { stream: { ...TAGS, id: 'pad', job: 'pad' }, entries: padded.map((ts, i) => [ts, i, `pad ${ts}`, ''] as Entry) }
  ]
  // Through the validator, as the collector takes them.
  const decoded = decodeFrames(encodeFrames(groups))
  assert.equal(decoded.length, 3)
  const r = await store.write(decoded)
  assert.equal(r.newLines, big.length + neg.length + padded.length)

  let queries = 0
  for (const g of groups) {
    const job = g.stream.job
    const stored = await readAll(store, { selector: { job } })
    assert.deepEqual(stored, g.entries, `${job}: stored as sent`)
    const times = [...new Set(g.entries.map((e) => BigInt(e[0])))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    // Every range whose ends are entries' times, and the ranges 1 ns inside and outside them.
    const edges = [...new Set(times.flatMap((x) => [x - 1n, x, x + 1n]))]
    for (const from of edges) {
      for (const to of edges) {
        if (to < from) continue
        const want = g.entries.filter((e) => BigInt(e[0]) >= from && BigInt(e[0]) <= to).map((e) => e[1])
        const got = (await readAll(store, { selector: { job }, fromNs: from, toNs: to })).map((e) => e[1])
        assert.deepEqual(got, want, `${job}: [${from}, ${to}]`)
        queries++
      }
    }
    // Open-ended ranges at each time.
    for (const x of times) {
      assert.deepEqual((await readAll(store, { selector: { job }, fromNs: x })).map((e) => e[1]), g.entries.filter((e) => BigInt(e[0]) >= x).map((e) => e[1]), `${job}: from ${x}`)
      assert.deepEqual((await readAll(store, { selector: { job }, toNs: x })).map((e) => e[1]), g.entries.filter((e) => BigInt(e[0]) <= x).map((e) => e[1]), `${job}: to ${x}`)
    }
  }
  assert.ok(queries > 200, `${queries} ranges`)

  // The streams' first and last times are exact too.
  const infos = new Map((await store.streams({})).map((s) => [s.id, s]))
  assert.equal(infos.get('big')!.firstSeenNs, String(BASE2 + 3n))
  assert.equal(infos.get('big')!.lastTsNs, String(BASE2 + 8n))
  assert.equal(infos.get('neg')!.firstSeenNs, '-5')
  assert.equal(infos.get('neg')!.lastTsNs, '5')
  assert.equal(infos.get('pad')!.lastTsNs, '1000000000')
})

// ---------------------------------------------------------------------------------------
// 3. Group commit isolation
// ---------------------------------------------------------------------------------------

test('group commit: one write the database refuses fails alone; the others commit, each line once', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 3)
  const lines = (sid: number, n: number): Entry[] => Array.from({ length: n }, (_, i) => [String(BASE + BigInt(sid * 1000 + i)), i * 7, `w${sid} line ${i}`, 'stdout'] as Entry)
  // Two rounds of 20 concurrent writes: the refused one in the middle, then at both ends
  // (first and last of whatever group the writer drains).
  for (const [round, bad] of [[0, [10]], [1, [0, 19]]] as Array<[number, number[]]>) {
    const writes: Array<{ tags: StreamTags, entries: Entry[], bad: boolean }> = []
    for (let i = 0; i < 20; i++) {
      const sid = round * 100 + i
      const isBad = bad.includes(i)
      // A stream without a node: streams.node is NOT NULL. Only a direct store.write can send it
      // (the collector's validator refuses it).
      const tags = { ...TAGS, id: `r${round}-w${i}`, job: `job${round}`, node: isBad ? null : 'n' } as unknown as StreamTags
      writes.push({ tags, entries: lines(sid, 1 + (i % 5)), bad: isBad })
    }
    // Half plain batches, half frames, all sent before any is awaited.
    const settled = await Promise.allSettled(writes.map((w, i) => {
      const batch: StreamBatch = { stream: w.tags, entries: w.entries }
      return store.write([i % 2 === 0 ? batch : decodeFrames(encodeFrames([batch]), false)[0]!])
    }))
    for (const [i, s] of settled.entries()) {
      const w = writes[i]!
      if (w.bad) {
        assert.equal(s.status, 'rejected', `round ${round}, write ${i} should fail`)
        const err = (s as PromiseRejectedResult).reason as DaytwoError
        assert.ok(err instanceof DaytwoError)
        assert.equal(err.code, 'DAYTWO_ERR_STORE_UNAVAILABLE')
        assert.match(err.message, /NOT NULL|node/i)
      } else {
        assert.equal(s.status, 'fulfilled', `round ${round}, write ${i}: ${s.status === 'rejected' ? String(s.reason) : ''}`)
        const r = (s as PromiseFulfilledResult<Awaited<ReturnType<EmbeddedStore['write']>>>).value
        assert.deepEqual([r.lines, r.newLines, r.newBytes], [w.entries.length, w.entries.length, msgBytes(w.entries)], `round ${round}, write ${i}`)
      }
    }
    const byStream = await readByStream(store)
    for (const w of writes) {
      if (w.bad) assert.equal(byStream.has(w.tags.id), false, `${w.tags.id} stored nothing`)
      else assert.deepEqual(byStream.get(w.tags.id), w.entries, `${w.tags.id} stored once, in order`)
    }
    const streams = await store.streams({ job: `job${round}` })
    assert.equal(streams.length, 20 - bad.length)
  }
  // Usage counts each good write once.
  const usage = await store.usage({ fromMs: 0, toMs: Date.now() + 60_000 })
  const total = usage.reduce((n, u) => n + u.lines, 0)
  const want = [0, 1].reduce((n, round) => n + Array.from({ length: 20 }, (_, i) => i).filter((i) => !(round === 0 ? [10] : [0, 19]).includes(i)).reduce((m, i) => m + 1 + (i % 5), 0), 0)
  assert.equal(total, want)
  // The store still works after the failures.
  assert.equal((await store.write([{ stream: TAGS, entries: lines(999, 2) }])).newLines, 2)
  assert.equal(await store.check(), null)
})

// ---------------------------------------------------------------------------------------
// 4. Hand-off safety
// ---------------------------------------------------------------------------------------

const handTags = (id: string): StreamTags => ({ ...TAGS, id, job: 'hand' })
function handLines (from: number, n: number, pad = 20): Entry[] {
  return Array.from({ length: n }, (_, i) => [String(BASE + BigInt(from + i)), from + i, `hand line ${from + i} ${'x'.repeat(pad)}`, 'stdout'] as Entry)
}

test('hand-off of a large body: the lines are stored, and the handed-off batches refuse to be read', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 50)
  // Buffer.concat takes a body under half of Buffer.poolSize from the shared pool (8 KiB on
  // Node 20, 64 KiB on Node 26): long lines make it a body of its own ArrayBuffer on both.
  const a = handLines(0, 200, 200)
  const b = handLines(1000, 150, 200)
  const body = encodeFrames([{ stream: handTags('h1'), entries: a }, { stream: handTags('h2'), entries: b }])
  assert.ok(body.length >= Buffer.poolSize >>> 1, `body of ${body.length} bytes`)
  assert.equal(body.byteOffset, 0)
  assert.equal(body.byteLength, body.buffer.byteLength, 'a body of its own ArrayBuffer')
  const groups = decodeFrames(body, true, true)
  assert.ok(groups.every((g) => g instanceof FramedBatch))
  const r = await store.write(groups)
  assert.deepEqual([r.lines, r.newLines, r.newBytes], [350, 350, msgBytes(a) + msgBytes(b)])
  // The body was moved, not copied.
  assert.equal(body.buffer.byteLength, 0, 'the body\'s ArrayBuffer went to the writer thread')
  const byStream = await readByStream(store)
  assert.deepEqual(byStream.get('h1'), a)
  assert.deepEqual(byStream.get('h2'), b)
  // The batches' records are gone from here: reading them must say so, not answer [].
  for (const g of groups) assert.throws(() => g.entries, /handed to the store/)
})

/** What a promise settles to within `ms`, or 'pending'. */
async function within<T> (p: Promise<T>, ms: number): Promise<{ ok: true, value: T } | { ok: false, error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'pending'>((resolve) => { timer = setTimeout(() => resolve('pending'), ms) })
  try {
    return await Promise.race([p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), late])
  } finally {
    clearTimeout(timer)
  }
}

test('hand-off: a batch handed off already and written again is refused, not left pending forever', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 50)
  const [g] = decodeFrames(encodeFrames([{ stream: handTags('again'), entries: handLines(0, 300) }]), true, true)
  assert.equal((await store.write([g!])).newLines, 300)
  // The writer answers a write in milliseconds; 1.5 s without an answer is a lost request.
  const again = await within(store.write([g!]), 1500)
  if (again === 'pending') assert.fail('the second write neither resolved nor rejected')
  // Its records are no longer here to be counted: it cannot answer as if it had written them.
  assert.equal(again.ok, false, 'the second write of handed-off records is rejected')
})

test('hand-off of some groups of a body leaves the groups not passed readable and writable', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 50)
  const a = handLines(0, 200)
  const b = handLines(1000, 200)
  const body = encodeFrames([{ stream: handTags('ga'), entries: a }, { stream: handTags('gb'), entries: b }])
  assert.ok(body.length > 8192)
  const [ga, gb] = decodeFrames(body, true, true)
  // LogStore.write: "the caller will not read *these batches'* entries again": gb was not passed.
  assert.equal((await store.write([ga!])).newLines, 200)
  assert.equal(gb!.entries.length, b.length, 'the group not handed off still reads')
  assert.deepEqual(gb!.entries, b)
  const second = await within(store.write([gb!]), 1500)
  if (second === 'pending') assert.fail('the write of the other group neither resolved nor rejected')
  assert.ok(second.ok, `the other group is written: ${second.ok ? '' : String(second.error)}`)
  assert.deepEqual((await readByStream(store)).get('gb'), b)
})

test('hand-off of a small pooled body leaves the pool and its other users intact', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 4)
  const entries = handLines(0, 6, 2)
  // Buffer.from and Buffer.concat of small sizes share Buffer's pool; try until the
  // neighbour and the body land in the same pool slab.
  let neighbour = Buffer.alloc(0)
  let body = Buffer.alloc(0)
  for (let attempt = 0; attempt < 5; attempt++) {
    const parts = [streamFrame(handTags('small')), encodeEntries(entries)]
    neighbour = Buffer.from('neighbour bytes!')
    body = Buffer.concat(parts)
    if (body.buffer === neighbour.buffer) break
  }
  assert.ok(body.length < 4096, `body of ${body.length} bytes`)
  assert.equal(body.buffer, neighbour.buffer, 'precondition: the body and its neighbour share the pool')
  assert.ok(body.byteLength < body.buffer.byteLength)
  const bodyCopy = Buffer.from(body)
  const poolSize = body.buffer.byteLength
  const [g] = decodeFrames(body, true, true)
  assert.equal((await store.write([g!])).newLines, 6)
  // The pool was not detached: the neighbour and the body keep their bytes.
  assert.equal(neighbour.buffer.byteLength, poolSize)
  assert.equal(neighbour.length, 16)
  assert.equal(neighbour.toString(), 'neighbour bytes!')
  assert.equal(body.length, bodyCopy.length)
  assert.ok(body.equals(bodyCopy))
  // Later small buffers from the pool still work.
  assert.equal(Buffer.from('after').toString(), 'after')
  assert.deepEqual(await readAll(store, { selector: { job: 'hand' } }), entries)
})

test('hand-off of a body that is the start of a larger ArrayBuffer leaves the rest of that buffer alone', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 10)
  const entries = handLines(0, 300)
  const frames = encodeFrames([{ stream: handTags('slice'), entries }])
  // A body at offset 0 of a larger allocation (as a read buffer would be), with other bytes after it.
  const whole = Buffer.alloc(frames.length + 5000, 0x61)
  frames.copy(whole, 0)
  const body = whole.subarray(0, frames.length)
  const tail = whole.subarray(frames.length)
  const [g] = decodeFrames(body, true, true)
  assert.equal((await store.write([g!])).newLines, 300)
  assert.equal(whole.buffer.byteLength, frames.length + 5000, 'not detached')
  assert.equal(tail.length, 5000)
  assert.ok(tail.every((c) => c === 0x61))
  assert.ok(body.equals(frames))
  assert.deepEqual(await readAll(store, { selector: { job: 'hand' } }), entries)
})

// ---------------------------------------------------------------------------------------
// 5. Message bytes that are not UTF-8
// ---------------------------------------------------------------------------------------

test('messages with invalid UTF-8 and binary garbage are stored and read back as Buffer#toString gives them; usage counts their raw bytes', async (t) => {
  const dir = tempDir(t)
  const store = await open(t, dir, 3)
  const r = new Rng(0x5eed2)
  const messages: Buffer[] = [
    Buffer.from([0xff, 0xfe, 0xfd]),
    Buffer.from([0xc3]), // a 2-byte sequence cut short at the end
    Buffer.from([0xe2, 0x82]), // a 3-byte sequence cut short, followed by attributes below
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
    Buffer.concat([Buffer.from('ok ✓ then '), Buffer.from([0x80, 0xbf]), Buffer.from(' then 𝄞')]),
    Buffer.from([0x00, 0x0a, 0x0d, 0x45, 0x20, 0x31, 0x0a, 0x53, 0x20, 0x7b, 0x0a]), // NUL, newlines, "E 1", "S {"
    Buffer.alloc(0),
    r.bytes(300),
    r.bytes(70_000) // incompressible, larger than a block's usual size
  ]
  for (let i = 0; i < 20; i++) messages.push(r.bytes(1 + r.int(64)))
  const parts: Buffer[] = [streamFrame({ ...TAGS, id: 'bin', org: 'obin', app: 'abin' })]
  const attrsOf = (i: number): Buffer => Buffer.from(i === 2 || i % 7 === 0 ? JSON.stringify({ k: `v${i}` }) : '')
  for (const [i, m] of messages.entries()) {
    const attrs = attrsOf(i)
    parts.push(Buffer.from(`E ${BASE + BigInt(i)} ${i * 3} ${i % 2 === 0 ? 'stdout' : '-'} ${m.length} ${attrs.length}\n`), m, attrs, Buffer.from('\n'))
  }
  const body = Buffer.concat(parts)
  const groups = decodeFrames(body, true, true)
  assert.equal(groups.length, 1)
  const raw = messages.reduce((n, m) => n + m.length, 0)
  assert.equal(groups[0]!.bytes, raw)
  const res = await store.write(groups)
  assert.deepEqual([res.lines, res.newLines, res.newBytes, res.bytes], [messages.length, messages.length, raw, raw])

  const stored = await readAll(store, { selector: { org: 'obin' } })
  assert.equal(stored.length, messages.length)
  for (const [i, m] of messages.entries()) {
    const e = stored[i]!
    assert.equal(e[0], String(BASE + BigInt(i)))
    assert.equal(e[1], i * 3)
    assert.equal(e[2], m.toString('utf8'), `message ${i}`)
    assert.equal(e[3], i % 2 === 0 ? 'stdout' : '')
    assert.deepEqual(e[4], attrsOf(i).length > 0 ? { k: `v${i}` } : undefined, `attributes ${i}`)
  }
  const usage = await store.usage({ fromMs: 0, toMs: Date.now() + 60_000, org: 'obin' })
  assert.equal(usage.length, 1)
  assert.deepEqual([usage[0]!.lines, usage[0]!.bytes], [messages.length, raw])
  const [s] = await store.streams({ org: 'obin' })
  assert.deepEqual([s!.lines, s!.bytes], [messages.length, raw])
  // A retry of the same bytes adds no usage.
  assert.equal((await store.write(decodeFrames(Buffer.concat(parts)))).newBytes, 0)
  const after = await store.usage({ fromMs: 0, toMs: Date.now() + 60_000, org: 'obin' })
  assert.equal(after[0]!.bytes, raw)
})
