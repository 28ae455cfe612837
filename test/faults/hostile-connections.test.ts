import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { NDJSON } from '../../core/wire.js'
import { metricValue, metrics, rssWatcher, sleep } from '../helpers/faults.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { portOf, probe, rawClient, within, type RawClient } from './attack-helpers.js'

// Issue 14, item 2: clients that hold HTTP connections instead of using them. On one
// `serve all` process, from other loopback addresses than the prober's:
// - unauthenticated requests announcing a 100 MB body, then dribbling a byte at a time: each
//   gets its 401 and loses the connection (no keep-alive, body not read);
// - authenticated ingest bodies that stall, or that dribble just fast enough to look alive:
//   cut off by the body-idle and whole-request timeouts;
// - silent connections past the per-address cap: closed as soon as they are accepted;
//   the ones under the cap closed by the headers timeout.
// Meanwhile /healthz on every role answers within 1 s, a real forwarder batch is stored, the
// process's RSS stays bounded, and every closing is counted by reason.

const TOKEN = 'conn-ingest-token'
const OPERATOR = 'conn-operator-token'
const UNAUTH = 150
const STALLED = 30
const DRIBBLERS = 10
const PER_ADDRESS = 100
const SILENT = 400
const RSS_BOUND = 512 * 1024 * 1024

test('slow, silent and unauthenticated connections are closed and counted; /healthz and ingest stay responsive', { timeout: 90_000 }, async (t) => {
  const tmp = tempDir('daytwo-conns-')
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0 },
    collector: { port: 0, tokens: [TOKEN], maxBodyBytes: 1024 * 1024 },
    query: { port: 0, tokens: [OPERATOR] },
    http: { headersTimeoutMs: 1500, requestTimeoutMs: 4000, bodyIdleTimeoutMs: 1500, maxConnectionsPerAddress: PER_ADDRESS, maxConnections: 4000 }
  }
  const d = await startDaytwo('all', cfg, tmp.path)
  const rss = rssWatcher(d.child.pid!)
  const clients: RawClient[] = []
  t.after(async () => { rss.stop(); for (const c of clients) c.socket.destroy(); await d.kill(); tmp.cleanup() })
  const collector = d.urls.collector!
  const port = portOf(collector)
  const prober = probe(Object.values(d.urls))

  // 1. Unauthenticated, huge Content-Length, one byte at a time.
  const unauth: RawClient[] = []
  for (let i = 0; i < UNAUTH; i++) {
    const c = await rawClient(port, '127.0.0.2')
    c.socket.write(`POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: ${NDJSON}\r\nContent-Length: 100000000\r\n\r\n`)
    unauth.push(c)
  }
  clients.push(...unauth)
  // 2. Authenticated bodies: some stall after a few bytes, some dribble a byte every 300 ms.
  const stalled: RawClient[] = []
  const dribblers: RawClient[] = []
  for (let i = 0; i < STALLED + DRIBBLERS; i++) {
    const c = await rawClient(port, '127.0.0.3')
    c.socket.write(`POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: ${NDJSON}\r\nContent-Length: 100000\r\n\r\n{"str`)
    ;(i < STALLED ? stalled : dribblers).push(c)
  }
  clients.push(...stalled, ...dribblers)
  const drip = setInterval(() => {
    for (const c of [...unauth, ...dribblers]) if (!c.isClosed()) c.socket.write('a')
  }, 300)
  t.after(() => clearInterval(drip))
  // 3. Silent connections from one address, past its cap.
  const silent: RawClient[] = []
  for (let i = 0; i < SILENT; i++) silent.push(await rawClient(port, '127.0.0.4'))
  clients.push(...silent)

  // A real batch gets in while all this is open.
  const batch = JSON.stringify({ stream: { id: 'conn-s', source: 'file', node: 'n', deployment: 'conn', job: 'web', index: '0', process: 'p', path: '/x.log' }, entries: [['1795428000000000000', 0, 'still stored', 'stdout']] }) + '\n'
  const t0 = performance.now()
  const res = await fetch(`${collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': NDJSON }, body: batch, signal: AbortSignal.timeout(5000) })
  const ingestMs = performance.now() - t0
  assert.equal(res.status, 200, await res.text())

  // Every attacking connection is closed by the server, without the client giving up.
  for (const [what, group] of [['unauthenticated', unauth], ['stalled body', stalled], ['dribbled body', dribblers], ['silent', silent]] as const) {
    const open = await within(Promise.all(group.map((c) => c.closed)), 10_000)
    assert.notEqual(open, 'timeout', `${group.filter((c) => !c.isClosed()).length} of ${group.length} ${what} connections still open`)
  }
  clearInterval(drip)
  const probed = await prober.stop()
  rss.stop()

  for (const c of unauth) {
    const head = c.received()
    assert.match(head, /^HTTP\/1\.1 401 /, `unauthenticated client got ${JSON.stringify(head.slice(0, 80))}`)
    assert.match(head, /\r\nconnection: close\r\n/i)
  }
  assert.deepEqual(probed.failures, [])
  assert.ok(probed.probes >= 10, `only ${probed.probes} probes ran`)
  assert.ok(probed.slowestMs < 1000, `slowest /healthz answer took ${probed.slowestMs.toFixed(0)} ms during the attack`)
  assert.ok(ingestMs < 1000, `a real batch took ${ingestMs.toFixed(0)} ms during the attack`)
  assert.ok(rss.peak() < RSS_BOUND, `peak RSS ${(rss.peak() / 1048576).toFixed(0)} MB`)

  const text = await metrics(collector)
  const counted = (name: string, reason: string) => metricValue(text, name, { reason })
  assert.ok(counted('daytwo_connections_closed_total', 'unauthorized') >= UNAUTH, text.split('\n').filter((l) => l.includes('connections_')).join('\n'))
  assert.ok(counted('daytwo_connections_closed_total', 'body_idle') >= STALLED)
  assert.ok(counted('daytwo_connections_closed_total', 'request_timeout') >= DRIBBLERS + PER_ADDRESS)
  assert.equal(counted('daytwo_connections_refused_total', 'per_address'), SILENT - PER_ADDRESS)
  // The service is still there for clients that behave.
  assert.ok(await waitFor(async () => (await fetch(`${collector}/healthz`)).status === 200, 2000))
  await sleep(0)
})
