import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { StreamBatch } from '../../../core/record.js'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { operatorToken } from '../../helpers/query-api.js'
import { findLoggen, findTool, logger, readLogs, runLoggen, startRsyslog, syslogTestConfig, waitForRecords } from '../../helpers/syslog-senders.js'

// Real senders → daytwo (`serve all`, syslog on UDP and TCP) → the query API. Each sender
// uses its own app-name, so each test reads back only its own records.

let tmp: ReturnType<typeof tempDir>
let d: DaytwoProcess
let port = 0
let token = ''
const started = Date.now()

before(async () => {
  tmp = tempDir('daytwo-syslog-')
  port = await freePort()
  d = await startDaytwo('all', syslogTestConfig(tmp.path, { udpPort: port, tcpPort: port, deployments: ['mapped-*=mapped'] }), tmp.path)
  token = operatorToken(join(tmp.path, 'data'))
})

after(async () => {
  await d?.stop()
  tmp?.cleanup()
})

const entries = (groups: StreamBatch[]) => groups.flatMap((g) => g.entries.map((e) => ({ tags: g.stream, ts: e[0], offset: e[1], message: e[2], attrs: e[4] })))

function recentNs (ts: string): boolean {
  const ms = Number(BigInt(ts) / 1_000_000n)
  return ms >= started - 120_000 && ms <= Date.now() + 60_000
}

test('logger: RFC 5424 over UDP, TCP and TCP with octet counting', { skip: findTool('logger') ? false : 'needs logger (Debian package util-linux)' }, async () => {
  logger(['--udp', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'lg5424', '--id=4242', '--msgid', 'M1', 'over udp'])
  logger(['--tcp', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'lg5424', '--id=4242', 'over tcp, LF framed'])
  logger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'lg5424', '--id=4242', 'over tcp, octet counted\nsecond line of the same message'])
  const got = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'lg5424', 3))
  assert.deepEqual(got.map((e) => e.message).sort(), ['over tcp, LF framed', 'over tcp, octet counted\nsecond line of the same message', 'over udp'])
  for (const e of got) {
    assert.equal(e.tags.source, 'syslog')
    assert.equal(e.tags.job, 'lg5424')
    assert.equal(e.tags.process, '4242', 'process = PROCID')
    assert.equal(e.tags.index, e.tags.labels?.hostname, 'index = HOSTNAME')
    assert.ok(recentNs(e.ts), `the sender's timestamp, in ns: ${e.ts}`)
    assert.notEqual(e.ts.slice(-3), '', 'a full ns string')
  }
  const udp = got.find((e) => e.message === 'over udp')!
  assert.match(udp.tags.path, /^udp:\/\/127\.0\.0\.1:\d+$/)
  assert.ok(got.some((e) => e.tags.path.startsWith('tcp://')))
})

test('logger: facility, severity, msgid and structured data arrive on each line', { skip: findTool('logger') ? false : 'needs logger (Debian package util-linux)' }, async () => {
  logger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'attrs', '-p', 'local3.err', '--msgid', 'REQ', '--sd-id', 'req@32473', '--sd-param', 'trace="t-1"', 'first'])
  logger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'attrs', '-p', 'local3.info', '--sd-id', 'req@32473', '--sd-param', 'trace="t-2"', 'second'])
  logger(['--udp', '-n', '127.0.0.1', '-P', String(port), '--rfc3164', '-t', 'attrs', '-p', 'auth.warning', 'third'])
  const got = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'attrs', 3))
  // logger adds RFC 5424's timeQuality element (its values depend on the clock): kept, checked apart.
  assert.equal(got.find((e) => e.message === 'first')!.attrs?.['sd.timeQuality.tzKnown'], '1')
  const strip = (a: Record<string, string> | undefined) => a && Object.fromEntries(Object.entries(a).filter(([k]) => !k.startsWith('sd.timeQuality.')))
  const by = new Map(got.map((e) => [e.message, strip(e.attrs)]))
  assert.deepEqual(by.get('first'), { facility: 'local3', severity: 'err', msgid: 'REQ', 'sd.req@32473.trace': 't-1' })
  assert.deepEqual(by.get('second'), { facility: 'local3', severity: 'info', 'sd.req@32473.trace': 't-2' })
  assert.deepEqual(by.get('third'), { facility: 'auth', severity: 'warning' })
  // Per-line structured data does not split the stream.
  assert.equal(new Set(got.filter((e) => e.message !== 'third').map((e) => e.tags.id)).size, 1)
})

test('logger: RFC 3164 over UDP and TCP; hostname mapped to a deployment', { skip: findTool('logger') ? false : 'needs logger (Debian package util-linux)' }, async () => {
  logger(['--udp', '-n', '127.0.0.1', '-P', String(port), '--rfc3164', '-t', 'lg3164', '-p', 'local3.err', 'bsd over udp'])
  logger(['--tcp', '-n', '127.0.0.1', '-P', String(port), '--rfc3164', '-t', 'lg3164', 'bsd over tcp'])
  const got = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'lg3164', 2))
  assert.deepEqual(got.map((e) => e.message).sort(), ['bsd over tcp', 'bsd over udp'])
  for (const e of got) assert.ok(recentNs(e.ts), `RFC 3164 time read in this year and zone: ${e.ts}`)
  // A sender that names its host mapped-7: the configured mapping `mapped-*=mapped` applies.
  // (logger cannot set the hostname, so this one datagram is written by hand.)
  const sock = createSocket('udp4')
  await new Promise<void>((resolve, reject) => sock.send('<14>1 2026-11-23T10:00:00.5Z mapped-7 lgmap - - - mapped host', port, '127.0.0.1', (err) => { sock.close(); if (err) reject(err); else resolve() }))
  const mapped = entries(await waitForRecords(d.urls.query!, token, 'mapped', 'lgmap', 1))
  assert.equal(mapped[0]!.tags.index, 'mapped-7')
  assert.equal(mapped[0]!.message, 'mapped host')
})

test('logger: identity from daytwo@ and BOSH instance@47450 structured data', { skip: findTool('logger') ? false : 'needs logger (Debian package util-linux)' }, async () => {
  logger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'web', '--sd-id', 'daytwo@32473', '--sd-param', 'deployment="shop"', '--sd-param', 'job="cart"', '--sd-param', 'index="2"', 'named by daytwo@'])
  const shop = entries(await waitForRecords(d.urls.query!, token, 'shop', 'cart', 1))
  assert.equal(shop[0]!.tags.index, '2')
  assert.equal(shop[0]!.tags.labels?.['sd.daytwo@32473.deployment'], 'shop')
  assert.equal(shop[0]!.tags.labels?.app_name, 'web')
  logger(['--udp', '-n', '127.0.0.1', '-P', String(port), '--rfc5424', '-t', 'gorouter', '--sd-id', 'instance@47450', '--sd-param', 'director="bosh-1"', '--sd-param', 'deployment="cf"', '--sd-param', 'group="router"', '--sd-param', 'az="z1"', '--sd-param', 'id="6040e9df-afc3"', 'forwarded by the BOSH syslog release'])
  const cf = entries(await waitForRecords(d.urls.query!, token, 'cf', 'router', 1))
  assert.equal(cf[0]!.tags.index, '6040e9df-afc3', 'index = BOSH instance id')
  assert.equal(cf[0]!.tags.process, 'gorouter', 'process = app-name (the BOSH job)')
  assert.equal(cf[0]!.tags.labels?.['sd.instance@47450.az'], 'z1')
})

test('loggen (syslog-ng): 500 RFC 5424 messages over TCP, each stored once and in order', { skip: findLoggen() ? false : 'needs loggen (Debian package syslog-ng-core, unpacked by .ci/setup.d/syslog-ng.sh)' }, async () => {
  const l = findLoggen()!
  const r = runLoggen(l, ['--inet', '--stream', '--syslog-proto', '--number', '500', '--rate', '5000', '--size', '200', '--quiet', '127.0.0.1', String(port)])
  assert.equal(r.status, 0, r.out)
  // loggen's app-name is "prg00000"; its message carries "seq: NNNNNNNNNN".
  const got = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'prg00000', 500))
  const seqs = got.map((e) => Number(/seq: (\d+)/.exec(e.message)?.[1]))
  assert.equal(got.length, 500)
  assert.deepEqual(seqs, Array.from({ length: 500 }, (_, i) => i), 'every message once, in the order sent')
  const offsets = got.map((e) => e.offset)
  assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), 'offsets (receive sequence) increase')
})

test('loggen (syslog-ng): RFC 3164 over UDP', { skip: findLoggen() ? false : 'needs loggen (Debian package syslog-ng-core, unpacked by .ci/setup.d/syslog-ng.sh)' }, async () => {
  const l = findLoggen()!
  const udp = (groups: StreamBatch[]) => entries(groups).filter((e) => e.tags.path.startsWith('udp://'))
  const r = runLoggen(l, ['--inet', '--dgram', '--number', '50', '--rate', '1000', '--size', '140', '--quiet', '127.0.0.1', String(port)])
  assert.equal(r.status, 0, r.out)
  // loggen without --syslog-proto writes "<38>2026-11-23T01:11:26 localhost prg00000[1234]: …",
  // an ISO time without a zone in a BSD header. Loopback UDP at this rate loses nothing in
  // practice; a loss would show as a failure here.
  let got: ReturnType<typeof udp> = []
  const { waitFor } = await import('../../helpers/daytwo-process.js')
  await waitFor(async () => (got = udp(await readLogs(d.urls.query!, token, 'syslog', 'prg00000'))).length >= 50, 20_000)
  assert.equal(got.length, 50)
  assert.deepEqual(got.map((e) => Number(/seq: (\d+)/.exec(e.message)?.[1])), Array.from({ length: 50 }, (_, i) => i))
  assert.ok(got.every((e) => e.tags.index === 'localhost' && e.tags.process === '1234'))
})

test('rsyslog omfwd: RFC 5424 octet-counted and traditional LF-framed forwarding over TCP', { skip: findTool('rsyslogd') ? false : 'needs rsyslogd (Debian package rsyslog)' }, async (t) => {
  const work = join(tmp.path, 'rsyslog')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(work, { recursive: true })
  const in5424 = await freePort()
  const in3164 = await freePort()
  const conf = `
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="${in5424}" ruleset="proto23")
input(type="imtcp" address="127.0.0.1" port="${in3164}" ruleset="traditional")
ruleset(name="proto23") {
  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted" action.resumeRetryCount="-1")
}
ruleset(name="traditional") {
  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" template="RSYSLOG_TraditionalForwardFormat" action.resumeRetryCount="-1")
}
`
  const rs = startRsyslog(work, conf)
  t.after(async () => await rs.stop())
  // Wait for rsyslog's inputs, then send into them with logger.
  const { waitFor } = await import('../../helpers/daytwo-process.js')
  const { connect } = await import('node:net')
  const up = await waitFor(async () => await new Promise<boolean>((resolve) => {
    const s = connect(in3164, '127.0.0.1', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  }), 10_000)
  assert.ok(up, `rsyslogd did not listen: ${rs.output()}`)
  for (let i = 0; i < 20; i++) logger(['--tcp', '-n', '127.0.0.1', '-P', String(in5424), '--rfc5424', '-t', 'viarsyslog5424', `relayed ${i}`])
  for (let i = 0; i < 20; i++) logger(['--tcp', '-n', '127.0.0.1', '-P', String(in3164), '--rfc3164', '-t', 'viarsyslog3164', `relayed ${i}`])
  const a = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'viarsyslog5424', 20))
  const b = entries(await waitForRecords(d.urls.query!, token, 'syslog', 'viarsyslog3164', 20))
  assert.deepEqual(a.map((e) => e.message).sort(), Array.from({ length: 20 }, (_, i) => `relayed ${i}`).sort(), rs.output())
  assert.deepEqual(b.map((e) => e.message).sort(), Array.from({ length: 20 }, (_, i) => `relayed ${i}`).sort(), rs.output())
  for (const e of [...a, ...b]) assert.ok(recentNs(e.ts), e.ts)
})
