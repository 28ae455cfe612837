import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { repoRoot } from '../helpers/repo.js'
import { rssWatcher } from '../helpers/faults.js'

// One `serve all` process (every network edge in one place) with syslog UDP and TCP
// listeners, known tokens and a small ingest limit, for the hostile-input tests.

export const INGEST_TOKEN = 'hostile-ingest-token'
export const OPERATOR = 'hostile-operator-token'
export const MAX_BODY = 1024 * 1024
/** RSS bound for the one process under attack: generous, but far below "buffered a bomb". */
export const RSS_BOUND = 768 * 1024 * 1024
/** Every request must be answered within this (no hang). */
export const REQUEST_MS = 10_000

export interface Target {
  d: DaytwoProcess
  udpPort: number
  tcpPort: number
  peakRss: () => number
  /** Failures collected over a run: the first few are kept with the input that caused them. */
  failures: string[]
  fail: (what: string) => void
  failCount: () => number
}

type T = { after: (fn: () => unknown) => void }

export async function startTarget (t: T): Promise<Target> {
  const tmp = tempDir('daytwo-hostile-')
  const [udpPort, tcpPort] = [await freePort(), await freePort()]
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0, syslog: { udpPort, tcpPort, maxConnections: 64 } },
    collector: { port: 0, tokens: [INGEST_TOKEN], maxBodyBytes: MAX_BODY },
    query: { port: 0, tokens: [OPERATOR] }
  }
  const d = await startDaytwo('all', cfg, tmp.path)
  const rss = rssWatcher(d.child.pid!)
  t.after(async () => { rss.stop(); await d.kill(); tmp.cleanup() })
  const failures: string[] = []
  let count = 0
  return {
    d,
    udpPort,
    tcpPort,
    peakRss: rss.peak,
    failures,
    fail: (what) => { count++; if (failures.length < 12) failures.push(what) },
    failCount: () => count
  }
}

/** A short, printable description of an input for failure messages. */
export function show (x: string | Buffer, max = 160): string {
  const s = typeof x === 'string' ? x : x.toString('latin1')
  return JSON.stringify(s.length > max ? s.slice(0, max) + `…(${s.length} chars)` : s)
}

/** Hand-made nasty inputs kept in test/fixtures/hostile/<kind>/ (one file per input). */
export function fixtures (kind: string): Array<{ name: string, data: Buffer }> {
  const dir = join(repoRoot(), 'test', 'fixtures', 'hostile', kind)
  return readdirSync(dir).sort().map((name) => ({ name, data: readFileSync(join(dir, name)) }))
}

/** Run `jobs` with at most `n` in flight. */
export async function pool<T> (items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++
      await fn(items[i]!, i)
    }
  }))
}

/** The process still answers /healthz on every role. */
export async function healthy (d: DaytwoProcess): Promise<string[]> {
  const bad: string[] = []
  if (d.child.exitCode !== null || d.child.signalCode !== null) return [`process exited (${d.child.exitCode ?? d.child.signalCode})\n${d.stderr().slice(-3000)}`]
  for (const [role, url] of Object.entries(d.urls)) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(REQUEST_MS) })
      if (res.status !== 200) bad.push(`${role} /healthz: ${res.status}`)
    } catch (err) {
      bad.push(`${role} /healthz: ${(err as Error).message}`)
    }
  }
  return bad
}
