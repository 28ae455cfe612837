import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { metricValue, metrics, rssWatcher } from '../helpers/faults.js'
import { freePort, startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { probe, rawClient, within, type RawClient } from './attack-helpers.js'

// Issue 14, item 8: silent syslog TCP connections. 1 000 connections that never send a byte
// against a listener with maxConnections 200: a real sender connecting afterwards still gets
// in and its message is received (the longest-idle connection makes room), the idle ones are
// closed after idleTimeoutMs, each closing is counted, /healthz answers within 1 s throughout
// and the RSS stays bounded.

const MAX = 200
const IDLE = 1000
const RSS_BOUND = 400 * 1024 * 1024

test('idle syslog TCP connections cannot keep a real sender out, and are closed when idle', { timeout: 90_000 }, async (t) => {
  const tmp = tempDir('daytwo-syslog-idle-')
  const tcpPort = await freePort()
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0, syslog: { tcpPort, udpPort: 0, maxConnections: MAX, idleTimeoutMs: 4000 } },
    collector: { port: 0, tokens: ['idle-token'] },
    query: { port: 0, tokens: ['idle-operator'] }
  }
  const d = await startDaytwo('all', cfg, tmp.path)
  const rss = rssWatcher(d.child.pid!)
  const idle: RawClient[] = []
  t.after(async () => { rss.stop(); for (const c of idle) c.socket.destroy(); await d.kill(); tmp.cleanup() })
  const forwarder = d.urls.forwarder!
  const prober = probe(Object.values(d.urls))

  for (let i = 0; i < IDLE; i++) idle.push(await rawClient(tcpPort, '127.0.0.2'))
  // A real sender, after the attacker holds every slot: an RFC 5424 message, newline framed.
  const sender = await rawClient(tcpPort, '127.0.0.1')
  sender.socket.write('<14>1 2026-12-02T06:00:00Z web-1 api 42 - - a real sender got in\n')
  const received = await waitFor(async () => metricValue(await metrics(forwarder), 'daytwo_forwarder_syslog_messages_total', { transport: 'tcp' }) >= 1, 10_000)
  assert.ok(received, 'the real sender\'s message was not received')
  assert.equal(sender.isClosed(), false, 'the real sender was cut off')

  // The attacker's connections are all closed: evicted to make room, or idle past the timeout.
  const all = await within(Promise.all(idle.map((c) => c.closed)), 15_000)
  assert.notEqual(all, 'timeout', `${idle.filter((c) => !c.isClosed()).length} idle connections still open`)
  const probed = await prober.stop()
  rss.stop()

  const text = await metrics(forwarder)
  const closed = (reason: string) => metricValue(text, 'daytwo_forwarder_syslog_connections_closed_total', { transport: 'tcp', reason })
  assert.ok(closed('evicted_idle') >= IDLE - MAX + 1, `evicted ${closed('evicted_idle')}`)
  assert.ok(closed('idle_timeout') >= MAX - 1, `idle timeouts ${closed('idle_timeout')}`)
  assert.deepEqual(probed.failures, [])
  assert.ok(probed.probes >= 10, `only ${probed.probes} probes ran`)
  assert.ok(probed.slowestMs < 1000, `slowest /healthz answer took ${probed.slowestMs.toFixed(0)} ms during the attack`)
  assert.ok(rss.peak() < RSS_BOUND, `peak RSS ${(rss.peak() / 1048576).toFixed(0)} MB`)
})
