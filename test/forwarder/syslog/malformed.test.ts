import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, startDaytwo, tempDir, waitFor } from '../../helpers/daytwo-process.js'
import { operatorToken } from '../../helpers/query-api.js'
import { metricValue, readLogs, syslogTestConfig, waitForRecords } from '../../helpers/syslog-senders.js'

// Hostile and broken input on real sockets. daytwo must keep running, keep what can be kept
// (altered, counted) and count what it drops, by reason, in the forwarder's /metrics.

async function udp (port: number, payload: Buffer | string): Promise<void> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve, reject) => s.send(payload, port, '127.0.0.1', (err) => { s.close(); if (err) reject(err); else resolve() }))
}

/** Write `payload` on a new TCP connection; resolves when the server closed it, or after we end it. */
async function tcp (port: number, payload: Buffer | string, opts: { end?: boolean } = { end: true }): Promise<{ closedByServer: boolean }> {
  return await new Promise((resolve, reject) => {
    let ended = false
    const s: Socket = connect(port, '127.0.0.1', () => {
      s.write(payload, () => {
        if (opts.end) { ended = true; s.end() }
      })
    })
    s.on('error', (err) => { if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') resolve({ closedByServer: true }); else reject(err) })
    s.on('close', () => resolve({ closedByServer: !ended }))
    s.resume()
  })
}

test('malformed syslog input is kept or dropped, never crashes, and every case is counted', async (t) => {
  const tmp = tempDir('daytwo-syslog-bad-')
  const port = await freePort()
  const d = await startDaytwo('all', syslogTestConfig(tmp.path, { udpPort: port, tcpPort: port }), tmp.path)
  t.after(async () => { await d.stop(); tmp.cleanup() })
  const token = operatorToken(join(tmp.path, 'data'))
  const forwarderMetrics = async () => await (await fetch(`${d.urls.forwarder}/metrics`)).text()
  const before = await forwarderMetrics()
  const dropped = (page: string, reason: string) => metricValue(page, 'daytwo_forwarder_dropped_total', { reason })
  const altered = (page: string, reason: string) => metricValue(page, 'daytwo_forwarder_lines_altered_total', { reason })
  for (const r of ['spool_full', 'syslog_empty', 'syslog_truncated_frame', 'syslog_octet_count_mismatch']) assert.equal(dropped(before, r), 0, `${r} is listed at 0 before any drop`)

  // Random bytes (not starting with "<" or a digit): kept whole as a message without header.
  const noise = Buffer.concat([Buffer.from([0xff]), randomBytes(400)])
  await udp(port, noise)
  await tcp(port, Buffer.concat([Buffer.from([0xfe]), randomBytes(300).map((b) => (b === 0x0a ? 0x20 : b))]))
  // Invalid UTF-8 in a good message: replaced with U+FFFD and counted.
  await tcp(port, Buffer.concat([Buffer.from('<13>1 - host badutf - - - caf'), Buffer.from([0xc3, 0x28]), Buffer.from(' au lait\n')]))
  // An octet-counted frame cut short by the sender closing: dropped, counted.
  await tcp(port, '100 <13>1 - host cutshort - - - not 100 bytes')
  // 10 MB messages, LF-framed and octet-counted: cut at maxMessageBytes (64 KiB), counted.
  const big = 'x'.repeat(10 * 1024 * 1024)
  await tcp(port, `<13>1 - host bigapp - - - ${big}\n`)
  const counted = `<13>1 - host bigapp - - - ${big}`
  await tcp(port, `${Buffer.byteLength(counted)} ${counted}`)
  // An octet count that lies (too short): the rest cannot be framed, the connection is closed.
  const liar = await tcp(port, '6 <13>1 - host liar - - - longer than six bytes\n12 <13>1 - - -', { end: false })
  assert.ok(liar.closedByServer, 'the server closes a connection whose octet count lies')
  // A counted frame whose message does not start with "<": RFC 6587 frames any message, so
  // it is kept, as a message without PRI (and the count that follows it is read as usual).
  await tcp(port, '14 counted no pri16 also no pri here')
  // Empty datagrams and frames: dropped, counted.
  await udp(port, Buffer.alloc(0))
  await udp(port, '\r\n')
  // Still alive and well.
  await udp(port, '<14>1 2026-11-23T10:00:00Z host after - - - still here')

  await waitForRecords(d.urls.query!, token, 'syslog', 'after', 1)
  let page = ''
  await waitFor(async () => { page = await forwarderMetrics(); return dropped(page, 'syslog_empty') >= 2 && altered(page, 'truncated') >= 2 }, 10_000)
  assert.equal(dropped(page, 'syslog_truncated_frame'), 1, 'the frame cut short')
  assert.equal(dropped(page, 'syslog_octet_count_mismatch'), 1, 'the lying count')
  assert.equal(dropped(page, 'syslog_empty'), 2, 'the empty datagrams')
  assert.equal(dropped(page, 'spool_full'), 0)
  assert.equal(altered(page, 'truncated'), 2, 'both 10 MB messages')
  assert.ok(altered(page, 'invalid_utf8') >= 3, `random bytes and the bad message: ${altered(page, 'invalid_utf8')}`)
  assert.ok(metricValue(page, 'daytwo_forwarder_syslog_messages_total', { transport: 'udp', format: 'none' }) >= 1)
  assert.ok(metricValue(page, 'daytwo_forwarder_syslog_messages_total', { transport: 'tcp', format: 'none' }) >= 1)

  const bad = (await readLogs(d.urls.query!, token, 'syslog', 'badutf')).flatMap((g) => g.entries)
  assert.deepEqual(bad.map((e) => e[2]), ['caf\ufffd( au lait'])
  const bigs = (await waitForRecords(d.urls.query!, token, 'syslog', 'bigapp', 2)).flatMap((g) => g.entries)
  assert.equal(bigs.length, 2)
  for (const e of bigs) assert.equal(Buffer.byteLength(e[2]), 65536 - '<13>1 - host bigapp - - - '.length, 'cut at maxMessageBytes (the frame, header included)')
  const noHeader = (await readLogs(d.urls.query!, token, 'syslog', '-')).flatMap((g) => g.entries)
  assert.ok(noHeader.some((e) => e[2] === noise.toString('utf8')), 'random bytes are kept as the message, invalid bytes replaced')
  assert.ok(noHeader.some((e) => e[2] === 'counted no pri') && noHeader.some((e) => e[2] === 'also no pri here'), 'counted frames without PRI are kept whole')
  assert.equal((await readLogs(d.urls.query!, token, 'syslog', 'liar')).length, 0, 'nothing of the lying frame is stored under its app-name')
  assert.equal(d.child.exitCode, null, 'daytwo is still running')
})
