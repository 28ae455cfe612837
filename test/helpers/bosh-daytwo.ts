import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { decodeGroup } from '../../core/wire.js'
import { startDaytwo, tempDir, type DaytwoProcess } from './daytwo-process.js'
import { operatorToken } from './query-api.js'

// A `serve all` tailing one BOSH job folder, for tests that write and rotate its files, and
// the messages it stored (the rotation tests' common ground).

export interface BoshDaytwo { dir: string, logDir: string, cfg: Record<string, unknown>, daytwo: DaytwoProcess, deployment: string }

export async function startBoshDaytwo (t: { after: (fn: () => unknown) => void }, job: string, deployment: string): Promise<BoshDaytwo> {
  const tmp = tempDir(`daytwo-${deployment}-`)
  const bosh = join(tmp.path, 'bosh')
  const logDir = join(bosh, job)
  mkdirSync(logDir, { recursive: true })
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: bosh, boshSpecFile: join(tmp.path, 'none'), deployment, job: 'vm', index: '0', port: 0, scanIntervalMs: 100, pollIntervalMs: 20, checkpointIntervalMs: 50 },
    collector: { port: 0 },
    query: { port: 0 }
  }
  const ctx: BoshDaytwo = { dir: tmp.path, logDir, cfg, deployment, daytwo: await startDaytwo('all', cfg, tmp.path) }
  t.after(async () => { await ctx.daytwo.kill(); tmp.cleanup() })
  return ctx
}

/** Every message stored for the deployment, in bundle order. */
export async function storedMessages (ctx: BoshDaytwo): Promise<string[]> {
  const token = operatorToken(join(ctx.dir, 'data'))
  const res = await fetch(`${ctx.daytwo.urls.query}/api/v1/logs?deployment=${ctx.deployment}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status === 404) return []
  const out: string[] = []
  for (const line of (await res.text()).split('\n')) if (line) out.push(...decodeGroup(line).entries.map((e) => e[2]))
  return out
}

/** What logrotate's copytruncate does: copy the file aside (onto an older copy: same inode), then truncate it in place. */
export function copytruncate (path: string, suffix: string): void {
  copyFileSync(path, path + suffix)
  const fd = openSync(path, 'r+')
  ftruncateSync(fd, 0)
  closeSync(fd)
}
