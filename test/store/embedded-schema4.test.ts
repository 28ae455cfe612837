import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { EntryView, readEntry } from '../../core/frames.js'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { decodeRecords } from '../../store/embedded/block-codec.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { LineColumns, LineIndexBuilder } from '../../store/embedded/line-index.js'
import { genericSelectLogs, genericSelectSamples, genericVariants } from '../../store/generic-select.js'
import type { LabelMatcher, LineFilter, SelectedLine } from '../../store/select-params.js'
import { Rng } from '../helpers/faults.js'
import { BLOCK_ROWS, normSamples, storeDir, TO_SCHEMA_4 } from '../helpers/block-rows.js'
import { SCHEMA_VERSION } from '../../store/embedded/schema.js'

// Schema 4 of the embedded store: each block carries a line index (store/embedded/line-index.ts)
// that metric queries count from without reading `data`, and that a needle's matches map to
// their lines through (store/embedded/indexed-scan.ts). A file of schema 3 is upgraded in
// place; its blocks have no index and are still walked record by record, next to new blocks
// that have one: every answer over such a mixed file equals the line-by-line one
// (store/generic-select.ts).


const T0 = 1_795_428_000_000_000_000n
const S = 1_000_000_000n
const WORDS = ['GET /api', 'upstream timeout', 'ERROR failed', 'WARN slow', 'stdout says', 'severity high', '{"level":"info","msg":"ok"}', 'level=debug msg=x', 'héllo wörld', 'status=500']

/** Lines [from, from + n) of 6 streams: equal times within and across streams, some out of order, stdout and stderr, syslog severities. */
function corpus (seed: number, from: number, n: number): StreamBatch[] {
  const rng = new Rng(seed)
  const out: StreamBatch[] = []
  for (let s = 0; s < 6; s++) {
    const stream: StreamTags = { id: `s${s}`, source: 'file', node: 'n1', deployment: s < 3 ? 'cf' : 'shop', job: `j${s % 4}`, index: String(s), process: 'p', path: `/var/log/${s}.log`, namespace: s < 3 ? 'cf' : 'shop', org: 'o1' }
    const entries: Entry[] = []
    for (let i = from; i < from + n; i++) {
      // Whole seconds, often equal; one line in 10 a few seconds early (not time-ordered).
      const t = T0 + S * BigInt(Math.floor(i / 2) - (rng.int(10) === 0 ? rng.int(5) : 0))
      const e: Entry = [String(t), i * 100, `${rng.pick(WORDS)} ${rng.int(20)}`, rng.int(3) === 0 ? 'stderr' : 'stdout']
      if (s === 5 && rng.int(2) === 0) e[4] = { severity: rng.int(2) === 0 ? 'err' : 'info' }
      entries.push(e)
    }
    out.push({ stream, entries })
  }
  return out
}

const SELECTORS: LabelMatcher[][] = [
  [],
  [{ name: 'namespace', op: '=', value: 'shop' }],
  [{ name: 'stream', op: '=', value: 'stderr' }],
  [{ name: 'level', op: '=~', value: 'error|warn' }]
]
const FILTERS: LineFilter[][] = [
  [],
  [{ op: '|=', value: 'timeout' }],
  // In every record's header, and in some messages.
  [{ op: '|=', value: 'stdout' }],
  // In the attributes of s5's lines, and in some messages.
  [{ op: '|=', value: 'severity' }],
  // A message that ends in 7 followed by the next record: a match across a message's end.
  [{ op: '|=', value: '7\nE ' }],
  [{ op: '|=', value: 'up' }, { op: '|=', value: 'upstream timeout' }, { op: '!=', value: '1' }],
  [{ op: '|=', value: 'e' }, { op: '|~', value: '[0-9]{2}$' }],
  [{ op: '!=', value: 'GET' }],
  [{ op: '|=', value: 'ö' }],
  [{ op: '|=', value: 'TIMEOUT' }]
]

async function collect (it: AsyncIterable<SelectedLine[]>): Promise<SelectedLine[]> {
  const out: SelectedLine[] = []
  for await (const b of it) out.push(...b)
  return out
}

const lineKey = (l: SelectedLine) => `${l.stream.id}:${l.offset}:${l.ts}:${l.level}:${l.stdio}:${l.line}:${JSON.stringify(l.attrs ?? null)}`

const norm = normSamples

/** Every selector × filter × range or step geometry: the native answers equal the line-by-line ones. */
async function compareAll (store: EmbeddedStore): Promise<number> {
  let checked = 0
  const ranges: Array<[bigint, bigint]> = [[T0 - 10n * S, T0 + 10_000n * S], [T0 + 50n * S, T0 + 123n * S], [T0 + 100n * S, T0 + 100n * S + 1n]]
  // Steps whose boundaries fall on lines' times (whole seconds) and between them.
  const geometries = [
    { startNs: T0, stepNs: 7n * S, steps: 60, rangeNs: 7n * S },
    { startNs: T0 + 3n * S, stepNs: 5n * S, steps: 90, rangeNs: 11n * S },
    { startNs: T0 + S / 2n, stepNs: 10n * S, steps: 40, rangeNs: 10n * S }
  ]
  for (const matchers of SELECTORS) {
    for (const lineFilters of FILTERS) {
      for (const [fromNs, toNs] of ranges) {
        for (const direction of ['forward', 'backward'] as const) {
          const p = { matchers, lineFilters, fromNs, toNs, direction }
          const want = (await collect(genericSelectLogs(store, p))).map(lineKey)
          const got = (await collect(store.selectLogs(p))).map(lineKey)
          assert.deepEqual(got, want, JSON.stringify({ matchers, lineFilters, direction, fromNs: String(fromNs - T0), toNs: String(toNs - T0) }))
          checked++
        }
      }
      for (const g of geometries) {
        const p = { matchers, lineFilters, fromNs: g.startNs - g.rangeNs + 1n, toNs: g.startNs + g.stepNs * BigInt(g.steps - 1) + 1n, ...g }
        assert.deepEqual(norm(await store.selectSamples(p)), norm(await genericSelectSamples(store, p)), JSON.stringify({ matchers, lineFilters, startNs: String(g.startNs - T0), stepNs: String(g.stepNs) }))
        checked++
      }
    }
    const v = { matchers, fromNs: T0 + 30n * S, toNs: T0 + 170n * S }
    const vnorm = (vs: Awaited<ReturnType<typeof genericVariants>>) => vs.map((x) => `${x.stream.id} ${x.stdio} ${x.level} ${x.lines} ${x.bytes}`).sort()
    assert.deepEqual(vnorm(await store.variants(v)), vnorm(await genericVariants(store, v)), JSON.stringify(matchers))
  }
  return checked
}

interface IndexRow { first_offset: number, min_ts: bigint, lines: number, data: Buffer, line_index: Buffer | null }

function indexRows (db: Database.Database): IndexRow[] {
  return db.prepare(`SELECT first_offset, min_ts, lines, data, line_index FROM ${BLOCK_ROWS} ORDER BY sid, first_offset`).safeIntegers(true).all()
    .map((r: any) => ({ ...r, first_offset: Number(r.first_offset), lines: Number(r.lines) })) as IndexRow[]
}

/** A block's line index says, line by line, what its records say. */
function checkLineIndex (r: IndexRow): void {
  const records = decodeRecords(r.data)
  const cols = new LineColumns().decode(r.line_index!, r.lines)
  const v = new EntryView()
  let i = 0
  for (let pos = 0; pos < records.length; i++) {
    pos = readEntry(records, pos, v)
    const ts = BigInt(records.toString('latin1', v.tsStart, v.tsEnd))
    const stdio = records.toString('latin1', v.stdioStart, v.stdioEnd)
    assert.equal(BigInt(cols.time[i]!), ts - r.min_ts, `line ${i}'s time`)
    assert.deepEqual([cols.msgStart[i], cols.msgLen[i], cols.stdio[i]], [v.msgStart, v.msgLen, ['-', 'stdout', 'stderr'].indexOf(stdio)], `line ${i}'s message`)
  }
  assert.equal(i, r.lines)
}

test('schema 3 → 4 in place: old blocks have no line index and are read as before, new blocks have one, and every answer over both equals the line-by-line one', async (t) => {
  const dir = storeDir(t, 'daytwo-store4-')
  const file = join(dir, 'daytwo.sqlite')
  // A schema-3 file: this daytwo's file less what version 4 added (its migration is that one
  // column), with blocks as version 3 wrote them.
  let store = await EmbeddedStore.open(dir, { blockLines: 9 })
  await store.write(corpus(1, 0, 150))
  await store.close()
  const old = new Database(file)
  old.exec(TO_SCHEMA_4)
  old.exec("ALTER TABLE blocks DROP COLUMN line_index; UPDATE meta SET value = '3' WHERE key = 'schema_version'")
  old.close()

  store = await EmbeddedStore.open(dir, { blockLines: 9, scanWorkers: 2 })
  t.after(async () => { await store.close() })
  await store.write(corpus(2, 150, 150))
  const db = new Database(file, { readonly: true })
  t.after(() => db.close())
  assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, String(SCHEMA_VERSION))
  const rows = indexRows(db)
  const oldRows = rows.filter((r) => r.first_offset < 150 * 100)
  const newRows = rows.filter((r) => r.first_offset >= 150 * 100)
  assert.ok(oldRows.length > 50 && newRows.length > 50, `${oldRows.length} old and ${newRows.length} new blocks`)
  assert.ok(oldRows.every((r) => r.line_index === null), 'blocks of schema 3 have no line index')
  for (const r of newRows) checkLineIndex(r)
  const checked = await compareAll(store)
  assert.ok(checked > 200, `${checked} questions`)
})

test('a new file\'s blocks all have line indexes that say what their records say, also when their lines are not time-ordered', async (t) => {
  const dir = storeDir(t, 'daytwo-store4-')
  const store = await EmbeddedStore.open(dir, { blockLines: 11, scanWorkers: 2 })
  t.after(async () => { await store.close() })
  await store.write(corpus(3, 0, 300))
  const db = new Database(join(dir, 'daytwo.sqlite'), { readonly: true })
  t.after(() => db.close())
  const rows = indexRows(db)
  assert.ok(rows.length > 100)
  for (const r of rows) checkLineIndex(r)
})

test('a block whose times span more than the line index holds exactly, or with another stdio, has none, and is still answered', async (t) => {
  const dir = storeDir(t, 'daytwo-store4-')
  const store = await EmbeddedStore.open(dir, { blockLines: 100, scanWorkers: 1 })
  t.after(async () => { await store.close() })
  const tags = (id: string): StreamTags => ({ id, source: 'file', node: 'n', deployment: 'd', job: id === 'file' ? 'other' : 'j', index: '0', process: 'p', path: `/${id}` })
  // 2^52 ns are 52 days: a line from 1970 in a block of today's.
  await store.write([
    { stream: tags('wide'), entries: [['5', 0, 'timeout early', 'stdout'], [String(T0), 1, 'timeout now', 'stdout']] },
    { stream: tags('file'), entries: [[String(T0), 0, 'timeout a', 'file'], [String(T0 + S), 1, 'timeout b', 'stdout']] },
    { stream: tags('fine'), entries: [[String(T0), 0, 'timeout c', 'stdout'], [String(T0 + S), 1, 'timeout d', 'stderr']] }
  ])
  const db = new Database(join(dir, 'daytwo.sqlite'), { readonly: true })
  t.after(() => db.close())
  const has = db.prepare(`SELECT s.id, b.line_index IS NOT NULL AS has FROM ${BLOCK_ROWS} b JOIN streams s USING (sid) ORDER BY s.id`).all() as Array<{ id: string, has: number }>
  assert.deepEqual(has.map((r) => [r.id, r.has]), [['file', 0], ['fine', 1], ['wide', 0]])
  // Not the stream of stdio `file`: the record walk reads it as none, line-by-line reading as
  // `file` (as before schema 4; the collector takes only stdout, stderr or none).
  const matchers: LabelMatcher[] = [{ name: 'job', op: '=', value: 'j' }]
  for (const lineFilters of [[], [{ op: '|=', value: 'timeout' }]] as LineFilter[][]) {
    const p = { matchers, lineFilters, fromNs: 0n, toNs: T0 + 10n * S, direction: 'forward' as const }
    assert.deepEqual((await collect(store.selectLogs(p))).map(lineKey), (await collect(genericSelectLogs(store, p))).map(lineKey))
    const q = { matchers, lineFilters, fromNs: T0 - 10n * S, toNs: T0 + 10n * S, startNs: T0, stepNs: S, steps: 10, rangeNs: S }
    assert.deepEqual(norm(await store.selectSamples(q)), norm(await genericSelectSamples(store, q)))
  }
})

test('line index: times out of order, long messages and gaps survive encoding; a position maps to the line whose message starts at or before it', () => {
  const rng = new Rng(7)
  const b = new LineIndexBuilder()
  const cols = new LineColumns()
  for (let round = 0; round < 50; round++) {
    const n = 1 + rng.int(300)
    const want: Array<[number, number, number, number]> = []
    let at = 0
    for (let i = 0; i < n; i++) {
      const t = rng.int(3) === 0 ? rng.int(2 ** 40) * 4096 : rng.int(1000)
      at += 1 + rng.int(rng.int(2) === 0 ? 100 : 70_000)
      const len = rng.int(rng.int(2) === 0 ? 50 : 1 << 20)
      want.push([t, at, len, rng.int(3)])
      b.add(t, at, len, want[i]![3])
      at += len
    }
    cols.decode(b.finish()!, n)
    assert.deepEqual(Array.from({ length: n }, (_, i) => [cols.time[i], cols.msgStart[i], cols.msgLen[i], cols.stdio[i]]), want)
    for (let k = 0; k < 50; k++) {
      const pos = rng.int(at + 10)
      const from = rng.int(n)
      let line = from - 1
      for (let i = from; i < n && want[i]![1] <= pos; i++) line = i
      assert.equal(cols.lineAt(pos, from), line, `position ${pos} from line ${from}`)
    }
  }
  assert.throws(() => cols.decode(Buffer.from([1, 0, 0]), 1), /cut short/)
  assert.throws(() => cols.decode(Buffer.from([9]), 0), /unknown format/)
})
