import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

// Where a profiled benchmark's time went. node dist/bench/cpu-profile.js [--top N] FILE.cpuprofile…
// Profiles come from BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' (test/helpers/daytwo-process.ts):
// one file per thread (main, writer, each scan worker). For each it prints the functions with
// the most time of their own and the most time including what they called, so the scan
// workers' split (SQLite read, LZ4 decode, record walk) reads at a glance.

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

function name (cf: CallFrame): string {
  return `${cf.functionName === '' ? '(anonymous)' : cf.functionName} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`
}

/** Seconds of own time and of inclusive time per function. */
export function summarize (p: Profile): { total: number, self: Map<string, number>, inclusive: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    const s = (p.timeDeltas[i] ?? 0) / 1e6
    total += s
    let id: number | undefined = p.samples[i]
    const k = name(byId.get(id!)!.callFrame)
    self.set(k, (self.get(k) ?? 0) + s)
    const seen = new Set<string>() // a recursive function counts once per sample
    while (id !== undefined) {
      const key = name(byId.get(id)!.callFrame)
      if (!seen.has(key)) { seen.add(key); inclusive.set(key, (inclusive.get(key) ?? 0) + s) }
      id = parent.get(id)
    }
  }
  return { total, self, inclusive }
}

function top (m: Map<string, number>, n: number, total: number): string[] {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(3).padStart(8)} s ${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`)
}

function main (): void {
  const args = process.argv.slice(2)
  let n = 15
  const at = args.indexOf('--top')
  if (at >= 0) { n = Number(args[at + 1]); args.splice(at, 2) }
  if (args.length === 0 || !Number.isInteger(n) || n <= 0) {
    console.error('usage: node dist/bench/cpu-profile.js [--top N] FILE.cpuprofile…')
    process.exitCode = 2
    return
  }
  for (const f of args) {
    const s = summarize(JSON.parse(readFileSync(f, 'utf8')) as Profile)
    console.log(`== ${basename(f)}: ${s.total.toFixed(2)} s sampled`)
    console.log('-- own time'); for (const l of top(s.self, n, s.total)) console.log(l)
    console.log('-- including callees'); for (const l of top(s.inclusive, n, s.total)) console.log(l)
  }
}

main()
