import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { extract, runCli } from '../helpers/bundle.js'
import { append, corpusFiles, e2eConfig, expected, type CorpusFile } from '../helpers/corpus.js'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { operatorToken, totalStored } from '../helpers/query-api.js'

// Issue 2's acceptance: `logs serve all` as a child process, 10 000 lines written into a
// temp log root in the kubelet's and BOSH's layouts, fetched back with the `logs` CLI and
// compared byte for byte.

const LINES_PER_FILE = 1430 // 7 files: 10 010 lines
const tmp = tempDir('daytwo-e2e-')
const files = corpusFiles(LINES_PER_FILE)
let daytwo: DaytwoProcess
let env: NodeJS.ProcessEnv

before(async () => {
  const cfg = e2eConfig(tmp.path)
  for (const f of files) append(tmp.path, f, 0, 700) // half before start
  daytwo = await startDaytwo('all', cfg, tmp.path)
  for (const f of files) append(tmp.path, f, 700, LINES_PER_FILE) // half while running
  const token = operatorToken(join(tmp.path, 'data'))
  env = { DAYTWO_QUERY_URL: daytwo.urls.query, DAYTWO_TOKEN: token }
  const all = files.length * LINES_PER_FILE
  const ok = await waitFor(async () => await totalStored(daytwo.urls.query!, token) >= all, 60000, 200)
  assert.ok(ok, `store has ${await totalStored(daytwo.urls.query!, token)} of ${all} lines\n${daytwo.stderr()}`)
})

after(async () => {
  if (daytwo) await daytwo.stop()
  tmp.cleanup()
})

function checkBundle (tgz: string, want: CorpusFile[], into: string): void {
  const got = extract(tgz, into)
  assert.deepEqual([...got.keys()].sort(), want.map((f) => f.bundlePath).sort())
  for (const f of want) {
    const bytes = got.get(f.bundlePath)!
    const exp = Buffer.from(expected(f))
    assert.ok(bytes.equals(exp), `${f.bundlePath}: ${bytes.length} bytes, expected ${exp.length}; first difference at byte ${firstDiff(bytes, exp)}`)
  }
}

function firstDiff (a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}

test('every job comes back byte for byte, one folder per instance, named like bosh logs', () => {
  for (const target of ['shop/web', 'shop/db', 'kube-system/dns', 'cf/router']) {
    const [dep, job] = target.split('/')
    const out = join(tmp.path, 'out', target.replace('/', '-'))
    const r = runCli(['fetch', target, '--dir', out], env)
    assert.equal(r.status, 0, r.stderr)
    const tgz = r.stdout.trim()
    assert.match(tgz, new RegExp(`/${dep}\\.${job}-\\d{8}-\\d{6}\\.tgz$`))
    checkBundle(tgz, files.filter((f) => f.deployment === dep && f.job === job), join(out, 'x'))
  }
})

test('one instance by index', () => {
  const out = join(tmp.path, 'out', 'one')
  const r = runCli(['fetch', 'shop/web/q8r5t', '--dir', out], env)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /shop\.web\.q8r5t-\d{8}-\d{6}\.tgz/)
  checkBundle(r.stdout.trim(), files.filter((f) => f.bundlePath.startsWith('web.q8r5t/')), join(out, 'x'))
})

test('the bundle is written to the current directory by default', () => {
  const cwd = join(tmp.path, 'out')
  const r = runCli(['fetch', 'shop/db'], env, cwd)
  assert.equal(r.status, 0, r.stderr)
  assert.ok(r.stdout.trim().startsWith(cwd + '/shop.db-'), r.stdout)
})

test('an unknown job is an error that lists the known ones', () => {
  const r = runCli(['fetch', 'shop/nope'], env)
  assert.equal(r.status, 1)
  assert.match(r.stderr, /no logs for shop\/nope/)
  assert.match(r.stderr, /shop\/web/)
  assert.match(r.stderr, /cf\/router/)
})

test('a wrong token is refused', () => {
  const r = runCli(['fetch', 'shop/web'], { ...env, DAYTWO_TOKEN: 'wrong' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /DAYTWO_ERR_UNAUTHORIZED/)
})

test('an unreachable query service is a clear error', () => {
  const r = runCli(['fetch', 'shop/web'], { ...env, DAYTWO_QUERY_URL: 'http://127.0.0.1:1' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /cannot reach the query service at http:\/\/127\.0\.0\.1:1/)
})

test('every role\'s /metrics passes promtool and counts the work', async (t) => {
  const promtool = spawnSync('promtool', ['--version'])
  const texts: Record<string, string> = {}
  for (const [role, url] of Object.entries(daytwo.urls)) texts[role] = await (await fetch(`${url}/metrics`)).text()
  const value = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
  const all = files.length * LINES_PER_FILE
  assert.equal(value(texts.collector!, 'daytwo_collector_records_stored_total'), all)
  assert.ok(value(texts.forwarder!, 'daytwo_forwarder_lines_shipped_total') >= all)
  assert.match(texts.forwarder!, /daytwo_forwarder_dropped_total\{reason="unparsed_envelope",role="forwarder"\} 0/)
  // The corpus has 3 KB lines but none over maxLineBytes: nothing truncated.
  assert.match(texts.forwarder!, /daytwo_forwarder_lines_altered_total\{reason="truncated",role="forwarder"\} 0/)
  assert.ok(value(texts.query!, 'daytwo_query_lines_served_total') > 0)
  if (promtool.error) {
    t.skip('promtool not installed (Debian package prometheus)')
    return
  }
  for (const [role, text] of Object.entries(texts)) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(r.status, 0, `${role}: ${r.stdout}${r.stderr}`)
  }
  // The forwarder and collector agree with each other and with the files on disk.
  const onDisk = files.reduce((n, f) => n + Number(execFileSync('wc', ['-l', join(tmp.path, f.path)], { encoding: 'utf8' }).trim().split(' ')[0]), 0)
  assert.ok(value(texts.forwarder!, 'daytwo_forwarder_lines_read_total') === onDisk)
})
