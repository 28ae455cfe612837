import { readdirSync, readFileSync } from 'node:fs'

// CPU seconds and memory of a process tree, read from /proc (Linux). A child's CPU is the sum
// of utime+stime over the root and its live descendants, plus what reaped children left in
// cutime/cstime; peak RSS is the largest sampled sum of VmRSS over the tree, and never less
// than the root's own VmHWM (the kernel's high-water mark, exact for one process).

const CLK_TCK = 100 // getconf CLK_TCK on every Linux we run on

interface Stat { ppid: number, cpuTicks: number }

function readStat (pid: number): Stat | null {
  let s: string
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  // Fields after the command name, which may contain spaces: ") S ppid …".
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  // f[0]=state f[1]=ppid … f[11]=utime f[12]=stime f[13]=cutime f[14]=cstime
  return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) }
}

function statusKb (pid: number, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch { return 0 }
}

/** The root pid and every live descendant. */
export function processTree (root: number): number[] {
  const parent = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const st = readStat(Number(name))
    if (st) parent.set(Number(name), st.ppid)
  }
  const out = [root]
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid)
  return out
}

/** CPU seconds (user+sys) used so far by a process tree. */
export function cpuSeconds (root: number): number {
  let ticks = 0
  for (const pid of processTree(root)) ticks += readStat(pid)?.cpuTicks ?? 0
  return ticks / CLK_TCK
}

export function rssMB (pid: number): number { return statusKb(pid, 'VmRSS') / 1024 }
export function hwmMB (pid: number): number { return statusKb(pid, 'VmHWM') / 1024 }

/**
 * Samples a process tree every `everyMs`: peak RSS (MB) and the last CPU seconds seen, so the
 * figures survive the process's exit. Call `stop()` before killing the process.
 */
export class TreeSampler {
  peakRssMB = 0
  cpuS = 0
  private readonly timer: NodeJS.Timeout
  private readonly cpu0: number
  constructor (readonly pid: number, everyMs = 100) {
    this.cpu0 = cpuSeconds(pid)
    this.timer = setInterval(() => this.sample(), everyMs)
  }

  /** Count CPU from now on (e.g. after startup settled). */
  static cpuFrom (pid: number): number { return cpuSeconds(pid) }

  sample (): void {
    const tree = processTree(this.pid)
    let rss = 0
    let ticks = 0
    for (const p of tree) { rss += rssMB(p); ticks += readStat(p)?.cpuTicks ?? 0 }
    if (ticks > 0) this.cpuS = ticks / CLK_TCK
    this.peakRssMB = Math.max(this.peakRssMB, rss, hwmMB(this.pid))
  }

  /** Take a last sample and stop; returns { cpuS, peakRssMB } (CPU since the sampler started, when `sinceStart`). */
  stop (sinceStart = false): { cpuS: number, peakRssMB: number } {
    this.sample()
    clearInterval(this.timer)
    return { cpuS: sinceStart ? this.cpuS - this.cpu0 : this.cpuS, peakRssMB: this.peakRssMB }
  }
}
