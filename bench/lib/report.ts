import { execSync } from 'node:child_process'
import { cpus, totalmem } from 'node:os'

// Repeated runs, medians and the tables every bench prints.

export function median (xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median of each numeric field over runs. */
export function medianOf<T extends Record<string, number>> (runs: T[]): T {
  const out: Record<string, number> = {}
  for (const k of Object.keys(runs[0] ?? {})) out[k] = median(runs.map((r) => r[k]!))
  return out as T
}

export function fmt (x: number, digits = 0): string {
  if (!Number.isFinite(x)) return '–'
  return x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** A Markdown table (it reads as plain text too and pastes into docs/benchmarks.md). */
export function table (head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => '| ' + cells.map((c, i) => i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join(' | ') + ' |'
  return [line(head), '|' + w.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n')
}

export function machine (): string {
  let mem = `${Math.round(totalmem() / 2 ** 30)} GiB`
  try { mem = execSync('free -g', { encoding: 'utf8' }).split('\n')[1]!.trim().split(/\s+/)[1] + ' GiB (free -g)' } catch {}
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${mem}, Node ${process.version}, load ${execSync('cat /proc/loadavg', { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`
}

export function log (msg: string): void { process.stderr.write(msg + '\n') }
