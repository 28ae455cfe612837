import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { cliPath, repoRoot } from '../helpers/repo.js'
import { runCliAsync } from '../helpers/query-fixture.js'

// The day's questions as a user asks them: a real `logs serve all` started on a laptop-like
// config (every forwarder root missing or empty, so the first-run demo job runs), and the
// commands its banner suggests run as child processes — then ls, tail and query with their
// errors.

let daytwo: DaytwoProcess
let tmp: { path: string, cleanup: () => void }
/** The banner's suggested commands, e.g. `DAYTWO_QUERY_URL=… DAYTWO_DATA_DIR=… logs ls`. */
let suggested: string[]

/** A banner line as argv and environment: `A=1 B=2 logs ls x` → ({A, B}, ['ls', 'x']). */
function parseSuggestion (line: string): { env: NodeJS.ProcessEnv, args: string[] } {
  const words = line.trim().split(/\s+/)
  const env: NodeJS.ProcessEnv = {}
  while (/^[A-Z_]+=/.test(words[0]!)) { const [k, ...v] = words.shift()!.split('='); env[k!] = v.join('=') }
  assert.equal(words.shift(), 'logs', line)
  return { env, args: words }
}

/** A user's environment: none of the test runner's DAYTWO_ settings. */
function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) env[k] = k.startsWith('DAYTWO_') ? undefined : v
  return { ...env, ...extra }
}

const suggestion = (cmd: string) => {
  const line = suggested.find((l) => parseSuggestion(l).args[0] === cmd)
  assert.ok(line, `the banner suggests logs ${cmd}:\n${daytwo.stdout()}`)
  return parseSuggestion(line)
}

/** Run a suggested or built command; `cwd` the data dir's parent, as a user in the checkout. */
const run = async (args: string[], env: NodeJS.ProcessEnv = suggestion('ls').env) => await runCliAsync(args, cleanEnv(env), tmp.path)

/** Start a long-running command (tail), collect stdout until `enough` says so, then stop it. */
async function collect (args: string[], enough: (out: string) => boolean): Promise<{ out: string, err: string }> {
  const child = spawn(process.execPath, [cliPath(), ...args], { env: cleanEnv(suggestion('ls').env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await waitFor(() => enough(out) || child.exitCode !== null, 30000, 100)
  child.kill('SIGTERM')
  await exited
  return { out, err }
}

before(async () => {
  tmp = tempDir('daytwo-daycli-')
  mkdirSync(join(tmp.path, 'empty-pods'))
  // The defaults' shape on a laptop: one root empty, one missing, one disabled.
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: join(tmp.path, 'empty-pods'), containerLogRoot: '', boshLogRoot: join(tmp.path, 'no-such-root'), boshSpecFile: join(tmp.path, 'no-spec.json'), port: 0, scanIntervalMs: 200, pollIntervalMs: 50 },
    collector: { port: 0 },
    query: { port: 0 }
  }
  // The helper turns the demo off for other suites; here it is on, as by default.
  daytwo = await startDaytwo('all', { ...cfg, demo: true }, tmp.path)
  suggested = daytwo.stdout().split('\n').filter((l) => /^ {2}(DAYTWO_\S+ )*logs /.test(l))
})
after(async () => { await daytwo?.stop(); tmp?.cleanup() })

test('first run: the banner names the demo and its suggested commands print real lines', async () => {
  assert.match(daytwo.stdout(), /demo job's files in .*deployment 'demo'/)
  const ls = suggestion('ls')
  let r = await run(ls.args, ls.env)
  assert.ok(await waitFor(async () => { r = await run(ls.args, ls.env); return /^demo\s+web\/0\s+up\s/m.test(r.stdout) }, 30000, 300), r.stdout + r.stderr)
  assert.equal(r.status, 0, r.stderr)
  const fetch = suggestion('fetch')
  const got = await run([...fetch.args, '--format', 'text', '--no-prefix'], fetch.env)
  assert.equal(got.status, 0, got.stderr)
  assert.match(got.stdout, /"GET \/\S* HTTP\/1\.1" \d{3} /)
  // What a demo file holds is what fetch printed (byte for byte, in order).
  const access = readFileSync(join(tmp.path, 'data', 'demo', 'nginx', 'access.log'), 'utf8').split('\n')
  const printed = got.stdout.split('\n').filter((l) => l.includes('demo-client'))
  assert.deepEqual(printed.slice(0, 5), access.slice(0, 5))
  const tail = suggestion('tail')
  const t = await collect(tail.args, (out) => out.split('\n').length > 3)
  assert.match(t.out, /^web\/0 (nginx\/access|app\/app|worker\/worker)\.log: /m, t.err)
})

test('logs ls: json rows, a job filter, and an unknown deployment or job lists the known ones', async () => {
  const r = await run(['ls', 'demo/web', '-o', 'json'])
  assert.equal(r.status, 0, r.stderr)
  const rows = JSON.parse(r.stdout) as Array<{ deployment: string, job: string, index: string, files: number, state: string, bytesToday: number, linesPerSecond: number, lastLineAgeSeconds: number }>
  assert.equal(rows.length, 1)
  assert.deepEqual([rows[0]!.deployment, rows[0]!.job, rows[0]!.index, rows[0]!.state], ['demo', 'web', '0', 'up'])
  assert.ok(rows[0]!.files >= 2 && rows[0]!.bytesToday > 0 && rows[0]!.linesPerSecond > 0, r.stdout)
  // A silence threshold below the demo's one line a second: silent.
  const silent = JSON.parse((await run(['ls', '-o', 'json', '--silent-after', '1ms'])).stdout) as Array<{ state: string }>
  assert.deepEqual(silent.map((x) => x.state), ['silent'])
  for (const [arg, what] of [['nope', "no deployment 'nope'"], ['demo/nojob', "no job 'nojob' in deployment 'demo'"]] as const) {
    const e = await run(['ls', arg])
    assert.equal(e.status, 1)
    assert.match(e.stderr, new RegExp(`${what}\\. Known jobs:\\n  demo/web`))
  }
  const bad = await run(['ls', '-o', 'yaml'])
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /-o yaml: use table or json \(see `logs ls --help`\)/)
})

test('logs tail: -n per file, --grep filters, -o jsonl and raw', async () => {
  const g = await collect(['tail', 'demo/web', '-n', '50', '--grep', '" 500 ', '-o', 'raw'], (out) => out.split('\n').length > 2)
  const lines = g.out.split('\n').filter(Boolean)
  assert.ok(lines.length >= 1, g.err)
  for (const l of lines) assert.match(l, /" 500 /)
  const j = await collect(['tail', 'demo/web/0', '-n', '1', '-o', 'jsonl'], (out) => out.split('\n').length > 3)
  const objs = j.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { deployment: string, process: string, file: string, ts: string, line: string })
  assert.ok(objs.length >= 3, j.err)
  for (const o of objs) {
    assert.equal(o.deployment, 'demo')
    assert.match(o.ts, /^\d{4}-\d\d-\d\dT/)
  }
  const e = await run(['tail', 'demo/nojob'])
  assert.equal(e.status, 1)
  assert.match(e.stderr, /no job 'nojob' in deployment 'demo'\. Known jobs:\n {2}demo\/web/)
})

test('logs query: log lines, a metric query as series tables, Loki\'s parse error', async () => {
  const r = await run(['query', '{deployment="demo", process="nginx"} |= "HTTP/1.1"', '--limit', '5', '-o', 'raw'])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n').filter(Boolean)
  assert.equal(lines.length, 5)
  for (const l of lines) assert.match(l, /demo-client/)
  const fwd = await run(['query', '{deployment="demo", process="nginx"}', '--limit', '3', '--forward', '-o', 'raw', '--since', '1d'])
  const access = readFileSync(join(tmp.path, 'data', 'demo', 'nginx', 'access.log'), 'utf8').split('\n')
  assert.deepEqual(fwd.stdout.split('\n').filter(Boolean), access.slice(0, 3))
  const m = await run(['query', 'sum by (process) (count_over_time({deployment="demo"}[10m]))', '--since', '5m', '--step', '1m'])
  assert.equal(m.status, 0, m.stderr)
  assert.match(m.stdout, /^\{process="nginx"\}\n {2}TIME\s+VALUE\n {2}\d{4}-\S+\s+\d+$/m)
  assert.match(m.stdout, /^\{process="app"\}$/m)
  const bad = await run(['query', '{deployment="demo"'])
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /parse error at line 1, col \d+: .*expecting \}/)
})

test('an unreachable server is named with how to set it; --help teaches with examples', async () => {
  const r = await run(['ls'], { DAYTWO_QUERY_URL: 'http://127.0.0.1:1' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /cannot reach the query service at http:\/\/127\.0\.0\.1:1: .*\(set --url or DAYTWO_QUERY_URL\)/)
  for (const cmd of ['ls', 'tail', 'query']) {
    const h = await run([cmd, '--help'])
    assert.equal(h.status, 0)
    assert.match(h.stdout, new RegExp(`^Usage: logs ${cmd} `, 'm'))
    assert.match(h.stdout, /Examples:\n {2}logs /)
    assert.match(h.stdout, /Exit codes:/)
  }
})

test('`logs` on PATH after `npm install -g` of the checkout, as the README says', () => {
  const prefix = tempDir('daytwo-global-')
  try {
    execFileSync('npm', ['install', '-g', '--prefix', prefix.path, '--no-audit', '--no-fund', repoRoot()], { stdio: 'pipe', env: cleanEnv() })
    const bin = join(prefix.path, 'bin', 'logs')
    const help = execFileSync(bin, ['--help'], { encoding: 'utf8', env: cleanEnv() })
    assert.match(help, /^logs — daytwo/)
    assert.match(help, /^ {2}ls \[/m)
    assert.equal(readFileSync(join(repoRoot(), 'dist', 'cli', 'main.js'), 'utf8').split('\n')[0], '#!/usr/bin/env node')
  } finally {
    prefix.cleanup()
  }
})
