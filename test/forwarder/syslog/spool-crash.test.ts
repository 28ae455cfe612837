import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { operatorToken } from '../../helpers/query-api.js'
import { metricValue, readLogs, syslogTestConfig } from '../../helpers/syslog-senders.js'

// The spool under a collector outage and kill -9: a forwarder alone, pointed at a port where
// nothing listens, receives messages over TCP into a small spool (some are dropped as
// spool_full), is killed with SIGKILL, and comes back with a collector. Every spooled message
// is stored exactly once, with the same record ids; then the same again while shipping.

const SPOOL = { spoolMaxBytes: 65536, spoolSegmentBytes: 8192 }

async function sendTcp (port: number, from: number, to: number): Promise<void> {
  let payload = ''
  for (let i = from; i < to; i++) {
    const msg = `<14>1 2026-11-23T10:00:00.${String(i).padStart(9, '0')}Z node-a crashapp 7 - - message ${i} ${'p'.repeat(100)}`
    payload += `${Buffer.byteLength(msg)} ${msg}`
  }
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(payload))
    s.on('error', reject)
    s.on('close', () => resolve())
  })
}

async function metrics (d: DaytwoProcess): Promise<string> {
  return await (await fetch(`${d.urls.forwarder}/metrics`)).text()
}

async function stored (queryUrl: string, token: string): Promise<Array<[string, number, string]>> {
  const out: Array<[string, number, string]> = []
  for (const g of await readLogs(queryUrl, token, 'syslog', 'crashapp')) for (const e of g.entries) out.push([g.stream.id, e[1], e[2]])
  return out
}

test('kill -9 with a full spool and the collector away, then again while shipping: every spooled message stored once', async (t) => {
  const tmp = tempDir('daytwo-syslog-crash-')
  const port = await freePort()
  const nowhere = await freePort()
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  const spoolDir = join(tmp.path, 'data', 'forwarder', 'syslog-spool')

  // 1. Forwarder alone; its collector is unreachable.
  d = await startDaytwo('forwarder', syslogTestConfig(tmp.path, { tcpPort: port, ...SPOOL }, { token: 'crash-token', collectorUrl: `http://127.0.0.1:${nowhere}`, retryMaxMs: 200 }), tmp.path)
  const N = 1000
  await sendTcp(port, 0, N)
  let page = ''
  assert.ok(await waitFor(async () => metricValue(page = await metrics(d!), 'daytwo_forwarder_lines_read_total', { source: 'syslog' }) === N, 15_000), page)
  const full = metricValue(page, 'daytwo_forwarder_dropped_total', { reason: 'spool_full' })
  const spooled = N - full
  assert.ok(full > 0 && spooled > 100, `a 64 KiB spool holds part of ${N} messages: ${spooled} spooled, ${full} dropped as spool_full`)
  assert.equal(metricValue(page, 'daytwo_forwarder_syslog_spool_messages'), spooled)
  assert.ok(readdirSync(spoolDir).filter((n) => n.endsWith('.seg')).length > 1, 'several segment files')
  await d.kill()

  // 2. Back with a collector: the spooled messages are shipped, each once.
  d = await startDaytwo('all', syslogTestConfig(tmp.path, { tcpPort: port, ...SPOOL }, { token: 'crash-token' }), tmp.path)
  const token = operatorToken(join(tmp.path, 'data'))
  let rows: Array<[string, number, string]> = []
  assert.ok(await waitFor(async () => (rows = await stored(d!.urls.query!, token)).length >= spooled, 20_000), `stored ${rows.length} of ${spooled}\n${d.stderr()}`)
  assert.equal(rows.length, spooled)
  assert.deepEqual(rows.map((r) => Number(/message (\d+)/.exec(r[2])?.[1])), Array.from({ length: spooled }, (_, i) => i), 'the first messages, each once, in order (later ones hit the full spool)')
  assert.deepEqual(rows.map((r) => r[1]), Array.from({ length: spooled }, (_, i) => i), 'offsets are the receive sequence')
  assert.equal(new Set(rows.map((r) => r[0])).size, 1, 'one stream')

  // 3. kill -9 while shipping, then restart: nothing lost, nothing doubled.
  const M = 200 // fits in the spool beside what phase 2 left in its active segment
  await sendTcp(port, N, N + M)
  assert.ok(await waitFor(async () => metricValue(page = await metrics(d!), 'daytwo_forwarder_lines_read_total', { source: 'syslog' }) === M, 15_000), page)
  assert.equal(metricValue(page, 'daytwo_forwarder_dropped_total', { reason: 'spool_full' }), 0)
  await d.kill()
  d = await startDaytwo('all', syslogTestConfig(tmp.path, { tcpPort: port, ...SPOOL }, { token: 'crash-token' }), tmp.path)
  const want = spooled + M
  assert.ok(await waitFor(async () => (rows = await stored(d!.urls.query!, token)).length >= want, 20_000), `stored ${rows.length} of ${want}\n${d.stderr()}`)
  await new Promise((resolve) => setTimeout(resolve, 300)) // a duplicate would arrive about now
  rows = await stored(d.urls.query!, token)
  const ids = rows.map((r) => `${r[0]}:${r[1]}`)
  assert.equal(new Set(ids).size, ids.length, 'no record id twice')
  const nums = rows.map((r) => Number(/message (\d+)/.exec(r[2])?.[1])).sort((a, b) => a - b)
  assert.deepEqual(nums, [...Array.from({ length: spooled }, (_, i) => i), ...Array.from({ length: M }, (_, i) => N + i)], 'every spooled message exactly once')
  page = await metrics(d)
  assert.ok(await waitFor(async () => metricValue(page = await metrics(d!), 'daytwo_forwarder_syslog_spool_messages') === 0, 10_000), page)
})

test('kill -9 in the middle of a TCP burst while shipping: every message the forwarder had read is stored exactly once, in order', async (t) => {
  const tmp = tempDir('daytwo-syslog-burst-')
  const port = await freePort()
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  const cfg = syslogTestConfig(tmp.path, { tcpPort: port, spoolSegmentBytes: 262144 }, { token: 'burst-token' })
  d = await startDaytwo('all', cfg, tmp.path)
  const token = operatorToken(join(tmp.path, 'data'))
  const N = 100_000
  const parts: Buffer[] = []
  for (let i = 0; i < N; i++) {
    const msg = Buffer.from(`<14>1 2026-11-23T10:00:00.${String(i % 1e6).padStart(6, '0')}Z node-a burstapp 7 - - message ${i} ${'b'.repeat(i % 50)}`)
    parts.push(Buffer.from(`${msg.length} `), msg)
  }
  const sock = connect(port, '127.0.0.1', () => sock.end(Buffer.concat(parts)))
  sock.on('error', () => {}) // the kill resets the connection
  // Kill once the forwarder has read part of the burst, with shipping under way.
  let page = ''
  let read = 0
  assert.ok(await waitFor(async () => (read = metricValue(page = await metrics(d!), 'daytwo_forwarder_lines_read_total', { source: 'syslog' })) >= 20_000, 20_000, 5), page)
  await d.kill()
  sock.destroy()
  assert.ok(read < N, `the kill came in the middle of the burst (${read} of ${N} read)`)
  assert.equal(metricValue(page, 'daytwo_forwarder_dropped_total', { reason: 'spool_full' }), 0)

  d = await startDaytwo('all', cfg, tmp.path)
  assert.ok(await waitFor(async () => metricValue(page = await metrics(d!), 'daytwo_forwarder_syslog_spool_messages') === 0 && metricValue(page, 'daytwo_forwarder_queued_batches') === 0, 30_000), page)
  const rows: Array<[number, string]> = []
  for (const g of await readLogs(d.urls.query!, token, 'syslog', 'burstapp')) for (const e of g.entries) rows.push([e[1], e[2]])
  rows.sort((a, b) => a[0] - b[0])
  assert.ok(rows.length >= read, `${rows.length} stored; the forwarder had read ${read} before the kill`)
  assert.deepEqual(rows.map((r) => r[0]), Array.from({ length: rows.length }, (_, i) => i), 'offsets are the receive sequence, each once')
  const bad = rows.findIndex(([, m], i) => m !== `message ${i} ${'b'.repeat(i % 50)}`)
  assert.equal(bad, -1, `message at offset ${bad}: ${JSON.stringify(rows[bad])}`)
})
