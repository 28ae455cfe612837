import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { Entry } from '../../../core/record.js'
import { EmbeddedStore } from '../../../store/embedded/embedded-store.js'
import { lokiApi } from '../../../query/loki/loki-api.js'

// A query's deadline and its client: the Loki API stops a query at query.timeoutMs with a 504
// in Loki's error shape, and stops one whose client went away, terminating the scan workers it
// had running; the next query is answered.

const T0 = 1_795_428_000_000_000_000n

async function setup (t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-deadline-'))
  const store = await EmbeddedStore.open(dir, { blockLines: 1000, scanWorkers: 2 })
  const long = 'x'.repeat(2000)
  const entries: Entry[] = []
  for (let i = 0; i < 60_000; i++) entries.push([String(T0 + BigInt(i) * 1_000_000n), i * 3000, `${long} ${i}`, 'stdout'])
  for (let i = 0; i < entries.length; i += 10_000) await store.write([{ stream: { id: 'big', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/b' }, entries: entries.slice(i, i + 10_000) }])
  const app = Fastify()
  // An operator's request (query/auth.ts sets the principal after checking the token).
  app.addHook('onRequest', async (req) => { req.principal = { org: null } })
  await app.register(lokiApi, { store, onLines: () => {}, timeoutMs: 150 })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => { await app.close(); await store.close(); rmSync(dir, { recursive: true, force: true }) })
  return { store, url }
}

// Every line is decoded and run through RE2 (no literal the regex needs lets a line be skipped):
// far longer than 150 ms.
const SLOW = 'sum(count_over_time({job="j"} |~ "[0-9]{3}[a-w]" [1h]))'
const range = `start=${T0}&end=${T0 + 3_600_000_000_000n}&step=60`

test('a query past query.timeoutMs is stopped and answered 504 in Loki\'s error shape; the next query is answered', async (t) => {
  const { store, url } = await setup(t)
  const before = store.scanStats.terminated
  const res = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(SLOW)}&${range}`)
  assert.equal(res.status, 504)
  const body = await res.json() as Record<string, unknown>
  assert.equal(body.status, 'error')
  assert.equal(body.errorCode, 'DAYTWO_ERR_QUERY_TIMEOUT')
  assert.match(String(body.message), /150 ms/)
  assert.ok(store.scanStats.terminated > before, 'its running scan workers were terminated')
  // Replaced workers start their own connections first; within this test's 150 ms deadline a
  // loaded machine may need a few tries.
  let ok = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{job="j"}')}&${range}&limit=3`)
  for (let i = 0; i < 20 && ok.status === 504; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250)) // the replaced workers' start
    ok = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent('{job="j"}')}&${range}&limit=3`)
  }
  assert.equal(ok.status, 200)
  const data = (await ok.json() as { data: { result: Array<{ values: unknown[] }> } }).data
  assert.equal(data.result[0]!.values.length, 3)
})

test('a query whose client went away stops: its scan workers are terminated', async (t) => {
  const { store, url } = await setup(t)
  const before = store.scanStats.terminated
  const ctl = new AbortController()
  const req = fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(SLOW)}&${range}`, { signal: ctl.signal })
  setTimeout(() => ctl.abort(), 40)
  await assert.rejects(req)
  // The server sees the socket close and aborts the query well before its 150 ms deadline.
  for (let i = 0; i < 100 && store.scanStats.terminated === before; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(store.scanStats.terminated > before, 'a scan worker was terminated')
})
