import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findLoggen, spawnDaemon, type Daemon, type Loggen } from '../../test/helpers/syslog-senders.js'

export { startRsyslog } from '../../test/helpers/syslog-senders.js'

// The peers, each started with its own generated config, private work and persist
// directories (wiped before every run, or they would resume at the end of the files) and
// ports chosen at run time. rsyslog is installed; syslog-ng-core is unpacked beside it by
// .ci/setup.d/syslog-ng.sh (it conflicts with rsyslog).

export type Peer = Daemon

const SYSLOG_NG_ROOT = process.env.SYSLOG_NG_UNPACKED ?? '/opt/syslog-ng-unpacked'

/** A fresh private directory for a peer's config and state. */
export function freshDir (base: string, name: string): string {
  const dir = join(base, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return dir
}

export function hasRsyslog (): boolean { return existsSync('/usr/sbin/rsyslogd') }

export interface SyslogNg { bin: string, env: NodeJS.ProcessEnv, modulePath: string }

export function findSyslogNg (): SyslogNg | null {
  const bin = join(SYSLOG_NG_ROOT, 'usr', 'sbin', 'syslog-ng')
  const l = findLoggen()
  if (!existsSync(bin) || !l) return null
  const base = join(SYSLOG_NG_ROOT, 'usr', 'lib', 'syslog-ng')
  const ver = readdirSync(base).find((d) => /^\d+\.\d+$/.test(d))
  if (!ver) return null
  return { bin, env: l.env, modulePath: join(base, ver) }
}

export function syslogNgVersion (s: SyslogNg): string {
  const r = spawnSync(s.bin, ['--version'], { env: s.env, encoding: 'utf8' })
  return /Config version: (\S+)/.exec(r.stdout ?? '')?.[1] ?? '3.35'
}

/** syslog-ng -F with `body` after @version, persist file, pid file and control socket in `dir`. */
export function startSyslogNg (s: SyslogNg, dir: string, body: string): Peer {
  const conf = `@version: ${syslogNgVersion(s)}\n${body}\n`
  const file = join(dir, 'syslog-ng.conf')
  writeFileSync(file, conf)
  const common = ['-f', file, `--module-path=${s.modulePath}`, `--persist-file=${join(dir, 'syslog-ng.persist')}`, `--pidfile=${join(dir, 'syslog-ng.pid')}`, `--control=${join(dir, 'syslog-ng.ctl')}`, '--no-caps']
  const check = spawnSync(s.bin, ['--syntax-only', ...common], { env: s.env, encoding: 'utf8' })
  if (check.status !== 0) throw new Error(`syslog-ng rejected its config:\n${check.stderr}${check.stdout}\n${conf}`)
  return spawnDaemon('syslog-ng', s.bin, ['-F', '--stderr', ...common], s.env)
}

export function loggen (): Loggen | null { return findLoggen() }
