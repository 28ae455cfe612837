import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StreamBatch } from '../../core/record.js'
import { decodeBatch } from '../../core/wire.js'
import { waitFor } from './daytwo-process.js'

// Real syslog senders for test/forwarder/syslog: util-linux `logger`, syslog-ng's `loggen`
// (unpacked by .ci/setup.d/syslog-ng.sh, since syslog-ng-core conflicts with rsyslog) and
// rsyslogd forwarding with omfwd. Each `find…` returns null when the tool is missing, and the
// test skips with the Debian package to install.

/** Config for `serve all` that reads no files and listens for syslog on the given ports. */
export function syslogTestConfig (base: string, syslog: Record<string, unknown>, forwarder: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataDir: join(base, 'data'),
    logLevel: 'warn',
    forwarder: {
      podLogRoot: join(base, 'none', 'pods'),
      containerLogRoot: join(base, 'none', 'containers'),
      boshLogRoot: join(base, 'none', 'bosh'),
      boshSpecFile: join(base, 'none', 'spec.json'),
      port: 0,
      flushIntervalMs: 50,
      ...forwarder,
      syslog: { spoolFsyncIntervalMs: 20, ...syslog }
    },
    collector: { port: 0 },
    query: { port: 0 }
  }
}

export function findTool (name: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin']) if (existsSync(join(dir, name))) return join(dir, name)
  return null
}

/** Run util-linux logger; throws with its stderr when it fails. */
export function logger (args: string[]): void {
  const r = spawnSync('logger', args, { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0) throw new Error(`logger ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
}

export interface Loggen { bin: string, env: NodeJS.ProcessEnv }

/** loggen unpacked from syslog-ng-core (SYSLOG_NG_UNPACKED or /opt/syslog-ng-unpacked), or on PATH. */
export function findLoggen (): Loggen | null {
  const root = process.env.SYSLOG_NG_UNPACKED ?? '/opt/syslog-ng-unpacked'
  const bin = join(root, 'usr', 'bin', 'loggen')
  if (existsSync(bin)) {
    const libs = libDirs(root)
    const env = { ...process.env, LD_LIBRARY_PATH: [...libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), SYSLOGNG_PREFIX: join(root, 'usr') }
    const r = spawnSync(bin, ['--help'], { env, encoding: 'utf8' })
    return r.status === 0 ? { bin, env } : null
  }
  const onPath = findTool('loggen')
  return onPath ? { bin: onPath, env: process.env } : null
}

function libDirs (root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, depth: number) => {
    if (depth > 5) return
    let entries
    try { entries = readdirSync(dir, { withFileTypes: true }) } catch { return }
    if (entries.some((e) => e.isFile() && /\.so(\.|$)/.test(e.name))) out.push(dir)
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), depth + 1)
  }
  walk(join(root, 'usr', 'lib'), 0)
  walk(join(root, 'lib'), 0)
  return out
}

/** Run loggen. It exits 0 even when it refuses its options, so an "error [" line counts as a failure (status -1). */
export function runLoggen (l: Loggen, args: string[]): { status: number | null, out: string } {
  const r = spawnSync(l.bin, args, { env: l.env, encoding: 'utf8', timeout: 30_000 })
  const out = (r.stdout ?? '') + (r.stderr ?? '')
  return { status: /^error \[/m.test(out) && r.status === 0 ? -1 : r.status, out }
}

/** A daemon run in the foreground by a test or a benchmark. */
export interface Daemon { name: string, pid: number, child: ChildProcess, stop: () => Promise<void>, output: () => string }

/** Start `cmd` in the foreground, keeping its output; stop sends SIGTERM, then SIGKILL after 10 s. */
export function spawnDaemon (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Daemon {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    name,
    pid: child.pid!,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(t)
    }
  }
}

/** rsyslogd -n with `body` after a global() naming a private work directory in `dir`; the config is checked first (-N1). */
export function startRsyslog (dir: string, body: string): Daemon {
  mkdirSync(join(dir, 'work'), { recursive: true })
  const conf = `global(workDirectory="${join(dir, 'work')}" maxMessageSize="64k")\n${body}\n`
  const file = join(dir, 'rsyslog.conf')
  writeFileSync(file, conf)
  const check = spawnSync('rsyslogd', ['-N1', '-f', file], { encoding: 'utf8' })
  if (check.status !== 0) throw new Error(`rsyslog rejected its config:\n${check.stderr}${check.stdout}\n${conf}`)
  return spawnDaemon('rsyslog', 'rsyslogd', ['-n', '-f', file, '-i', join(dir, 'rsyslogd.pid')])
}

/** Records for deployment[/job] through the query API (NDJSON wire format); [] when none. */
export async function readLogs (queryUrl: string, token: string, deployment: string, job?: string): Promise<StreamBatch[]> {
  const q = new URLSearchParams({ deployment })
  if (job !== undefined) q.set('job', job)
  const res = await fetch(`${queryUrl}/api/v1/logs?${q.toString()}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status === 404) return []
  if (!res.ok) throw new Error(`logs: HTTP ${res.status} ${await res.text()}`)
  return decodeBatch(await res.text())
}

export async function waitForRecords (queryUrl: string, token: string, deployment: string, job: string | undefined, n: number, timeoutMs = 20_000): Promise<StreamBatch[]> {
  let got: StreamBatch[] = []
  await waitFor(async () => {
    got = await readLogs(queryUrl, token, deployment, job)
    return got.reduce((k, g) => k + g.entries.length, 0) >= n
  }, timeoutMs, 100)
  return got
}

/** One sample's value from a Prometheus text page; labels must all match. NaN when absent. */
export function metricValue (page: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of page.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return NaN
}
