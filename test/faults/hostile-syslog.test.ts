import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { connect, type Socket } from 'node:net'
import { waitFor } from '../helpers/daytwo-process.js'
import { Rng, metricValue, metrics, sleep, storedMessages } from '../helpers/faults.js'
import { OPERATOR, RSS_BOUND, fixtures, healthy, pool, startTarget } from './hostile-setup.js'

// Issue 7: hostile input at the forwarder's syslog listeners (UDP and TCP). First inputs whose
// effect is known exactly (lying and truncated octet counts, 10 MB lines, empty datagrams),
// checked against the exact counter increments; then 2 500 generated from a seed (random
// bytes, invalid UTF-8, broken headers, random framing) and the hand-made ones in
// test/fixtures/hostile/syslog/. The forwarder must stay up with bounded RSS and still ship a
// good message afterwards.

const SEED = 0x5157
const UDP_COUNT = 2000
const TCP_COUNT = 500

/** Open a TCP connection, write `chunks`, end, and wait until the server closed it (or 10 s). */
async function tcpSend (port: number, chunks: Buffer[], opts: { end?: boolean } = {}): Promise<void> {
  const s: Socket = connect(port, '127.0.0.1')
  s.on('error', () => {}) // the listener may close a lying connection while we still write
  await new Promise<void>((resolve) => { s.once('connect', resolve); s.once('error', () => resolve()) })
  for (const c of chunks) {
    if (s.destroyed) break
    if (!s.write(c)) await new Promise((resolve) => { s.once('drain', resolve); s.once('close', resolve) })
  }
  if (opts.end !== false) s.end()
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { s.destroy(); resolve() }, 10_000)
    s.once('close', () => { clearTimeout(timer); resolve() })
    s.resume()
  })
}

async function udpSend (port: number, datagrams: Buffer[]): Promise<void> {
  const u = createSocket('udp4')
  try {
    for (let i = 0; i < datagrams.length; i++) {
      await new Promise<void>((resolve) => u.send(datagrams[i]!, port, '127.0.0.1', () => resolve()))
      if (i % 50 === 49) await sleep(5) // the kernel's receive buffer is the only queue
    }
  } finally {
    u.close()
  }
}

function generateUdp (r: Rng, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    switch (r.int(6)) {
      case 0: out.push(r.bytes(1 + r.int(1400))); break
      case 1: out.push(Buffer.concat([Buffer.from(`<${r.int(200)}>1 2026-11-23T10:00:00Z h app - - - `), r.bytes(r.int(200))])); break
      case 2: out.push(Buffer.from(`<${r.pick(['', '-1', '999', 'x', '13'])}>${r.pick(['1', '2', ''])} ${r.str(r.int(120), ' -[]="\\0123abc:TZ.')}`)); break
      case 3: out.push(Buffer.from(`<34>Nov 23 10:00:00 host app[${r.str(r.int(10), '0123x]')}: ${r.str(r.int(100), 'ab✓ ')}`)); break
      case 4: { const b = Buffer.from(`<13>1 - - - - - [x@1 a="${'b'.repeat(r.int(300))}"] msg ✓`); for (let k = 0; k < 3; k++) b[r.int(b.length)] = r.pick([0xff, 0xc0, 0x80, 0xed]); out.push(b); break }
      default: out.push(Buffer.from(`<13>1 2026-11-23T10:00:00.${'9'.repeat(r.int(30))}+${r.pick(['25:00', '00:00', '-14:61', ''])} ${r.str(r.int(300), 'x ')}`))
    }
  }
  return out
}

function generateTcp (r: Rng, n: number): Buffer[][] {
  const out: Buffer[][] = []
  for (let i = 0; i < n; i++) {
    const chunks: Buffer[] = []
    for (let k = 1 + r.int(6); k > 0; k--) {
      switch (r.int(5)) {
        case 0: chunks.push(r.bytes(1 + r.int(3000))); break
        case 1: { const m = Buffer.from(`<13>1 - h a - - - ${r.str(r.int(100), 'ab✓')}`); chunks.push(Buffer.concat([Buffer.from(`${m.length + r.int(3) - 1} `), m])); break }
        case 2: chunks.push(Buffer.from(`${r.str(1 + r.int(12), '0123456789')} `)); break
        case 3: chunks.push(Buffer.from(`<34>Nov 23 10:00:00 h a: ${r.str(r.int(200), 'ab \n\r\u0000')}\n`)); break
        default: chunks.push(Buffer.concat([Buffer.from('<13>1 - h a - - - '), r.bytes(r.int(100)), Buffer.from('\n')]))
      }
    }
    out.push(chunks)
  }
  return out
}

test('hostile syslog over UDP and TCP: exact counts for known faults, 2 500 generated inputs, the forwarder stays up and still ships', { timeout: 240_000 }, async (t) => {
  const x = await startTarget(t)
  const fwd = x.d.urls.forwarder!
  const drop = (m: string, reason: string) => metricValue(m, 'daytwo_forwarder_dropped_total', { reason })
  const altered = (m: string, reason: string) => metricValue(m, 'daytwo_forwarder_lines_altered_total', { reason })

  // Known faults, exact counts.
  const m0 = await metrics(fwd)
  for (let i = 0; i < 20; i++) await tcpSend(x.tcpPort, [Buffer.from(`5 hello world ${i}\n`)]) // count lies: no '<' after it
  for (let i = 0; i < 20; i++) await tcpSend(x.tcpPort, [Buffer.from(`100 <34>1 - h a - - - cut short ${i}`)]) // closed inside the frame
  const big = Buffer.alloc(10 * 1024 * 1024, 0x61)
  for (let i = 0; i < 3; i++) await tcpSend(x.tcpPort, [Buffer.from('<13>1 - h big - - - '), big, Buffer.from('\n')]) // 10 MB LF-framed
  const head = Buffer.from('<13>1 - h big - - - ')
  await tcpSend(x.tcpPort, [Buffer.from(`${head.length + big.length} `), head, big]) // 10 MB octet-counted
  await udpSend(x.udpPort, Array.from({ length: 10 }, () => Buffer.alloc(0)))
  const exact = { mismatch: 20, truncatedFrame: 20, truncated: 4, empty: 10 }
  let m1 = ''
  const settled = await waitFor(async () => {
    m1 = await metrics(fwd)
    return drop(m1, 'syslog_octet_count_mismatch') - drop(m0, 'syslog_octet_count_mismatch') >= exact.mismatch &&
      drop(m1, 'syslog_truncated_frame') - drop(m0, 'syslog_truncated_frame') >= exact.truncatedFrame &&
      altered(m1, 'truncated') - altered(m0, 'truncated') >= exact.truncated &&
      drop(m1, 'syslog_empty') - drop(m0, 'syslog_empty') >= exact.empty
  }, 15_000, 100)
  const got = {
    mismatch: drop(m1, 'syslog_octet_count_mismatch') - drop(m0, 'syslog_octet_count_mismatch'),
    truncatedFrame: drop(m1, 'syslog_truncated_frame') - drop(m0, 'syslog_truncated_frame'),
    truncated: altered(m1, 'truncated') - altered(m0, 'truncated'),
    empty: drop(m1, 'syslog_empty') - drop(m0, 'syslog_empty')
  }
  t.diagnostic(`known faults settled in time: ${settled}`)
  assert.deepEqual(got, exact, 'each known fault counted exactly once')

  // Generated inputs.
  const r = new Rng(SEED)
  const udp = [...generateUdp(r, UDP_COUNT), ...fixtures('syslog').map((f) => f.data)]
  const tcp = [...generateTcp(r, TCP_COUNT), ...fixtures('syslog').map((f) => [f.data])]
  await udpSend(x.udpPort, udp)
  await pool(tcp, 16, async (chunks) => { await tcpSend(x.tcpPort, chunks) })
  await sleep(500)
  assert.deepEqual(await healthy(x.d), [], 'every role still answers /healthz')
  const m2 = await metrics(fwd)
  const seen = {
    noHeader: metricValue(m2, 'daytwo_forwarder_syslog_messages_total', { format: 'none' }) > 0,
    invalidUtf8: altered(m2, 'invalid_utf8') > 0,
    malformedHeader: altered(m2, 'syslog_malformed_header') > 0,
    mismatch: drop(m2, 'syslog_octet_count_mismatch') > drop(m1, 'syslog_octet_count_mismatch'),
    truncatedFrame: drop(m2, 'syslog_truncated_frame') > drop(m1, 'syslog_truncated_frame')
  }
  assert.deepEqual(seen, { noHeader: true, invalidUtf8: true, malformedHeader: true, mismatch: true, truncatedFrame: true }, 'every fault the generator exercises is counted')
  assert.ok(x.peakRss() < RSS_BOUND, `RSS stayed under ${RSS_BOUND} bytes (peak ${x.peakRss()})`)

  // Still a working pipeline: a good message is stored.
  await tcpSend(x.tcpPort, [Buffer.from('<13>1 2026-11-23T10:00:00Z goodhost goodapp - - - still shipping after the storm\n')])
  const shipped = await waitFor(async () => (await storedMessages(x.d.urls.query!, OPERATOR, 'syslog')).includes('still shipping after the storm'), 30_000, 200)
  assert.ok(shipped, 'a good message sent after the hostile ones is stored')
})
