import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join, relative } from 'node:path'
import { freePort, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { storedMessages } from '../helpers/faults.js'
import { cliPath } from '../helpers/repo.js'

// Issue 14, item 7: with the usual umask 022 every file daytwo wrote was readable by every
// local user: the embedded store and its WAL, the syslog spool. `logs serve all` is started
// from a shell with `umask 022`, over a data dir an older run left open (0777 folder, 0644
// token), is fed through a tailed file and a syslog connection, and then every file and
// folder under its data dir is stat'ed.

const OPERATOR = 'private-operator-token'

function walk (root: string): Array<{ path: string, mode: number, dir: boolean }> {
  const out: Array<{ path: string, mode: number, dir: boolean }> = []
  const visit = (p: string) => {
    const st = lstatSync(p)
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() })
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(join(p, n))
  }
  visit(root)
  return out
}

test('serve all under umask 022: every data file 0600 and folder 0700, loose ones tightened with a warning', async (t) => {
  const tmp = tempDir('daytwo-private-')
  const dataDir = join(tmp.path, 'data')
  const bosh = join(tmp.path, 'bosh')
  mkdirSync(join(bosh, 'web'), { recursive: true })
  writeFileSync(join(bosh, 'web', 'web.log'), 'tailed line 1\ntailed line 2\n')
  // What a run under the old code left: an open folder and a world-readable token.
  mkdirSync(join(dataDir, 'forwarder'), { recursive: true })
  chmodSync(dataDir, 0o777)
  chmodSync(join(dataDir, 'forwarder'), 0o755)
  writeFileSync(join(dataDir, 'operator-token'), OPERATOR + '\n', { mode: 0o644 })
  chmodSync(join(dataDir, 'operator-token'), 0o644)
  const tcpPort = await freePort()
  const cfgFile = join(tmp.path, 'config.json')
  writeFileSync(cfgFile, JSON.stringify({
    dataDir,
    logLevel: 'warn',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: bosh, boshSpecFile: join(tmp.path, 'no-spec.json'), deployment: 'priv', job: 'web', index: '0', port: 0, scanIntervalMs: 200, pollIntervalMs: 50, syslog: { tcpPort } },
    collector: { port: 0 },
    query: { port: 0 }
  }))
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DAYTWO_')) env[k] = v
  // As an operator starts it: from a shell whose umask lets everyone read.
  const child = spawn('sh', ['-c', 'umask 022; exec "$@"', 'sh', process.execPath, cliPath(), 'serve', 'all', '--config', cfgFile], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  t.after(() => { child.kill('SIGKILL'); tmp.cleanup() })
  assert.ok(await waitFor(() => /^ {2}query\s+http/m.test(out) || child.exitCode !== null, 20_000), `started\n${out}\n${err}`)
  const query = /^ {2}query\s+(http:\/\/\S+)/m.exec(out)?.[1]
  assert.ok(query, `no query URL in\n${out}\n${err}`)

  const s = connect(tcpPort, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  s.end('<14>1 2026-12-02T05:00:00Z host app - - - spooled line\n')
  assert.ok(await waitFor(async () => (await storedMessages(query, OPERATOR, 'priv')).length === 2 && (await storedMessages(query, OPERATOR, 'syslog')).length === 1, 20_000), 'the tailed and the syslog lines are stored')
  assert.ok(await waitFor(() => existsSync(join(dataDir, 'forwarder', 'checkpoints.json')), 10_000), 'checkpoints written')

  const entries = walk(dataDir)
  const rel = entries.map((e) => relative(dataDir, e.path))
  // The test means something only if the files it is about exist.
  for (const want of [/^store\/.+\.(db|sqlite)$/, /^store\/.+-wal$/, /^store\/.+-shm$/, /^forwarder\/syslog-spool\/.+\.seg$/, /^forwarder\/checkpoints\.json$/, /^forwarder-token$/, /^operator-token$/]) {
    assert.ok(rel.some((r) => want.test(r)), `no file matching ${want} in ${JSON.stringify(rel)}`)
  }
  const open = entries.filter((e) => (e.mode & 0o077) !== 0).map((e) => `${relative(dataDir, e.path) || '.'} ${e.mode.toString(8)}`)
  assert.deepEqual(open, [], 'readable by group or others')
  for (const e of entries) assert.equal(e.mode & 0o700, e.dir ? 0o700 : 0o600, relative(dataDir, e.path))
  assert.match(err, /data files or folders were open to other users: made private/)
})
