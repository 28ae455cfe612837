import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SampleSet } from '../../core/metric-samples.js'

// Node resource metrics from /proc, the way node_exporter's cpu, meminfo, loadavg, netdev and
// filefd collectors read them. Values in /proc/stat are in USER_HZ, which the kernel fixes at
// 100 for user space on every architecture Kubernetes and BOSH run on.

export const USER_HZ = 100

const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const

const MEMINFO: Array<[field: string, family: Parameters<SampleSet['add']>[0]]> = [
  ['MemTotal', 'daytwo_node_memory_total_bytes'],
  ['MemAvailable', 'daytwo_node_memory_available_bytes'],
  ['MemFree', 'daytwo_node_memory_free_bytes'],
  ['Cached', 'daytwo_node_memory_cached_bytes'],
  ['Buffers', 'daytwo_node_memory_buffers_bytes'],
  ['SwapTotal', 'daytwo_node_swap_total_bytes'],
  ['SwapFree', 'daytwo_node_swap_free_bytes']
]

/** /proc/stat: the aggregate `cpu` line in seconds per mode, and the boot time. */
export function parseProcStat (text: string): { cpu: Record<string, number>, bootTime: number | null } {
  const cpu: Record<string, number> = {}
  let bootTime: number | null = null
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const f = line.trim().split(/\s+/).slice(1).map(Number)
      CPU_MODES.forEach((mode, i) => { if (f[i] !== undefined && Number.isFinite(f[i])) cpu[mode] = f[i]! / USER_HZ })
    } else if (line.startsWith('btime ')) {
      bootTime = Number(line.slice(6).trim())
    }
  }
  return { cpu, bootTime }
}

/** /proc/meminfo in bytes by field name. */
export function parseMeminfo (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(line)
    if (m) out.set(m[1]!, Number(m[2]) * (line.endsWith('kB') ? 1024 : 1))
  }
  return out
}

/** /proc/net/dev: received and transmitted bytes per device. */
export function parseNetDev (text: string): Array<{ device: string, rx: number, tx: number }> {
  const out: Array<{ device: string, rx: number, tx: number }> = []
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number)
    if (f.length < 9) continue
    out.push({ device: line.slice(0, colon).trim(), rx: f[0]!, tx: f[8]! })
  }
  return out
}

async function read (path: string): Promise<string | null> {
  try { return await readFile(path, 'utf8') } catch { return null }
}

/**
 * Add the node's CPU, memory, load, network and file-handle samples to `out`, labelled with
 * `id` (deployment, job, index). A file that cannot be read (another kernel, a restricted
 * container) leaves its metrics out rather than failing the report.
 */
export async function collectNodeResources (procPath: string, id: string[], netDeviceExclude: RegExp, out: SampleSet): Promise<void> {
  const [stat, meminfo, loadavg, netdev, filenr] = await Promise.all([
    read(join(procPath, 'stat')), read(join(procPath, 'meminfo')), read(join(procPath, 'loadavg')),
    read(join(procPath, 'net', 'dev')), read(join(procPath, 'sys', 'fs', 'file-nr'))
  ])
  if (stat !== null) {
    const { cpu, bootTime } = parseProcStat(stat)
    for (const [mode, seconds] of Object.entries(cpu)) out.add('daytwo_node_cpu_seconds_total', [...id, mode], seconds)
    if (bootTime !== null) out.add('daytwo_node_boot_time_seconds', id, bootTime)
  }
  if (meminfo !== null) {
    const mem = parseMeminfo(meminfo)
    for (const [field, family] of MEMINFO) {
      const v = mem.get(field)
      if (v !== undefined) out.add(family, id, v)
    }
  }
  if (loadavg !== null) {
    const [l1, l5, l15] = loadavg.trim().split(/\s+/).map(Number)
    if (l1 !== undefined) out.add('daytwo_node_load1', id, l1)
    if (l5 !== undefined) out.add('daytwo_node_load5', id, l5)
    if (l15 !== undefined) out.add('daytwo_node_load15', id, l15)
  }
  if (netdev !== null) {
    for (const d of parseNetDev(netdev)) {
      if (netDeviceExclude.test(d.device)) continue
      out.add('daytwo_node_network_receive_bytes_total', [...id, d.device], d.rx)
      out.add('daytwo_node_network_transmit_bytes_total', [...id, d.device], d.tx)
    }
  }
  if (filenr !== null) {
    const [allocated, , max] = filenr.trim().split(/\s+/).map(Number)
    if (allocated !== undefined) out.add('daytwo_node_open_fds', id, allocated)
    if (max !== undefined) out.add('daytwo_node_max_fds', id, max)
  }
}
