import { readFileSync } from 'node:fs'
import { decodeGroup } from '../../core/wire.js'

// Helpers for the fault tests (test/faults/): a seeded PRNG so every generated input can be
// reproduced from the seed, /metrics parsing, the RSS of a child process, and reading stored
// messages back through the query API.

/** mulberry32: small, fast, deterministic. */
export class Rng {
  private s: number
  constructor (seed: number) { this.s = seed >>> 0 }
  next (): number {
    this.s = (this.s + 0x6D2B79F5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int (n: number): number { return Math.floor(this.next() * n) }
  pick<T> (a: readonly T[]): T { return a[this.int(a.length)]! }
  bytes (n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }

  /** A string of `n` characters drawn from `alphabet`. */
  str (n: number, alphabet: string): string {
    let s = ''
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)]
    return s
  }
}

/** Sum of a metric's samples whose labels include `labels` (0 when absent). */
export function metricValue (text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

export async function metrics (baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10000) })
  return await res.text()
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (0 when gone). */
export function rssBytes (pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak. */
export function rssWatcher (pid: number, everyMs = 100): { peak: () => number, stop: () => void } {
  let peak = rssBytes(pid)
  const timer = setInterval(() => { peak = Math.max(peak, rssBytes(pid)) }, everyMs)
  timer.unref()
  return { peak: () => Math.max(peak, rssBytes(pid)), stop: () => clearInterval(timer) }
}

/** Every message stored for a deployment, via GET /api/v1/logs (NDJSON, core/wire.ts). */
export async function storedMessages (queryUrl: string, token: string, deployment: string): Promise<string[]> {
  const res = await fetch(`${queryUrl}/api/v1/logs?deployment=${encodeURIComponent(deployment)}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60000) })
  if (res.status === 404) return []
  if (!res.ok) throw new Error(`logs: HTTP ${res.status} ${await res.text()}`)
  const out: string[] = []
  for (const line of (await res.text()).split('\n')) if (line) for (const e of decodeGroup(line).entries) out.push(e[2])
  return out
}

/** Total stored bytes per the usage report (GET /api/v1/usage), over all time. */
export async function usageBytes (queryUrl: string, token: string): Promise<{ bytes: number, lines: number }> {
  const res = await fetch(`${queryUrl}/api/v1/usage?from=0`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30000) })
  if (!res.ok) throw new Error(`usage: HTTP ${res.status} ${await res.text()}`)
  const r = await res.json() as { totals: { bytes: number, lines: number } }
  return { bytes: r.totals.bytes, lines: r.totals.lines }
}

/** Compare two multisets of strings; returns a short description of the difference, or ''. */
export function multisetDiff (got: string[], want: string[]): string {
  const count = new Map<string, number>()
  for (const w of want) count.set(w, (count.get(w) ?? 0) + 1)
  for (const g of got) count.set(g, (count.get(g) ?? 0) - 1)
  const missing: string[] = []
  const extra: string[] = []
  for (const [k, n] of count) {
    if (n > 0) missing.push(`${k.slice(0, 60)} ×${n}`)
    if (n < 0) extra.push(`${k.slice(0, 60)} ×${-n}`)
  }
  if (missing.length === 0 && extra.length === 0) return ''
  return `stored ${got.length}, written ${want.length}; missing ${missing.length} (e.g. ${JSON.stringify(missing.slice(0, 3))}), stored too often ${extra.length} (e.g. ${JSON.stringify(extra.slice(0, 3))})`
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
