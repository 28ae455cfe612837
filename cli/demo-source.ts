import { appendFileSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../core/config.js'

// A first run that shows something: on a laptop the forwarder's default roots
// (/var/log/pods, /var/log/containers, /var/vcap/sys/log) are missing, and `serve all`
// would store nothing. Then (config `demo`, on by default) a small demo job writes plain log
// files under <dataDir>/demo, laid out like a BOSH job's, and the forwarder tails them as its
// BOSH root: the lines go through the real forwarder, collector and store. The deployment is
// named `demo`, so nobody takes it for a real one.

export const DEMO_DEPLOYMENT = 'demo'
export const DEMO_JOB = 'web'
const ROTATE_BYTES = 1 << 20
const EVERY_MS = 1000

/** Whether a forwarder root holds no file at all (missing, unreadable or empty counts as empty). */
function emptyRoot (root: string): boolean {
  if (root === '') return true
  try {
    return readdirSync(root).length === 0 || !statSync(root).isDirectory()
  } catch {
    return true
  }
}

export function rootsEmpty (config: Config): boolean {
  const f = config.forwarder
  return [f.podLogRoot, f.containerLogRoot, f.boshLogRoot].every(emptyRoot)
}

const PATHS = ['/', '/cart', '/checkout', '/api/items', '/api/items/42', '/health', '/login']
const USERS = ['ada', 'grace', 'linus', 'margaret', 'ken']

/** One demo line per process; a rare error so that `--grep error` finds something. */
function lines (n: number, now: Date): Array<[process: string, file: string, line: string]> {
  const ts = now.toISOString()
  const path = PATHS[n % PATHS.length]!
  const status = n % 17 === 0 ? 500 : n % 11 === 0 ? 404 : 200
  const out: Array<[string, string, string]> = [
    ['nginx', 'access.log', `127.0.0.1 - - [${ts}] "GET ${path} HTTP/1.1" ${status} ${200 + (n * 37) % 4000} "-" "demo-client/1.0"`],
    ['app', 'app.log', JSON.stringify({ ts, level: status === 500 ? 'error' : 'info', msg: status === 500 ? 'checkout failed: payment service timed out' : 'request served', path, user: USERS[n % USERS.length], ms: 3 + (n * 13) % 250 })]
  ]
  if (n % 10 === 0) out.push(['worker', 'worker.log', `${ts} INFO worker: processed batch ${n / 10} (${(n * 7) % 100} jobs)`])
  return out
}

export interface DemoSource { root: string, stop: () => void }

/**
 * Point the forwarder at the demo root and start writing. Call before the forwarder starts.
 * A file over 1 MiB is renamed to `.1` (one generation kept), so a forgotten laptop run
 * cannot fill the disk.
 */
export function startDemo (config: Config): DemoSource {
  const root = join(config.dataDir, 'demo')
  const f = config.forwarder
  f.boshLogRoot = root
  f.deployment = DEMO_DEPLOYMENT
  f.job = DEMO_JOB
  f.index = '0'
  let n = 0
  const write = () => {
    for (const [proc, file, line] of lines(n++, new Date())) {
      const dir = join(root, proc)
      const path = join(dir, file)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      try { if (statSync(path).size > ROTATE_BYTES) renameSync(path, path + '.1') } catch { /* not there yet: appendFileSync creates it */ }
      appendFileSync(path, line + '\n', { mode: 0o600 })
    }
  }
  // A few seconds of history at once, so the first `logs tail` has lines to show.
  for (let i = 0; i < 20; i++) write()
  const timer = setInterval(write, EVERY_MS)
  timer.unref()
  return { root, stop: () => clearInterval(timer) }
}
