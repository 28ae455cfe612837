import { spawn, spawnSync } from 'node:child_process'
import { criEntry } from './query-corpus.js'
import { vlTimeNs } from './victoria-logs.js'

// The answers of the query benchmark's questions, in one shape whoever gave them (daytwo's
// Loki API, VictoriaLogs' LogsQL API, grep over the raw files), and how two answers differ.

export type Answer =
  | { kind: 'lines', lines: Array<[string, string]> } // [ns, message], newest first
  | { kind: 'count', n: number }
  | { kind: 'levels', counts: Record<string, number> }
  | { kind: 'values', values: string[] }

const newestFirst = (a: [string, string], b: [string, string]) => {
  const x = BigInt(a[0])
  const y = BigInt(b[0])
  return x > y ? -1 : x < y ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0
}

export function linesAnswer (lines: Array<[string, string]>, limit = Infinity): Answer {
  return { kind: 'lines', lines: [...lines].sort(newestFirst).slice(0, limit) }
}

/** Where two answers differ, in a sentence; null when they are equal. */
export function difference (want: Answer, got: Answer): string | null {
  if (want.kind !== got.kind) return `expected ${want.kind}, got ${got.kind}`
  if (want.kind === 'count' && got.kind === 'count') return want.n === got.n ? null : `count ${got.n}, expected ${want.n}`
  if (want.kind === 'values' && got.kind === 'values') {
    const a = [...want.values].sort().join(',')
    const b = [...got.values].sort().join(',')
    return a === b ? null : `values [${b}], expected [${a}]`
  }
  if (want.kind === 'levels' && got.kind === 'levels') {
    const names = [...new Set([...Object.keys(want.counts), ...Object.keys(got.counts)])].sort()
    const off = names.filter((n) => (want.counts[n] ?? 0) !== (got.counts[n] ?? 0))
    return off.length === 0 ? null : off.map((n) => `${n}: ${got.counts[n] ?? 0}, expected ${want.counts[n] ?? 0}`).join('; ')
  }
  if (want.kind === 'lines' && got.kind === 'lines') {
    const n = Math.max(want.lines.length, got.lines.length)
    for (let i = 0; i < n; i++) {
      const w = want.lines[i]
      const g = got.lines[i]
      if (w?.[0] !== g?.[0] || w?.[1] !== g?.[1]) {
        return `${got.lines.length} lines, expected ${want.lines.length}; first difference at line ${i + 1} (newest first): got ${JSON.stringify(g ?? null).slice(0, 200)}, expected ${JSON.stringify(w ?? null).slice(0, 200)}`
      }
    }
    return null
  }
  return 'unknown answer kind'
}

// —— daytwo (Loki API) ——

/** A Loki query_range answer as lines (streams) or sums (matrix: per `level`, or one count). */
export function fromLoki (text: string, want: Answer['kind']): Answer {
  const body = JSON.parse(text) as { status: string, data: any }
  if (body.status !== 'success') throw new Error(`Loki API: ${text.slice(0, 300)}`)
  if (want === 'values') return { kind: 'values', values: body.data as string[] }
  if (want === 'lines') return linesAnswer((body.data.result as Array<{ values: Array<[string, string]> }>).flatMap((s) => s.values))
  const series = body.data.result as Array<{ metric: Record<string, string>, values: Array<[number, string]> }>
  const sum = (s: { values: Array<[number, string]> }) => s.values.reduce((n, v) => n + Number(v[1]), 0)
  if (want === 'count') return { kind: 'count', n: series.reduce((n, s) => n + sum(s), 0) }
  const counts: Record<string, number> = {}
  for (const s of series) counts[s.metric.level ?? ''] = (counts[s.metric.level ?? ''] ?? 0) + sum(s)
  return { kind: 'levels', counts }
}

// —— VictoriaLogs (LogsQL API) ——

export function fromLogsQL (text: string, want: Answer['kind']): Answer {
  if (want === 'lines') {
    const lines: Array<[string, string]> = []
    for (const l of text.split('\n')) {
      if (l.length === 0) continue
      const o = JSON.parse(l) as { _time: string, _msg: string }
      lines.push([vlTimeNs(o._time), o._msg])
    }
    return linesAnswer(lines)
  }
  if (want === 'count') {
    const first = text.split('\n').find((l) => l.length > 0)
    return { kind: 'count', n: first ? Number((JSON.parse(first) as { hits: string }).hits) : 0 }
  }
  const body = JSON.parse(text) as any
  if (want === 'values') return { kind: 'values', values: (body.values as Array<{ value: string }>).map((v) => v.value) }
  const counts: Record<string, number> = {}
  for (const s of body.data.result as Array<{ metric: Record<string, string>, values: Array<[number, string]> }>) {
    counts[s.metric.level ?? ''] = (counts[s.metric.level ?? ''] ?? 0) + s.values.reduce((n, v) => n + Number(v[1]), 0)
  }
  return { kind: 'levels', counts }
}

// —— grep over the raw files ——

export interface GrepRun { secs: number, stdout: Buffer }

/**
 * Run grep (C locale, so it compares bytes, its fastest) and collect what it prints: its
 * output goes to this process, not /dev/null, which GNU grep would notice and stop at the
 * first match.
 */
export async function runGrep (args: string[]): Promise<GrepRun> {
  const t0 = process.hrtime.bigint()
  const child = spawn('grep', args, { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  let err = ''
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  if (code !== 0 && code !== 1) throw new Error(`grep ${args.join(' ').slice(0, 200)} exited ${code}: ${err}`)
  return { secs, stdout: Buffer.concat(out) }
}

/** Sum of `grep -ch` counts (one per file). */
export function grepCount (stdout: Buffer): number {
  return stdout.toString('latin1').split('\n').filter(Boolean).reduce((n, l) => n + Number(l), 0)
}

/** `grep -h` output (CRI lines) as [ns, message], newest first, at most `limit`. */
export function grepLines (stdout: Buffer, limit: number): Answer {
  return linesAnswer(stdout.toString('utf8').split('\n').filter(Boolean).map(criEntry), limit)
}

/** The newest `limit` lines of the files: each file's last `limit` lines, merged. */
export function newestLines (files: string[], limit: number): Answer {
  const lines: Array<[string, string]> = []
  for (const f of files) {
    const r = spawnSync('tail', ['-n', String(limit), f], { encoding: 'utf8', maxBuffer: 1 << 30 })
    if (r.status !== 0) throw new Error(`tail ${f}: ${r.stderr}`)
    for (const l of r.stdout.split('\n')) if (l.length > 0) lines.push(criEntry(l))
  }
  return linesAnswer(lines, limit)
}
