import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBoshDaytwo, storedMessages } from '../helpers/bosh-daytwo.js'
import { operatorToken } from '../helpers/query-api.js'
import { waitFor } from '../helpers/daytwo-process.js'

// A BOSH job's plain log, tailed by a real `serve all` and read back the way Grafana's log
// context reads it: `query_range` backward from a line's time (the lines before it) and
// forward from it (the lines after). Lines that carry a time keep it; those that carry none
// get the read time, or the time of the line they follow + 1 ns, so every line has its own
// time and the store's time order is the file's order.

const now = new Date()
const at = (s: number) => new Date(now.getTime() - 60_000 + s * 1000).toISOString()

const LINES = [
  `${at(0)} INFO starting`,
  `[${at(1).replace('T', ' ').replace('Z', '')}] INFO listening`.replace(/(\d\d:\d\d:\d\d)\.(\d{3})/, '$1,$2'),
  `${at(2)} ERROR request failed`,
  'java.lang.IllegalStateException: boom',
  '\tat app.Main.run(Main.java:10)',
  '\tat app.Main.main(Main.java:3)',
  `${at(3)} INFO recovered`,
  'a line with no time at all',
  'and one more'
]

interface Range { data: { result: Array<{ values: Array<[string, string]> }> } }

async function range (url: string, token: string, params: Record<string, string>): Promise<Array<[string, string]>> {
  const q = new URLSearchParams({ query: '{deployment="times"}', limit: '100', ...params })
  const res = await fetch(`${url}/loki/api/v1/query_range?${q}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(res.status, 200, await res.clone().text())
  // One stream per label set (the level is a label): merged by time, as Grafana shows them.
  const values = ((await res.json()) as Range).data.result.flatMap((r) => r.values)
  const sign = params.direction === 'backward' ? -1 : 1
  return values.sort((a, b) => sign * (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0))
}

test('a plain file\'s lines each get their own time, in file order; log context before and after a line is right', async (t) => {
  const ctx = await startBoshDaytwo(t, 'api', 'times')
  const file = join(ctx.logDir, 'api.log')
  appendFileSync(file, LINES.join('\n') + '\n')
  await waitFor(async () => (await storedMessages(ctx)).length === LINES.length, 20_000)
  const token = operatorToken(join(ctx.dir, 'data'))
  const url = ctx.daytwo.urls.query
  const start = String(BigInt(now.getTime() - 3_600_000) * 1_000_000n)
  const end = String(BigInt(now.getTime() + 3_600_000) * 1_000_000n)

  const forward = await range(url, token, { start, end, direction: 'forward' })
  assert.deepEqual(forward.map((v) => v[1]), LINES, 'time order is file order')
  const times = forward.map((v) => BigInt(v[0]))
  assert.equal(new Set(times).size, LINES.length, 'no two lines share a time')
  assert.equal(times[0], BigInt(Date.parse(at(0))) * 1_000_000n, 'a leading RFC 3339 time is the line\'s time')
  assert.equal(times[1], BigInt(Date.parse(at(1))) * 1_000_000n, 'as is a bracketed one with a comma before the milliseconds')
  assert.equal(times[3], times[2]! + 1n, 'a stack trace\'s first line follows its message by 1 ns')
  assert.equal(times[5], times[2]! + 3n)

  // Grafana's log context for the ERROR line: backward with end = its time (exclusive), then forward from it.
  const errorTs = forward[2]![0]
  const before = await range(url, token, { start, end: errorTs, direction: 'backward', limit: '10' })
  assert.deepEqual(before.map((v) => v[1]), [LINES[1], LINES[0]])
  const after = await range(url, token, { start: errorTs, end, direction: 'forward', limit: '4' })
  assert.deepEqual(after.map((v) => v[1]), LINES.slice(2, 6))
})
