import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import Database from 'better-sqlite3'
import { encodeEntries, framed } from '../../core/frames.js'
import { LEVELS, detectLevel, levelIndex, syslogSeverityLevel } from '../../core/level.js'
import type { Attributes, Entry, StreamTags } from '../../core/record.js'
import { BlockEncoder, decodeBlock } from '../../store/embedded/block-codec.js'
import { CELLS, bloomMayContain, cell, decodeSummary, stdioIndex } from '../../store/embedded/block-index.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { openDatabase, SCHEMA_VERSION } from '../../store/embedded/schema.js'
import { BlockWriter, type RecordBatch } from '../../store/embedded/writer.js'
import { Rng } from '../helpers/faults.js'
import { BLOCK_ROWS } from '../helpers/block-rows.js'

// Schema 3 of the embedded store: each block carries its lines' levels, a summary by (stdio,
// level) and a bloom of its messages (store/embedded/block-index.ts); files of schema 1 and 2
// are upgraded in place; retention keeps the streams' totals equal to what is stored.

type After = { after: (fn: () => void | Promise<void>) => void }

function tempDir (t: After): string {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-store3-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const tags = (id: string, job = 'router'): StreamTags => ({ id, source: 'file', node: 'n', deployment: 'cf', job, index: '0', process: 'p', path: `/${id}.log`, org: 'o', app: 'a' })
const msgBytes = (es: Entry[]): number => es.reduce((n, e) => n + Buffer.byteLength(e[2]), 0)

/** The level the store must keep for a line: its `severity` attribute, else the line's own. */
function levelOf (e: Entry): number {
  const sev = e[4]?.severity
  return levelIndex(sev !== undefined ? syslogSeverityLevel(sev) : detectLevel(e[2]))
}

// ---------------------------------------------------------------------------------------
// Upgrade in place from schemas 1 and 2
// ---------------------------------------------------------------------------------------

/** The tables of schemas 1 and 2 (git show 40b767c:store/embedded/schema.ts; 1 kept blocks WITHOUT ROWID, without `format`). */
function oldDdl (version: 1 | 2): string {
  return `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE streams (
  sid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, node TEXT NOT NULL,
  deployment TEXT NOT NULL, job TEXT NOT NULL, idx TEXT NOT NULL, process TEXT NOT NULL, path TEXT NOT NULL,
  namespace TEXT, pod TEXT, container TEXT,
  org TEXT NOT NULL DEFAULT '', space TEXT NOT NULL DEFAULT '', app TEXT NOT NULL DEFAULT '', labels TEXT,
  first_seen INTEGER NOT NULL, last_ts INTEGER NOT NULL, hwm INTEGER NOT NULL DEFAULT -1,
  lines INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX streams_identity ON streams (deployment, job, idx);
CREATE INDEX streams_org ON streams (org, app);
CREATE TABLE blocks (
  sid INTEGER NOT NULL, first_offset INTEGER NOT NULL, last_offset INTEGER NOT NULL,
  min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, lines INTEGER NOT NULL, bytes INTEGER NOT NULL, data BLOB NOT NULL,
  ${version === 1 ? 'PRIMARY KEY (sid, first_offset)\n) WITHOUT ROWID;' : 'format INTEGER NOT NULL DEFAULT 1,\n  UNIQUE (sid, first_offset)\n);'}
CREATE INDEX blocks_max_ts ON blocks (max_ts);
CREATE TABLE usage (
  minute INTEGER NOT NULL, org TEXT NOT NULL, app TEXT NOT NULL,
  lines INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
  dropped_lines INTEGER NOT NULL DEFAULT 0, dropped_bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, org, app)
) WITHOUT ROWID;`
}

const BASE = 1_795_428_000_000_000_000n
const line = (i: number): Entry => i % 3 === 0
  ? [String(BASE + BigInt(i)), i, `ERROR line ${i}`, 'stderr']
  : i % 3 === 1 ? [String(BASE + BigInt(i)), i, `{"level":"info","n":${i}}`, 'stdout', { severity: 'warning' }] : [String(BASE + BigInt(i)), i, `plain ${i} ü`, '']
const lines = (from: number, n: number): Entry[] => Array.from({ length: n }, (_, k) => line(from + k))

/**
 * A file of an older schema with `entries` in blocks of 4, as that schema's writer wrote them;
 * its stream counts `phantom` more lines and bytes than it stores (deleted by retention before
 * retention lowered the totals).
 */
function buildOld (file: string, version: 1 | 2, t: StreamTags, entries: Entry[], phantom: number): void {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(oldDdl(version))
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(version))
  const sid = db.prepare(`INSERT INTO streams (id, source, node, deployment, job, idx, process, path, org, app, first_seen, last_ts, hwm, lines, bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(t.id, t.source, t.node, t.deployment, t.job, t.index, t.process, t.path, t.org, t.app,
    BigInt(entries[0]![0]), BigInt(entries[entries.length - 1]![0]), entries[entries.length - 1]![1], entries.length + phantom, msgBytes(entries) + phantom).lastInsertRowid
  const enc = new BlockEncoder()
  for (let i = 0; i < entries.length; i += 4) {
    const c = entries.slice(i, i + 4)
    const head = [sid, c[0]![1], c[c.length - 1]![1], BigInt(c[0]![0]), BigInt(c[c.length - 1]![0]), c.length, msgBytes(c)]
    if (version === 1) db.prepare('INSERT INTO blocks (sid, first_offset, last_offset, min_ts, max_ts, lines, bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(...head, deflateRawSync(JSON.stringify(c), { level: 1 }))
    else db.prepare('INSERT INTO blocks (sid, first_offset, last_offset, min_ts, max_ts, lines, bytes, data, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2)').run(...head, Buffer.from(enc.encode(encodeEntries(c))))
  }
  db.close()
}

interface BlockRow { sid: number, first_offset: number, lines: number, bytes: number, data: Buffer, format: number, levels: Buffer | null, summary: Buffer | null, bloom: Buffer | null }

function blockRows (db: Database.Database): BlockRow[] {
  return db.prepare(`SELECT sid, first_offset, lines, bytes, data, format, levels, summary, bloom FROM ${BLOCK_ROWS} ORDER BY sid, first_offset`).all() as BlockRow[]
}

/** A block's levels and summary are what its decoded lines say; its bloom holds each line. */
function checkIndexed (r: BlockRow, rng: Rng): void {
  const entries = decodeBlock(r.data, r.format)
  assert.equal(entries.length, r.lines)
  assert.ok(r.levels !== null && r.bloom !== null, 'a new block has levels and a bloom')
  assert.deepEqual([...r.levels], entries.map(levelOf), 'levels, line by line')
  const cells = new Float64Array(2 * CELLS)
  let summarized = true
  for (const e of entries) {
    const s = stdioIndex(e[3])
    if (s === -1) { summarized = false; continue }
    const c = cell(s, levelOf(e))
    cells[2 * c]!++
    cells[2 * c + 1]! += Buffer.byteLength(e[2])
  }
  if (summarized) assert.deepEqual(decodeSummary(r.summary!), cells, 'summary cells')
  else assert.equal(r.summary, null, 'no summary for a block with a stdio it has no cell for')
  for (const e of entries) {
    const m = Buffer.from(e[2])
    if (m.length === 0) continue
    const from = rng.int(m.length)
    const needle = m.subarray(from, from + 1 + rng.int(m.length - from))
    assert.ok(bloomMayContain(r.bloom, needle), `bloom holds ${JSON.stringify(needle.toString())}`)
  }
}

function streamTotals (db: Database.Database): Array<[number, number, number]> {
  return (db.prepare('SELECT sid, lines, bytes FROM streams ORDER BY sid').all() as Array<{ sid: number, lines: number, bytes: number }>).map((r) => [r.sid, r.lines, r.bytes])
}

function blockTotals (db: Database.Database): Array<[number, number, number]> {
  return (db.prepare('SELECT s.sid, coalesce(sum(b.lines), 0) AS lines, coalesce(sum(b.bytes), 0) AS bytes FROM streams s LEFT JOIN blocks b ON b.sid = s.sid GROUP BY s.sid ORDER BY s.sid').all() as Array<{ sid: number, lines: number, bytes: number }>)
    .map((r) => [r.sid, r.lines, r.bytes])
}

for (const version of [1, 2] as const) {
  test(`schema ${version} → 3 in place: old blocks read back, new blocks carry levels, summaries and blooms, totals match the blocks`, async (t) => {
    const dir = tempDir(t)
    const file = join(dir, 'daytwo.sqlite')
    const s1 = tags('s1')
    buildOld(file, version, s1, lines(0, 10), 7)

    const store = await EmbeddedStore.open(dir, { blockLines: 4 })
    t.after(async () => { await store.close() })
    const read = async (): Promise<Entry[]> => { const out: Entry[] = []; for await (const c of store.read({ selector: {} })) out.push(...c.entries); return out }
    assert.deepEqual(await read(), lines(0, 10), 'old blocks read back')
    assert.equal((await store.write([{ stream: s1, entries: lines(0, 16) }])).newLines, 6)
    assert.deepEqual(await read(), lines(0, 16))
    const [info] = await store.streams({})
    assert.deepEqual([info!.lines, info!.bytes], [16, msgBytes(lines(0, 16))], 'the phantom lines are gone from the totals')
    await store.close()

    const db = new Database(file, { readonly: true })
    t.after(() => db.close())
    assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, String(SCHEMA_VERSION))
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'blocks'").all() as Array<{ name: string }>).map((r) => r.name)
    assert.ok(indexes.includes('blocks_sid_max_ts'), `indexes: ${indexes.join(', ')}`)
    const rows = blockRows(db)
    assert.deepEqual(rows.map((r) => [r.first_offset, r.format, r.summary === null]), [[0, version, true], [4, version, true], [8, version, true], [10, 2, false], [14, 2, false]])
    for (const r of rows.slice(0, 3)) assert.ok(r.levels === null && r.bloom === null, 'old blocks have no index')
    const rng = new Rng(version)
    for (const r of rows.slice(3)) checkIndexed(r, rng)
    assert.deepEqual(streamTotals(db), blockTotals(db))
  })
}

test('a new file is schema 3 and its blocks are indexed', async (t) => {
  const dir = tempDir(t)
  const store = await EmbeddedStore.open(dir, { blockLines: 5 })
  await store.write([{ stream: tags('s1'), entries: lines(0, 12) }])
  await store.close()
  const db = new Database(join(dir, 'daytwo.sqlite'), { readonly: true })
  t.after(() => db.close())
  const rows = blockRows(db)
  assert.equal(rows.length, 3)
  const rng = new Rng(3)
  for (const r of rows) checkIndexed(r, rng)
})

// ---------------------------------------------------------------------------------------
// Levels, summaries and blooms of random batches
// ---------------------------------------------------------------------------------------

const HEADS = ['ERROR ', 'WARN ', '[INFO] ', 'DEBUG ', 'TRACE ', 'FATAL ', 'CRITICAL ', 'level=error ', 'lvl=warn ', '{"level":50,', '{"level":60,', '{"severity":"WARNING",',
  'E0501 10:00:00.000000 ', 'F0501 10:00:00.000000 ', 'panic: ', '', '', '', 'ü ', '\u2003ERROR ']
const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug', '3', 'nonsense']

function randomEntry (rng: Rng, ts: bigint, offset: number, stdios: readonly string[]): Entry {
  const message = rng.pick(HEADS) + rng.str(rng.int(60), 'abcdefghij klmnop"=:{}[]ERRORwarn0123456789')
  const stdio = rng.pick(stdios)
  const r = rng.int(8)
  let attrs: Attributes | undefined
  if (r === 0) attrs = { facility: 'local0', severity: rng.pick(SEVERITIES) }
  else if (r === 1) attrs = { msgid: 'x"severity":"err"\\', 'sd.origin.severity': rng.pick(SEVERITIES) } // named so, but not `severity`
  else if (r === 2) attrs = { 'sd.a.b': 'quote " and \\ backslash', severity: rng.pick(SEVERITIES) }
  return attrs === undefined ? [String(ts), offset, message, stdio] : [String(ts), offset, message, stdio, attrs]
}

test('levels equal detectLevel (or the severity attribute) per line and summaries equal the counts by (stdio, level), for random batches', (t) => {
  const dir = tempDir(t)
  const db = openDatabase(join(dir, 'daytwo.sqlite'))
  t.after(() => db.close())
  const writer = new BlockWriter(db, 50)
  const rng = new Rng(21)
  const next = new Map<string, number>()
  for (let round = 0; round < 40; round++) {
    const batches: RecordBatch[] = []
    for (let s = 0; s < 1 + rng.int(4); s++) {
      const id = `s${rng.int(6)}`
      if (batches.some((b) => b.stream.id === id)) continue
      // Stream s5 also carries a stdio the summary has no cell for.
      const stdios = id === 's5' ? ['', 'stdout', 'stderr', 'file'] : ['', 'stdout', 'stderr']
      const from = next.get(id) ?? 0
      const n = 1 + rng.int(180)
      const entries = Array.from({ length: n }, (_, k) => randomEntry(rng, BASE + BigInt(rng.int(1e9)), from + k, stdios))
      next.set(id, from + n)
      const f = framed({ stream: tags(id), entries })
      batches.push({ stream: f.stream, frames: f.frames, index: f.index })
    }
    writer.write(batches)
  }
  const rows = blockRows(db)
  assert.ok(rows.length > 100, `${rows.length} blocks`)
  const checkRng = new Rng(5)
  const seen = new Set<number>()
  for (const r of rows) {
    checkIndexed(r, checkRng)
    for (const l of r.levels!) seen.add(l)
  }
  assert.ok(rows.some((r) => r.summary === null) && rows.some((r) => r.summary !== null))
  assert.deepEqual([...seen].sort(), LEVELS.map((_, i) => i), 'every level occurs')
})

// ---------------------------------------------------------------------------------------
// Retention keeps the totals true
// ---------------------------------------------------------------------------------------

test('after retention by age and by size, each stream\'s totals are the sum over its remaining blocks', (t) => {
  const dir = tempDir(t)
  const db = openDatabase(join(dir, 'daytwo.sqlite'))
  t.after(() => db.close())
  const writer = new BlockWriter(db, 20)
  const rng = new Rng(33)
  const now = Date.now()
  const day = 86_400_000
  const next = new Map<string, number>()
  let deleted = 0
  let deletedLines = 0
  for (let round = 0; round < 12; round++) {
    const batches: RecordBatch[] = []
    for (const id of ['a', 'b', 'c', 'd']) {
      if (rng.int(3) === 0) continue
      const from = next.get(id) ?? 0
      const n = 1 + rng.int(90)
      // Some streams' lines are 2 to 20 days old, some fresh.
      const ageMs = rng.int(2) === 0 ? rng.int(20) * day : rng.int(3_600_000)
      const entries: Entry[] = Array.from({ length: n }, (_, k) => [String(BigInt(now - ageMs) * 1_000_000n + BigInt(k)), from + k, rng.str(10 + rng.int(200), 'abcdef 0123'), 'stdout'])
      next.set(id, from + n)
      const f = framed({ stream: tags(id), entries })
      batches.push({ stream: f.stream, frames: f.frames, index: f.index })
    }
    writer.write(batches)
    if (round % 4 === 3) {
      const before = (db.prepare('SELECT coalesce(sum(lines), 0) AS n FROM streams').get() as { n: number }).n
      const r = writer.enforceRetention({ days: 7, maxBytes: 0, checkMs: 0 }, now)
      const size = (db.prepare('SELECT coalesce(sum(length(data)), 0) AS n FROM blocks').get() as { n: number }).n
      const r2 = writer.enforceRetention({ days: 0, maxBytes: Math.floor(size * 0.7), checkMs: 0 }, now)
      deleted += r.blocks + r2.blocks
      deletedLines += r.lines + r2.lines
      assert.deepEqual(streamTotals(db), blockTotals(db), `round ${round}`)
      const after = (db.prepare('SELECT coalesce(sum(lines), 0) AS n FROM streams').get() as { n: number }).n
      assert.equal(before - after, r.lines + r2.lines, 'the totals went down by what retention says it deleted')
    }
  }
  assert.ok(deleted > 5 && deletedLines > 0, `${deleted} blocks deleted`)
  // Streams stay with their marks, also those whose blocks are all gone.
  assert.equal((db.prepare('SELECT count(*) AS n FROM streams').get() as { n: number }).n, 4)
})
