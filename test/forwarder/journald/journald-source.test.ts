import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { extract, runCli } from '../../helpers/bundle.js'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { entryAt, journaldConfig, journalRemoteMissing, writeJournal, type JournalFields } from '../../helpers/journal-remote.js'
import { operatorToken } from '../../helpers/query-api.js'
import { metricValue, readLogs } from '../../helpers/syslog-senders.js'

// The journald source on a real journal: systemd-journal-remote writes the entries below into
// a journal file, the forwarder reads it with the real `journalctl --directory`, and the lines
// come back through `logs fetch` and the Loki API byte for byte, with the identity the README
// promises (deployment journald, job = unit without .service, index = host, process = unit).

const T0 = 1_795_000_000_000_000n // µs: 2026-11-18
const MAX_LINE = 1024

const ENTRIES: JournalFields[] = [
  entryAt(T0, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'kubelet.service', SYSLOG_IDENTIFIER: 'kubelet', _PID: '812', _COMM: 'kubelet', PRIORITY: '3', MESSAGE: 'E1118 10:00:00.000000 812 pod_workers.go:1298] "Error syncing pod"' }),
  entryAt(T0 + 1n, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'containerd.service', PRIORITY: '6', MESSAGE: 'panic: runtime error\n\tgoroutine 1 [running]:\n\tmain.main()' }),
  entryAt(T0 + 2n, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'kubelet.service', PRIORITY: '4', _PID: '812', MESSAGE: 'Grüße ✓ — a UTF-8 line' }),
  entryAt(T0 + 3n, { _HOSTNAME: 'node-a', SYSLOG_IDENTIFIER: 'sshd', PRIORITY: '5', MESSAGE: 'Accepted publickey for ops' }),
  entryAt(T0 + 4n, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'kubelet.service', PRIORITY: '6', MESSAGE: 'x'.repeat(5000) }),
  entryAt(T0 + 5n, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'kubelet.service', PRIORITY: '6', MESSAGE: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0xfe, 0x21]) }),
  entryAt(T0 + 6n, { _HOSTNAME: 'node-a', _SYSTEMD_UNIT: 'kubelet.service', PRIORITY: '6', _COMM: 'k'.repeat(600), MESSAGE: 'a long command name' })
]

/** What each entry's line is once shipped: the huge one cut to maxLineBytes, invalid UTF-8 replaced. */
const WANT: Array<{ job: string, process: string, line: string, severity: string, level: string }> = [
  { job: 'kubelet', process: 'kubelet.service', line: ENTRIES[0]!.MESSAGE as string, severity: 'err', level: 'error' },
  { job: 'containerd', process: 'containerd.service', line: ENTRIES[1]!.MESSAGE as string, severity: 'info', level: 'info' },
  { job: 'kubelet', process: 'kubelet.service', line: ENTRIES[2]!.MESSAGE as string, severity: 'warning', level: 'warn' },
  { job: 'sshd', process: 'sshd', line: 'Accepted publickey for ops', severity: 'notice', level: 'info' },
  { job: 'kubelet', process: 'kubelet.service', line: 'x'.repeat(MAX_LINE), severity: 'info', level: 'info' },
  { job: 'kubelet', process: 'kubelet.service', line: 'bin\ufffd\ufffd!', severity: 'info', level: 'info' },
  { job: 'kubelet', process: 'kubelet.service', line: 'a long command name', severity: 'info', level: 'info' }
]

test('journald: a real journal file read by journalctl; lines back byte for byte through logs fetch and the Loki API, with the promised identity', { skip: journalRemoteMissing(), timeout: 120_000 }, async (t) => {
  const tmp = tempDir('daytwo-journald-')
  let d: DaytwoProcess | null = null
  t.after(async () => { await d?.kill(); tmp.cleanup() })
  writeJournal(join(tmp.path, 'journal'), 'remote', ENTRIES)
  d = await startDaytwo('all', journaldConfig(tmp.path, {}, { token: 'journald-token', maxLineBytes: MAX_LINE }), tmp.path)
  const token = operatorToken(join(tmp.path, 'data'))
  let n = 0
  assert.ok(await waitFor(async () => (n = (await readLogs(d!.urls.query!, token, 'journald')).reduce((s, g) => s + g.entries.length, 0)) >= ENTRIES.length, 30_000), `stored ${n} of ${ENTRIES.length}\n${d.stderr()}`)

  const groups = await readLogs(d.urls.query!, token, 'journald')
  const got = groups.flatMap((g) => g.entries.map((e) => ({ g, e }))).sort((a, b) => a.e[0].localeCompare(b.e[0]))
  assert.equal(got.length, ENTRIES.length)
  got.forEach(({ g, e }, i) => {
    const w = WANT[i]!
    assert.equal(e[2], w.line, `line ${i} byte for byte`)
    assert.equal(e[0], String((T0 + BigInt(i)) * 1000n), `line ${i}: __REALTIME_TIMESTAMP is its time`)
    assert.deepEqual([g.stream.source, g.stream.deployment, g.stream.job, g.stream.index, g.stream.process], ['journald', 'journald', w.job, 'node-a', w.process], `line ${i}: identity`)
    assert.equal(e[4]?.severity, w.severity, `line ${i}: PRIORITY → severity`)
  })
  assert.equal(got[0]!.e[4]?.pid, '812')
  assert.equal(got[0]!.e[4]?.comm, 'kubelet')
  assert.equal(got[0]!.e[4]?.boot_id, '0123456789abcdef0123456789abcdef')
  assert.equal(got[6]!.e[4]?.comm, 'k'.repeat(256), 'a huge field is cut to maxAttributeBytes')
  // Offsets count each stream's entries from 0.
  const kubelet = got.filter(({ g }) => g.stream.job === 'kubelet').map(({ e }) => e[1])
  assert.deepEqual(kubelet, [0, 1, 2, 3, 4])

  const page = await (await fetch(`${d.urls.forwarder}/metrics`)).text()
  assert.equal(metricValue(page, 'daytwo_forwarder_lines_altered_total', { reason: 'truncated' }), 1, page)
  assert.equal(metricValue(page, 'daytwo_forwarder_lines_altered_total', { reason: 'invalid_utf8' }), 1)
  assert.equal(metricValue(page, 'daytwo_forwarder_lines_altered_total', { reason: 'journald_field_truncated' }), 1)
  assert.equal(metricValue(page, 'daytwo_forwarder_lines_read_total', { source: 'journald' }), ENTRIES.length)

  // logs fetch: one file per unit, the lines in order, byte for byte.
  const env = { DAYTWO_QUERY_URL: d.urls.query!, DAYTWO_TOKEN: token }
  const out = join(tmp.path, 'out')
  mkdirSync(out)
  const r = runCli(['fetch', 'journald/kubelet', '--dir', out], env)
  assert.equal(r.status, 0, r.stderr)
  const files = extract(r.stdout.trim(), join(tmp.path, 'x'))
  const want = WANT.filter((w) => w.job === 'kubelet').map((w) => w.line + '\n').join('')
  assert.deepEqual([...files.keys()], ['kubelet.node-a/kubelet.service/kubelet.service'])
  assert.equal([...files.values()][0]!.toString('utf8'), want)

  // The Loki API: the identity as labels, the level from PRIORITY, the line as written.
  const q = new URLSearchParams({ query: '{deployment="journald", job="containerd"}', start: String(T0 * 1000n - 1n), end: String(BigInt(Date.now()) * 1_000_000n), limit: '10', direction: 'forward' })
  const res = await fetch(`${d.urls.query!}/loki/api/v1/query_range?${q.toString()}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(res.status, 200)
  const body = await res.json() as { data: { result: Array<{ stream: Record<string, string>, values: Array<[string, string]> }> } }
  assert.equal(body.data.result.length, 1, JSON.stringify(body))
  const s = body.data.result[0]!
  assert.equal(s.stream.index, 'node-a')
  assert.equal(s.stream.process, 'containerd.service')
  assert.deepEqual(s.values.map((v) => v[1]), [WANT[1]!.line])
  const lv = new URLSearchParams({ query: '{deployment="journald"} | detected_level="error"', start: String(T0 * 1000n - 1n), end: String(BigInt(Date.now()) * 1_000_000n), limit: '10' })
  const errs = await (await fetch(`${d.urls.query!}/loki/api/v1/query_range?${lv.toString()}`, { headers: { authorization: `Bearer ${token}` } })).json() as typeof body
  assert.deepEqual(errs.data.result.flatMap((x) => x.values.map((v) => v[1])), [WANT[0]!.line], 'PRIORITY 3 is level error')
})
