import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { CELLS, eachMinute, encodeMinutes, MAX_MINUTES, minuteOf } from '../../store/embedded/block-index.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { SCHEMA_VERSION } from '../../store/embedded/schema.js'
import { genericSelectSamples } from '../../store/generic-select.js'
import type { LabelMatcher, LineFilter, ReadStats, SampleParams } from '../../store/select-params.js'
import { BLOCK_ROWS, normSamples, storeDir, TO_SCHEMA_4 } from '../helpers/block-rows.js'
import { Rng } from '../helpers/faults.js'

// Schema 5 of the embedded store: block metadata in tables of their own, and each block's
// summary per minute (store/embedded/block-index.ts), from which a metric query on whole
// minutes counts a block that straddles its steps without reading a line. Every count equals
// the line-by-line one (store/generic-select.ts), at lines exactly on a minute's end too.


const S = 1_000_000_000n
const M = 60n * S
/** On a whole minute. */
const T0 = 1_795_428_000n * S
const WORDS = ['GET /api', 'ERROR failed', 'WARN slow', 'level=debug msg=x', 'upstream timeout', '{"level":"info"}']

/** Lines [from, from + n) of 5 streams over ~12 minutes: every 7th exactly on a minute's end, some out of order, some 1 ns off one. */
function corpus (seed: number, from: number, n: number): StreamBatch[] {
  const rng = new Rng(seed)
  const out: StreamBatch[] = []
  for (let s = 0; s < 5; s++) {
    const stream: StreamTags = { id: `s${s}`, source: 'file', node: 'n1', deployment: s < 2 ? 'cf' : 'shop', job: `j${s % 3}`, index: String(s), process: 'p', path: `/var/log/${s}.log`, namespace: s < 2 ? 'cf' : 'shop' }
    const entries: Entry[] = []
    for (let i = from; i < from + n; i++) {
      let t = T0 + BigInt(i) * 2_300_000_000n + BigInt(rng.int(1000))
      if (i % 7 === 0) t = T0 + M * BigInt(Math.floor(i / 26)) + BigInt(rng.int(3) - 1)
      if (rng.int(12) === 0) t -= BigInt(rng.int(90)) * S
      const e: Entry = [String(t), i * 10, `${rng.pick(WORDS)} ${rng.int(50)}`, rng.int(3) === 0 ? 'stderr' : 'stdout']
      if (s === 4 && rng.int(2) === 0) e[4] = { severity: rng.int(2) === 0 ? 'err' : 'info' }
      entries.push(e)
    }
    out.push({ stream, entries })
  }
  return out
}

const norm = normSamples

const SELECTORS: LabelMatcher[][] = [[], [{ name: 'namespace', op: '=', value: 'shop' }], [{ name: 'level', op: '=~', value: 'error|info' }], [{ name: 'stream', op: '!=', value: 'stderr' }]]
/** Whole-minute geometries (counted from minutes) and two that are not (scanned). */
const WHOLE = [
  { startNs: T0, stepNs: M, steps: 14, rangeNs: M },
  { startNs: T0 + 2n * M, stepNs: 2n * M, steps: 5, rangeNs: 5n * M },
  { startNs: T0 + 5n * M, stepNs: 3n * M, steps: 2, rangeNs: M }
]
const PARTIAL = [
  { startNs: T0 + S, stepNs: M, steps: 12, rangeNs: M },
  { startNs: T0, stepNs: 30n * S, steps: 20, rangeNs: M }
]

async function compare (store: EmbeddedStore, geometry: typeof WHOLE[number], matchers: LabelMatcher[], lineFilters: LineFilter[] = []): Promise<ReadStats> {
  const stats: ReadStats = { lines: 0, bytes: 0, blocks: 0, skipped: 0 }
  const p: SampleParams = { matchers, lineFilters, fromNs: geometry.startNs - geometry.rangeNs + 1n, toNs: geometry.startNs + geometry.stepNs * BigInt(geometry.steps - 1) + 1n, ...geometry }
  const got = norm(await store.selectSamples({ ...p, stats }))
  const want = norm(await genericSelectSamples(store, p))
  assert.deepEqual(got, want, JSON.stringify({ matchers, startMin: String((geometry.startNs - T0) / M), step: String(geometry.stepNs / S) }))
  assert.ok(want.length > 0, 'something to count')
  return stats
}

test('minutes: a line belongs to the minute it ends no later than; random cells decode as encoded; damaged ones are refused', () => {
  assert.equal(minuteOf(120, 0), 2)
  assert.equal(minuteOf(120, 1), 3)
  assert.equal(minuteOf(119, 999_999_999), 2)
  assert.equal(minuteOf(0, 0), 0)
  const rng = new Rng(9)
  for (let round = 0; round < 200; round++) {
    const span = 1 + rng.int(MAX_MINUTES)
    const first = rng.int(30_000_000)
    const cells = new Float64Array(span * 2 * CELLS)
    for (let k = 0; k < 1 + rng.int(40); k++) {
      const at = rng.int(span) * 2 * CELLS + 2 * rng.int(CELLS)
      cells[at] = 1 + rng.int(5000)
      cells[at + 1] = rng.int(3) === 0 ? 0 : rng.int(2 ** 40)
    }
    const seen = new Float64Array(span * 2 * CELLS)
    let last = -1
    const b = encodeMinutes(cells, first, span)
    eachMinute(b, (m, c) => {
      assert.ok(m > last && m >= first && m < first + span, `minute ${m} in order`)
      last = m
      seen.set(c, (m - first) * 2 * CELLS)
    })
    assert.deepEqual(seen, cells)
    assert.throws(() => eachMinute(b.subarray(0, b.length - 1), () => {}), /cut short/)
  }
  assert.throws(() => eachMinute(Buffer.from([7, 3, 8, 0, 0]), () => {}), /unknown format/)
})

test('a metric query on whole minutes counts every block from its minutes, without a scan, and equals the line-by-line count', async (t) => {
  const dir = storeDir(t, 'daytwo-store5-')
  const store = await EmbeddedStore.open(dir, { blockLines: 13, scanWorkers: 2 })
  t.after(async () => { await store.close() })
  await store.write(corpus(1, 0, 300))
  for (const matchers of SELECTORS) {
    for (const g of WHOLE) {
      const stats = await compare(store, g, matchers)
      assert.equal(stats.blocks, 0, 'no block scanned')
    }
    for (const g of PARTIAL) await compare(store, g, matchers)
    // A line filter must look at lines: the minutes cannot answer it.
    const stats = await compare(store, WHOLE[0]!, matchers, [{ op: '|=', value: 'E' }])
    assert.ok(stats.blocks > 0)
  }
  const db = new Database(join(dir, 'daytwo.sqlite'), { readonly: true })
  t.after(() => db.close())
  const straddling = db.prepare('SELECT count(*) AS n FROM block_meta WHERE (max_ts - 1) / 60000000000 > (min_ts - 1) / 60000000000').get() as { n: number }
  assert.ok(straddling.n > 20, `${straddling.n} blocks straddle a minute`)
})

test('schema 4 → 5 in place: metadata moves to its tables, old blocks have no minutes and are scanned, new ones are counted, and retention leaves no rows behind', async (t) => {
  const dir = storeDir(t, 'daytwo-store5-')
  const file = join(dir, 'daytwo.sqlite')
  let store = await EmbeddedStore.open(dir, { blockLines: 11 })
  await store.write(corpus(2, 0, 150))
  await store.close()
  const old = new Database(file)
  old.exec(TO_SCHEMA_4)
  old.close()

  // Retention of a day, run by hand below (checkMs: not before the test ends).
  store = await EmbeddedStore.open(dir, { blockLines: 11, scanWorkers: 2, retention: { days: 1, maxBytes: 0, checkMs: 3_600_000 } })
  t.after(async () => { await store.close() })
  await store.write(corpus(3, 150, 150))
  const db = new Database(file, { readonly: true })
  t.after(() => db.close())
  assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, String(SCHEMA_VERSION))
  const rows = db.prepare(`SELECT first_offset, summary, minutes, levels, line_index, bloom FROM ${BLOCK_ROWS}`).all() as Array<{ first_offset: number, summary: Buffer | null, minutes: Buffer | null, levels: Buffer | null, line_index: Buffer | null, bloom: Buffer | null }>
  const oldRows = rows.filter((r) => r.first_offset < 1500)
  const newRows = rows.filter((r) => r.first_offset >= 1500)
  assert.ok(oldRows.length > 40 && newRows.length > 40)
  assert.ok(oldRows.every((r) => r.minutes === null && r.summary !== null && r.levels !== null && r.line_index !== null && r.bloom !== null), 'old blocks keep what schema 4 kept')
  assert.ok(newRows.every((r) => r.minutes !== null), 'new blocks have minutes')
  for (const matchers of SELECTORS) {
    for (const g of [...WHOLE, ...PARTIAL]) await compare(store, g, matchers)
  }
  const whole = await compare(store, WHOLE[0]!, [])
  assert.ok(whole.blocks > 0 && whole.blocks <= oldRows.length, `${whole.blocks} blocks scanned: only old ones`)

  // Retention by age drops blocks of every table.
  const counts = () => ['blocks', 'block_meta', 'block_lines', 'block_blooms'].map((n) => (db.prepare(`SELECT count(*) AS n FROM ${n}`).get() as { n: number }).n)
  const before = counts()
  const res = await store.enforceRetention(Number((T0 + 6n * M) / 1_000_000n) + 86_400_000)
  assert.ok(res.blocks > 0 && res.blocks < before[0]!, `${res.blocks} of ${before[0]} blocks deleted`)
  const after = counts()
  assert.deepEqual(after, after.map(() => before[0]! - res.blocks), `rows left per table: ${after.join(', ')}`)
  for (const g of WHOLE) await compare(store, g, [])
})
