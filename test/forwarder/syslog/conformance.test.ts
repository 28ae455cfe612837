import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FrameSplitter, frameCollector, type Frame } from '../../../forwarder/sources/syslog/octet-framing.js'
import { parseSyslog, stripTrailer } from '../../../forwarder/sources/syslog/parse-syslog.js'

// Vectors from other projects' test suites, each with its source, and what that suite
// expects of it: facility, severity, time (to the nanosecond where the vector gives it),
// hostname, tag/app-name, procid and message. Where daytwo reads a vector differently, the
// vector says so (`differs`) and docs/syslog.md ("Syslog conformance") argues it; the expected
// values are then daytwo's, so that a change either way shows here.
//
// Times: RFC 3164 vectors have no year and no zone; they are read in UTC here, as if
// received at NOW (so the year is the latest that is not more than a day ahead of it).

const NOW = Date.parse('2026-12-02T10:00:00Z')
const RSYSLOG_PARSE1 = 'rsyslog tests/parsertest-parse1.sh (PRI,facility,severity,timestamp,hostname,programname,syslogtag,msg table)'
const sec = (iso: string): string => String(Date.parse(iso) / 1000) + '000000000'

interface Vector {
  source: string
  input: string
  facility: number
  severity: number
  /** Unix ns; null: the sender gave no time (the receive time is used). */
  ts: string | null
  hostname: string
  appName: string
  procId?: string
  msgId?: string
  message: string
  differs?: string
}

const LEADING_SPACE = 'rsyslog\'s msg keeps the space after the TAG; daytwo drops that one separator (README)'

const vectors: Vector[] = [
  // rsyslog: the parser test table.
  { source: RSYSLOG_PARSE1, input: '<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded from SERVER1/2741 to test_app:255.255.255.255/61601', facility: 20, severity: 7, ts: sec('2026-03-06T16:57:54Z'), hostname: '172.20.245.8', appName: '%PIX-7-710005', message: 'UDP request discarded from SERVER1/2741 to test_app:255.255.255.255/61601', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>Mar 27 19:06:53 source_server sshd(pam_unix)[12750]: session opened for user foo by (uid=0)', facility: 20, severity: 7, ts: sec('2026-03-27T19:06:53Z'), hostname: 'source_server', appName: 'sshd(pam_unix)', procId: '12750', message: 'session opened for user foo by (uid=0)', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>Jul 31 21:39:21 example-b example-gw[10538]: disconnect host=/192.0.2.1 destination=192.0.2.2/11282 in=3274 out=1448 duration=0', facility: 20, severity: 7, ts: sec('2026-07-31T21:39:21Z'), hostname: 'example-b', appName: 'example-gw', procId: '10538', message: 'disconnect host=/192.0.2.1 destination=192.0.2.2/11282 in=3274 out=1448 duration=0', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>AUG 10 22:18:24 host tag This msg contains 8-bit European chars: äöü', facility: 20, severity: 7, ts: sec('2026-08-10T22:18:24Z'), hostname: 'host', appName: 'tag', message: 'This msg contains 8-bit European chars: äöü', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167> Mar  7 19:06:53 example tag: testmessage (only date actually tested)', facility: 20, severity: 7, ts: sec('2026-03-07T19:06:53Z'), hostname: 'example', appName: 'tag', message: 'testmessage (only date actually tested)', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>Mar 7 2008 19:06:53: example tag: testmessage (only date actually tested)', facility: 20, severity: 7, ts: sec('2008-03-07T19:06:53Z'), hostname: 'example', appName: 'tag', message: 'testmessage (only date actually tested)', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>Mar 7 2008 19:06:53 example tag: testmessage (only date actually tested)', facility: 20, severity: 7, ts: sec('2008-03-07T19:06:53Z'), hostname: 'example', appName: 'tag', message: 'testmessage (only date actually tested)', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<167>Mar 7 19:06:53: example tag: testmessage (only date actually tested)', facility: 20, severity: 7, ts: sec('2026-03-07T19:06:53Z'), hostname: 'example', appName: 'tag', message: 'testmessage (only date actually tested)', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<14>Jan  6 2009 15:22:26 localhost', facility: 1, severity: 6, ts: sec('2009-01-06T15:22:26Z'), hostname: 'localhost', appName: '', message: '' },
  { source: RSYSLOG_PARSE1, input: '<167>Oct  8 23:05:06 10.321.1.123 05\\",result_code=200,b', facility: 20, severity: 7, ts: sec('2026-10-08T23:05:06Z'), hostname: '10.321.1.123', appName: '05\\",result_code=200,b', message: '' },
  { source: RSYSLOG_PARSE1, input: '<167>Feb 18 16:01:59 serverX -- MARK --', facility: 20, severity: 7, ts: sec('2026-02-18T16:01:59Z'), hostname: 'serverX', appName: '--', message: 'MARK --', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: 'Feb 18 16:01:59 serverX -- MARK --', facility: 1, severity: 5, ts: null, hostname: '', appName: '', message: 'Feb 18 16:01:59 serverX -- MARK --', differs: 'no PRI: rsyslog still reads a header (user.notice, host serverX); daytwo keeps the frame whole as RFC 3164 §4.3.3 says a relay does' },
  { source: RSYSLOG_PARSE1, input: '<38>Mar 27 19:06:53 source_server 0123456789012345678901234567890123456789: MSG part', facility: 4, severity: 6, ts: sec('2026-03-27T19:06:53Z'), hostname: 'source_server', appName: '0123456789012345678901234567890123456789', message: 'MSG part', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<29>Oct 16 20:47:24 example-p exam-pl[12345]: connect host= /192.0.2.1', facility: 3, severity: 5, ts: sec('2026-10-16T20:47:24Z'), hostname: 'example-p', appName: 'exam-pl', procId: '12345', message: 'connect host= /192.0.2.1', differs: LEADING_SPACE },
  { source: RSYSLOG_PARSE1, input: '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% Its time to make the do-nuts.', facility: 20, severity: 5, ts: '1061727255000003000', hostname: '192.0.2.1', appName: 'myproc', procId: '8710', message: '%% Its time to make the do-nuts.' },
  { source: RSYSLOG_PARSE1, input: '<6>AUG 10 22:18:24 2009  netips-warden2-p [audit] user=[*SMS] src=192.168.11.11 iface=5 access=9 Update State Reset', facility: 0, severity: 6, ts: sec('2026-08-10T22:18:24Z'), hostname: '2009', appName: '', message: ' netips-warden2-p [audit] user=[*SMS] src=192.168.11.11 iface=5 access=9 Update State Reset' },
  { source: RSYSLOG_PARSE1, input: '<14>Aug 30 23:00:05 X4711 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', facility: 1, severity: 6, ts: sec('2026-08-30T23:00:05Z'), hostname: 'X4711', appName: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', message: '' },
  { source: RSYSLOG_PARSE1, input: '<14>Aug 30 23:00:05 X4711 ', facility: 1, severity: 6, ts: sec('2026-08-30T23:00:05Z'), hostname: 'X4711', appName: '', message: '' },
  { source: RSYSLOG_PARSE1, input: '<14>Aug 30 23:00:05', facility: 1, severity: 6, ts: sec('2026-08-30T23:00:05Z'), hostname: '', appName: '', message: '' },
  { source: RSYSLOG_PARSE1, input: '<14>2010-08-30T23:00:05Z X4711 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', facility: 1, severity: 6, ts: sec('2010-08-30T23:00:05Z'), hostname: 'X4711', appName: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', message: '' },
  { source: RSYSLOG_PARSE1, input: '<14>2010-08-30T23:00:05Z X4711', facility: 1, severity: 6, ts: sec('2010-08-30T23:00:05Z'), hostname: 'X4711', appName: '', message: '' },
  // rsyslog: a header with no date.
  { source: 'rsyslog tests/parsertest-parse-nodate.sh', input: '<27>xapi: [error|xen3|15|Guest liveness monitor D:bca30ab3f1c1|master_connection] Connection to master died. I will continue to retry indefinitely (supressing future logging of this message)', facility: 3, severity: 3, ts: null, hostname: '', appName: 'xapi', message: '[error|xen3|15|Guest liveness monitor D:bca30ab3f1c1|master_connection] Connection to master died. I will continue to retry indefinitely (supressing future logging of this message)', differs: LEADING_SPACE },
  { source: 'rsyslog tests/parsertest-parse-nodate.sh', input: 'This is a message!', facility: 1, severity: 5, ts: null, hostname: '', appName: '', message: 'This is a message!', differs: 'no PRI: rsyslog reads host "This", tag "is"; daytwo keeps the frame whole (RFC 3164 §4.3.3)' },
  // rsyslog: a year in the date, a TAG without a colon, with and without [pid].
  { source: 'rsyslog tests (timereported test: `<175>Oct 16 2009 23:47:31 hostname tag …`)', input: '<175>Oct 16 2009 23:47:31 hostname tag This is a message', facility: 21, severity: 7, ts: sec('2009-10-16T23:47:31Z'), hostname: 'hostname', appName: 'tag', message: 'This is a message', differs: LEADING_SPACE },
  { source: 'rsyslog tests (timereported test: `<175>Oct 16 2009 23:47:31 hostname tag …`)', input: '<175>Oct 16 2009 23:47:31 hostname tag[1234] This is a message', facility: 21, severity: 7, ts: sec('2009-10-16T23:47:31Z'), hostname: 'hostname', appName: 'tag', procId: '1234', message: 'This is a message', differs: LEADING_SPACE },
  // rsyslog: spaces after PRI.
  { source: 'rsyslog tests (date-rfc3164-buggyday test)', input: '<38> Mar 17 19:06:53 example tag: testmessage (only date actually tested)', facility: 4, severity: 6, ts: sec('2026-03-17T19:06:53Z'), hostname: 'example', appName: 'tag', message: 'testmessage (only date actually tested)', differs: LEADING_SPACE },
  // syslog-ng: msgparse tests.
  { source: 'syslog-ng msgparse tests, Test(msgparse, test_ip_in_host)', input: '<0>Jan 10 01:00:00 1.2.3.4 prg0', facility: 0, severity: 0, ts: sec('2026-01-10T01:00:00Z'), hostname: '1.2.3.4', appName: 'prg0', message: '' },
  { source: 'syslog-ng msgparse tests, Test(msgparse, test_ip_in_host)', input: '<0>Jan 10 01:00:00 0000:BABA:BA00:DAB:BABA:BABA:BABA:BAB0 prg0', facility: 0, severity: 0, ts: sec('2026-01-10T01:00:00Z'), hostname: '0000:BABA:BA00:DAB:BABA:BABA:BABA:BAB0', appName: 'prg0', message: '' },
  // go-syslog (influxdata/go-syslog rfc5424 machine tests).
  { source: 'influxdata/go-syslog rfc5424/machine_test.go "Valid, version 999 (max)"', input: '<1>999 - - - - - -', facility: 0, severity: 1, ts: null, hostname: '', appName: '', message: '' },
  { source: 'influxdata/go-syslog rfc5424/machine_test.go "Valid, priority 191 (max)"', input: '<191>1 - - - - - -', facility: 23, severity: 7, ts: null, hostname: '', appName: '', message: '' },
  { source: 'influxdata/go-syslog rfc5424/machine_test.go "timestamp with positive offset"', input: '<1>1 2003-10-11T22:14:15+05:30 - - - - -', facility: 0, severity: 1, ts: sec('2003-10-11T16:44:15Z'), hostname: '', appName: '', message: '' }
]

for (const v of vectors) {
  test(`${v.source}: ${JSON.stringify(v.input.slice(0, 60))}`, () => {
    const m = parseSyslog(v.input, { zone: 'UTC', nowMs: NOW })
    const got = { facility: m.facility, severity: m.severity, ts: m.tsNs, hostname: m.hostname, appName: m.appName, procId: m.procId, msgId: m.msgId, message: m.message }
    const want = { facility: v.facility, severity: v.severity, ts: v.ts, hostname: v.hostname, appName: v.appName, procId: v.procId ?? '', msgId: v.msgId ?? '', message: v.message }
    assert.deepEqual(got, want, v.differs)
    assert.equal(m.malformed, undefined)
  })
}

test('a header not understood after a valid PRI keeps the sender\'s facility and severity', () => {
  // rsyslog keeps PRI for `<130> [ERROR] iapp_socket_task.c 399: …` (its parsing notes list it among malformed messages).
  const m = parseSyslog('<130> [ERROR] iapp_socket_task.c 399: iappSocketTask: iappRecvPkt returned error', { zone: 'UTC', nowMs: NOW })
  assert.equal(m.format, 'none')
  assert.equal(m.pri, true)
  assert.deepEqual([m.facility, m.severity], [16, 2])
})

test('RFC 6587 octet counting frames any message, also one that does not start with "<" (rsyslog imptcp, go-syslog octetcounting)', () => {
  const s = new FrameSplitter(1024)
  const got: Frame[] = []
  const text = 'Feb 18 16:01:59 serverX -- MARK --'
  const next = '<13>1 - - - - - -'
  const err = s.push(Buffer.from(`${Buffer.byteLength(text)} ${text}${next.length} ${next}`), frameCollector(got))
  assert.equal(err, null)
  assert.deepEqual(got.map((f) => stripTrailer(f.bytes).toString()), [text, '<13>1 - - - - - -'])
})
