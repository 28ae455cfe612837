import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { SampleSet } from '../../core/metric-samples.js'
import { USER_HZ } from './node-resources.js'

// BOSH job processes, found the way monit finds them: `<runRoot>/<job>/<name>.pid`. A pid file
// that names another process than last time (another pid, or the same pid started at another
// time) is a restart, as the BOSH health monitor would see it.

const MAX_PIDFILES = 256

export interface ProcStat { utime: number, stime: number, startTicks: number }

/** /proc/<pid>/stat: fields after the parenthesised command name (which may hold spaces). */
export function parsePidStat (text: string): ProcStat | null {
  const close = text.lastIndexOf(')')
  if (close === -1) return null
  const f = text.slice(close + 2).split(' ')
  // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
  const utime = Number(f[11]); const stime = Number(f[12]); const startTicks = Number(f[19])
  if (![utime, stime, startTicks].every(Number.isFinite)) return null
  return { utime, stime, startTicks }
}

export interface ProcessEvent { kind: 'process_restart', process: string, pidfile: string, oldPid: number, newPid: number }

interface Known { pid: number, startTicks: number, restarts: number }

export class BoshProcesses {
  private readonly known = new Map<string, Known>()

  constructor (private readonly runRoot: string, private readonly procPath: string) {}

  /** Add samples for every pid file; returns the restarts seen since the last call. */
  async collect (id: string[], bootTime: number | null, out: SampleSet): Promise<ProcessEvent[]> {
    const events: ProcessEvent[] = []
    if (!this.runRoot) return events
    let jobs: string[]
    try { jobs = await readdir(this.runRoot) } catch { return events } // not a BOSH VM
    const found = new Set<string>()
    for (const job of jobs.sort()) {
      let files: string[]
      try { files = await readdir(join(this.runRoot, job)) } catch { continue }
      for (const file of files.sort()) {
        if (!file.endsWith('.pid') || found.size >= MAX_PIDFILES) continue
        const key = job + '/' + file
        found.add(key)
        const ev = await this.one(job, file, id, bootTime, out)
        if (ev) events.push(ev)
      }
    }
    for (const k of this.known.keys()) if (!found.has(k)) this.known.delete(k)
    return events
  }

  private async one (job: string, file: string, id: string[], bootTime: number | null, out: SampleSet): Promise<ProcessEvent | null> {
    const pidfile = file.slice(0, -4)
    const labels = [...id, job, pidfile]
    const key = job + '/' + file
    let pid = NaN
    try { pid = Number((await readFile(join(this.runRoot, job, file), 'utf8')).trim()) } catch { /* removed meanwhile */ }
    let st: ProcStat | null = null
    let rss: number | null = null
    if (Number.isInteger(pid) && pid > 0) {
      try {
        const base = join(this.procPath, String(pid))
        const [stat, status] = await Promise.all([readFile(join(base, 'stat'), 'utf8'), readFile(join(base, 'status'), 'utf8')])
        st = parsePidStat(stat)
        const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(status)
        if (m) rss = Number(m[1]) * 1024
      } catch { /* stale pid file: the process is gone */ }
    }
    const prev = this.known.get(key)
    let restarts = prev?.restarts ?? 0
    let event: ProcessEvent | null = null
    if (st !== null) {
      if (prev && prev.pid > 0 && (prev.pid !== pid || prev.startTicks !== st.startTicks)) {
        restarts++
        event = { kind: 'process_restart', process: job, pidfile, oldPid: prev.pid, newPid: pid }
      }
      this.known.set(key, { pid, startTicks: st.startTicks, restarts })
    } else if (prev) {
      // Down now: remember the old process, so its successor counts as a restart.
      this.known.set(key, prev)
    } else {
      this.known.set(key, { pid: 0, startTicks: 0, restarts })
    }
    out.add('daytwo_job_process_up', labels, st !== null ? 1 : 0)
    out.add('daytwo_job_process_restarts_total', labels, restarts)
    if (st === null) return event
    out.add('daytwo_job_process_cpu_seconds_total', [...labels, 'user'], st.utime / USER_HZ)
    out.add('daytwo_job_process_cpu_seconds_total', [...labels, 'system'], st.stime / USER_HZ)
    if (rss !== null) out.add('daytwo_job_process_resident_memory_bytes', labels, rss)
    if (bootTime !== null) out.add('daytwo_job_process_start_time_seconds', labels, bootTime + st.startTicks / USER_HZ)
    try {
      out.add('daytwo_job_process_open_fds', labels, (await readdir(join(this.procPath, String(pid), 'fd'))).length)
    } catch { /* another user's process: not readable without privileges */ }
    return event
  }
}
