import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { getEventListeners } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { genericSelectLogs, genericSelectSamples, genericVariants } from '../../store/generic-select.js'
import type { LabelMatcher, LineFilter, SelectedLine } from '../../store/select-params.js'

// The embedded store's native answers (time-ordered block merge, summaries, scan workers)
// against the same questions answered line by line from read() (store/generic-select.ts),
// on blocks of 7 lines so that every limit and step cuts blocks, with many equal times
// across streams and within one.

const T0 = 1_795_428_000_000_000_000n
const S = 1_000_000_000n

function rng (seed: number): () => number {
  let x = seed >>> 0
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32 }
}

const WORDS = ['GET /api', 'upstream timeout', 'ERROR failed', 'WARN slow', '{"level":"info","msg":"ok"}', 'level=debug msg=x', 'héllo wörld', 'status=500']

function corpus (seed: number): StreamBatch[] {
  const r = rng(seed)
  const out: StreamBatch[] = []
  for (let s = 0; s < 6; s++) {
    const tags: StreamTags = { id: `s${s}`, source: 'file', node: 'n1', deployment: s < 3 ? 'cf' : 'shop', job: `j${s % 4}`, index: String(s), process: 'p', path: `/var/log/${s}.log`, namespace: s < 3 ? 'cf' : 'shop', org: s % 2 === 0 ? 'o1' : 'o2' }
    const entries: Entry[] = []
    let t = T0
    for (let i = 0; i < 300; i++) {
      // Times advance in whole seconds, often not at all: equal times within and across streams.
      if (r() < 0.6) t += S * BigInt(Math.floor(r() * 3))
      const w = WORDS[Math.floor(r() * WORDS.length)]!
      const e: Entry = [String(t), i * 100, `${w} ${Math.floor(r() * 20)}`, r() < 0.3 ? 'stderr' : 'stdout']
      if (s === 5 && r() < 0.5) e[4] = { severity: r() < 0.5 ? 'err' : 'info' }
      entries.push(e)
    }
    out.push({ stream: tags, entries })
  }
  return out
}

async function open (t: { after: (fn: () => Promise<void>) => void }, blockLines = 7): Promise<EmbeddedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-select-'))
  const store = await EmbeddedStore.open(dir, { blockLines, scanWorkers: 2 })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  return store
}

async function collect (it: AsyncIterable<SelectedLine[]>, limit: number): Promise<SelectedLine[]> {
  const out: SelectedLine[] = []
  for await (const b of it) for (const l of b) { out.push(l); if (out.length >= limit) return out }
  return out
}

const key = (l: SelectedLine) => `${l.stream.id}:${l.offset}:${l.ts}:${l.level}:${l.stdio}:${l.line}`

const SELECTORS: LabelMatcher[][] = [
  [],
  [{ name: 'namespace', op: '=', value: 'shop' }],
  [{ name: 'job', op: '=~', value: 'j[12]' }],
  [{ name: 'deployment', op: '!=', value: 'cf' }, { name: 'stream', op: '=', value: 'stderr' }],
  [{ name: 'level', op: '=~', value: 'error|warn' }],
  [{ name: 'detected_level', op: '!~', value: 'info|unknown' }, { name: 'index', op: '!=', value: '2' }]
]
const FILTERS: LineFilter[][] = [[], [{ op: '|=', value: 'timeout' }], [{ op: '!=', value: 'GET' }, { op: '|~', value: '[0-9]{2}$' }], [{ op: '|=', value: 'ö' }]]

test('log queries: the native time-ordered merge equals the line-by-line answer, both directions, limits inside blocks', async (t) => {
  const store = await open(t)
  await store.write(corpus(1))
  const ranges: Array<[bigint, bigint]> = [[T0 - S, T0 + 10_000n * S], [T0 + 50n * S, T0 + 200n * S], [T0 + 100n * S, T0 + 100n * S + 1n]]
  let checked = 0
  for (const matchers of SELECTORS) {
    for (const lineFilters of FILTERS) {
      for (const [fromNs, toNs] of ranges) {
        for (const direction of ['forward', 'backward'] as const) {
          const p = { matchers, lineFilters, fromNs, toNs, direction }
          const want = await collect(genericSelectLogs(store, p), Infinity)
          for (const limit of [1, 13, 100, 5000]) {
            const got = await collect(store.selectLogs(p), limit)
            assert.deepEqual(got.map(key), want.slice(0, limit).map(key), `${JSON.stringify({ matchers, lineFilters, direction, limit, fromNs: String(fromNs - T0) })}`)
            checked++
          }
        }
      }
    }
  }
  assert.ok(checked > 500)
})

test('a tenant org limits every answer to its streams', async (t) => {
  const store = await open(t)
  await store.write(corpus(2))
  const got = await collect(store.selectLogs({ matchers: [], org: 'o2', lineFilters: [], fromNs: T0 - S, toNs: T0 + 10_000n * S, direction: 'backward' }), Infinity)
  assert.ok(got.length > 0)
  assert.deepEqual([...new Set(got.map((l) => l.stream.org))], ['o2'])
  const v = await store.variants({ matchers: [{ name: 'org', op: '=', value: 'o1' }], org: 'o2', fromNs: T0 - S, toNs: T0 + 10_000n * S })
  assert.deepEqual(v, [])
})

test('metric counts: summaries and scanned blocks equal counting every line, for steps that cut blocks and ranges unequal to steps', async (t) => {
  const store = await open(t)
  await store.write(corpus(3))
  const geometries: Array<{ startNs: bigint, stepNs: bigint, steps: number, rangeNs: bigint }> = [
    { startNs: T0, stepNs: 7n * S, steps: 60, rangeNs: 7n * S },
    { startNs: T0 + 3n * S, stepNs: 5n * S, steps: 90, rangeNs: 60n * S },
    { startNs: T0 - 10n * S, stepNs: 60n * S, steps: 10, rangeNs: 30n * S },
    { startNs: T0 + 400n * S, stepNs: 1n, steps: 1, rangeNs: 3600n * S }
  ]
  const norm = (vs: Awaited<ReturnType<typeof genericSelectSamples>>) => vs.map((v) => `${v.stream.id} ${v.stdio} ${v.level} ${[...v.lines].join(',')} ${[...v.bytes].join(',')}`).sort()
  for (const matchers of SELECTORS) {
    for (const lineFilters of FILTERS) {
      for (const g of geometries) {
        const lastNs = g.startNs + g.stepNs * BigInt(g.steps - 1)
        const p = { matchers, lineFilters, fromNs: g.startNs - g.rangeNs + 1n, toNs: lastNs + 1n, ...g }
        // Difference arrays may differ in where a count starts and stops only as prefix sums do not.
        const prefix = (vs: Awaited<ReturnType<typeof genericSelectSamples>>) => vs.map((v) => ({ ...v, lines: runSum(v.lines), bytes: runSum(v.bytes) })).filter((v) => v.lines.some((x) => x !== 0))
        assert.deepEqual(norm(prefix(await store.selectSamples(p))), norm(prefix(await genericSelectSamples(store, p))), JSON.stringify({ matchers, lineFilters, g: { ...g, startNs: String(g.startNs - T0), stepNs: String(g.stepNs), rangeNs: String(g.rangeNs) } }))
      }
    }
  }
})

function runSum (d: Float64Array): Float64Array {
  const out = new Float64Array(d.length - 1)
  let run = 0
  for (let k = 0; k < out.length; k++) { run += d[k]!; out[k] = run }
  return out
}

test('label variants over the whole range equal the lines stored, per stream, stdio and level', async (t) => {
  const store = await open(t)
  await store.write(corpus(4))
  for (const matchers of SELECTORS) {
    const p = { matchers, fromNs: T0 - S, toNs: T0 + 10_000n * S }
    const norm = (vs: Awaited<ReturnType<typeof genericVariants>>) => vs.map((v) => `${v.stream.id} ${v.stdio} ${v.level} ${v.lines} ${v.bytes}`).sort()
    assert.deepEqual(norm(await store.variants(p)), norm(await genericVariants(store, p)), JSON.stringify(matchers))
  }
})

test('an aborted query stops: waiting scans are dropped and a running scan worker is terminated', async (t) => {
  const store = await open(t, 1000)
  const big: Entry[] = []
  const long = 'x'.repeat(2000)
  for (let i = 0; i < 60_000; i++) big.push([String(T0 + BigInt(i) * 1000n), i * 3000, `${long} ${i}`, 'stdout'])
  for (let i = 0; i < big.length; i += 10_000) await store.write([{ stream: { id: 'big', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/b' }, entries: big.slice(i, i + 10_000) }])
  const before = store.scanStats.terminated
  const ctl = new AbortController()
  // A regex no line matches makes every worker decode every line it is given.
  const run = store.selectSamples({ matchers: [], lineFilters: [{ op: '|~', value: 'y[0-9]+z' }], fromNs: T0, toNs: T0 + 10n ** 12n, startNs: T0 + 10n ** 12n - 1n, stepNs: 1n, steps: 1, rangeNs: 10n ** 12n, signal: ctl.signal })
  setTimeout(() => ctl.abort(new Error('client gone')), 30)
  await assert.rejects(run, /client gone/)
  assert.ok(store.scanStats.terminated > before, 'a worker was terminated')
  // The pool is whole again: the next question is answered.
  const after = await collect(store.selectLogs({ matchers: [], lineFilters: [], fromNs: T0, toNs: T0 + 10n ** 12n, direction: 'backward' }), 5)
  assert.equal(after.length, 5)
  assert.equal(after[0]!.offset, 59_999 * 3000)
})

test('a query leaves no listener on its signal: each task removes its own when it ends, however many it queued', async (t) => {
  const store = await open(t, 3)
  await store.write(corpus(11))
  const warnings: string[] = []
  const onWarning = (w: Error) => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.after(() => { process.off('warning', onWarning) })
  const ctl = new AbortController()
  const p = { matchers: [], fromNs: T0 - 10n ** 12n, toNs: T0 + 10n ** 13n, signal: ctl.signal }
  await store.selectSamples({ ...p, lineFilters: [{ op: '|~', value: '[0-9]' }], startNs: T0 + 10n ** 13n - 1n, stepNs: 1n, steps: 1, rangeNs: 10n ** 13n })
  const lines = await collect(store.selectLogs({ ...p, lineFilters: [{ op: '|=', value: 'a' }], direction: 'backward' }), 3)
  assert.equal(lines.length, 3)
  // Tasks still running when the reader stopped end on their own (bounded: a few blocks each).
  for (let i = 0; i < 100 && getEventListeners(ctl.signal, 'abort').length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(getEventListeners(ctl.signal, 'abort').length, 0)
  // Nor more than Node's 10 at a time, on this signal or on the reader's own.
  const all = await collect(store.selectLogs({ ...p, lineFilters: [], direction: 'forward' }), 1e9)
  assert.ok(all.length > 500, `${all.length} lines`)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(warnings, [])
})
