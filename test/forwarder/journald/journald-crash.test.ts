import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { entryAt, journaldConfig, journalRemoteMissing, writeJournal, type JournalFields } from '../../helpers/journal-remote.js'
import { operatorToken } from '../../helpers/query-api.js'
import { metricValue, readLogs } from '../../helpers/syslog-senders.js'

// kill -9 of the forwarder (with its collector) while it ships a journal, more entries written
// while it is down, and a restart: the cursor was checkpointed only for acknowledged entries,
// and the per-stream offsets with it, so every entry is stored exactly once, under ids that
// count the stream's entries from 0.

const T0 = 1_795_000_000_000_000n

function entries (from: number, to: number): JournalFields[] {
  const out: JournalFields[] = []
  for (let i = from; i < to; i++) out.push(entryAt(T0 + BigInt(i), { _HOSTNAME: 'node-k', _SYSTEMD_UNIT: i % 3 === 0 ? 'db.service' : 'app.service', PRIORITY: '6', MESSAGE: `message ${i} ${'p'.repeat(i % 40)}` }))
  return out
}

async function metrics (d: DaytwoProcess): Promise<string> {
  return await (await fetch(`${d.urls.forwarder}/metrics`)).text()
}

test('kill -9 mid-journal, entries written while down, restart: every entry stored once, offsets per stream from 0', { skip: journalRemoteMissing(), timeout: 180_000 }, async (t) => {
  const tmp = tempDir('daytwo-journald-crash-')
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  const dir = join(tmp.path, 'journal')
  const N = 30_000
  const M = 1000
  writeJournal(dir, 'a', entries(0, N))
  const cfg = journaldConfig(tmp.path, {}, { token: 'crash-token', batchMaxLines: 200, maxQueuedBatches: 1 })
  d = await startDaytwo('all', cfg, tmp.path)
  const token = operatorToken(join(tmp.path, 'data'))
  let page = ''
  let shipped = 0
  assert.ok(await waitFor(async () => (shipped = metricValue(page = await metrics(d!), 'daytwo_forwarder_lines_shipped_total')) >= 3000, 60_000, 5), page)
  await d.kill()
  assert.ok(shipped < N, `the kill came in the middle of the journal (${shipped} of ${N} shipped)`)
  const saved = JSON.parse(readFileSync(join(tmp.path, 'data', 'forwarder', 'journald-cursor.json'), 'utf8')) as { cursor: string | null, offsets: Record<string, number> }
  assert.ok(saved.cursor !== null, 'a cursor was checkpointed')
  writeJournal(dir, 'b', entries(N, N + M))

  d = await startDaytwo('all', cfg, tmp.path)
  const want = N + M
  const count = async () => (await readLogs(d!.urls.query!, token, 'journald')).reduce((s, g) => s + g.entries.length, 0)
  let n = 0
  assert.ok(await waitFor(async () => (n = await count()) >= want, 90_000, 200), `stored ${n} of ${want}\n${d.stderr()}`)
  assert.ok(await waitFor(async () => metricValue(page = await metrics(d!), 'daytwo_forwarder_queued_batches') === 0, 10_000), page)
  const groups = await readLogs(d.urls.query!, token, 'journald')
  const ids = groups.flatMap((g) => g.entries.map((e) => `${g.stream.id}:${e[1]}`))
  assert.equal(new Set(ids).size, ids.length, 'no record id twice')
  const nums = groups.flatMap((g) => g.entries.map((e) => Number(/^message (\d+)/.exec(e[2])?.[1]))).sort((a, b) => a - b)
  assert.equal(nums.length, want, 'nothing doubled')
  assert.deepEqual(nums, Array.from({ length: want }, (_, i) => i), 'every entry exactly once')
  const offsets = new Map<string, number[]>()
  for (const g of groups) offsets.set(g.stream.job, [...(offsets.get(g.stream.job) ?? []), ...g.entries.map((e) => e[1])])
  assert.deepEqual([...offsets.keys()].sort(), ['app', 'db'])
  for (const [job, offs] of offsets) {
    const share = job === 'db' ? Math.ceil(want / 3) : want - Math.ceil(want / 3)
    assert.deepEqual(offs.sort((a, b) => a - b), Array.from({ length: share }, (_, i) => i), `${job}: offsets count its entries`)
  }
})

test('journald from now (readFrom tail): older entries are not shipped, newer ones are, and a restart continues after the last one', { skip: journalRemoteMissing(), timeout: 120_000 }, async (t) => {
  const tmp = tempDir('daytwo-journald-tail-')
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  const dir = join(tmp.path, 'journal')
  writeJournal(dir, 'old', entries(0, 5))
  const cfg = journaldConfig(tmp.path, { readFrom: 'tail' }, { token: 'tail-token' })
  d = await startDaytwo('all', cfg, tmp.path)
  const token = operatorToken(join(tmp.path, 'data'))
  // A forwarder killed before it shipped anything still starts after the entries of its first start.
  await d.kill()
  writeJournal(dir, 'new', entries(5, 8))
  d = await startDaytwo('all', cfg, tmp.path)
  const msgs = async () => (await readLogs(d!.urls.query!, token, 'journald')).flatMap((g) => g.entries.map((e) => e[2])).sort()
  let got: string[] = []
  assert.ok(await waitFor(async () => (got = await msgs()).length >= 3, 20_000), `${got.length}\n${d.stderr()}`)
  assert.deepEqual(got.map((m) => Number(/^message (\d+)/.exec(m)?.[1])), [5, 6, 7])
})

test('journalctl missing: a clear error, restarts with backoff counted, the forwarder keeps running', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('daytwo-journald-missing-')
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  d = await startDaytwo('all', journaldConfig(tmp.path, { journalctl: join(tmp.path, 'no-such-journalctl') }, { token: 'missing-token', retryMaxMs: 200 }), tmp.path)
  let page = ''
  assert.ok(await waitFor(async () => metricValue(page = await (await fetch(`${d!.urls.forwarder}/metrics`)).text(), 'daytwo_forwarder_journald_restarts_total', { reason: 'missing' }) >= 3, 20_000), page)
  assert.match(d.stderr() + d.stdout(), /journald source: .*no-such-journalctl.*ENOENT.*is systemd's journalctl installed/)
  assert.equal(metricValue(page, 'daytwo_forwarder_journald_restarts_total', { reason: 'exited' }), 0)
})
