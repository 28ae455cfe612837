import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { cliPath } from './repo.js'

/** Run the real `logs` CLI; returns stdout, stderr and exit status. */
export function runCli (args: string[], env: NodeJS.ProcessEnv, cwd?: string): { status: number, stdout: string, stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [cliPath(), ...args], { env: { ...process.env, ...env }, cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 })
    return { status: 0, stdout, stderr: '' }
  } catch (err) {
    const e = err as { status: number, stdout: string, stderr: string }
    return { status: e.status, stdout: e.stdout, stderr: e.stderr }
  }
}

/** Extract a .tgz with the system's tar and return every file's bytes by relative path. */
export function extract (tgz: string, into: string): Map<string, Buffer> {
  mkdirSync(into, { recursive: true })
  execFileSync('tar', ['xzf', tgz, '-C', into])
  const out = new Map<string, Buffer>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out.set(relative(into, p), readFileSync(p))
    }
  }
  walk(into)
  return out
}
