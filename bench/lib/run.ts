import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, log, median, table } from './report.js'

// One measured run of one system, repeated, and the table of medians with ratios to a peer.

export interface Figures { rate: number, secs: number, cpuS: number, rssMB: number, delivered: number }

export async function repeat (name: string, runs: number, once: (run: number) => Promise<Figures>): Promise<Figures[]> {
  const out: Figures[] = []
  for (let r = 1; r <= runs; r++) {
    try {
      const f = await once(r)
      log(`  ${name} run ${r}/${runs}: ${fmt(f.rate)} /s, ${fmt(f.secs, 2)} s, CPU ${fmt(f.cpuS, 2)} s, peak RSS ${fmt(f.rssMB, 1)} MB, delivered ${f.delivered}`)
      out.push(f)
    } catch (err) {
      log(`  ${name} run ${r}/${runs} failed: ${(err as Error).message.slice(0, 2000)}`)
    }
  }
  return out
}

export interface Row { name: string, runs: Figures[] }

/** One system of a benchmark: `once` measures one run. */
export interface System { name: string, once: () => Promise<Figures> }

/**
 * Every system's runs, interleaved (round 1 of each system, then round 2, …) so that load
 * from the machine's neighbours falls on all of them alike; a failed run is logged and left out.
 */
export async function interleaved (systems: System[], runs: number): Promise<Row[]> {
  const rows: Row[] = systems.map((x) => ({ name: x.name, runs: [] }))
  for (let r = 1; r <= runs; r++) {
    for (let i = 0; i < systems.length; i++) {
      const { name, once } = systems[i]!
      try {
        const f = await once()
        log(`  ${name} run ${r}/${runs}: ${fmt(f.rate)} /s, ${fmt(f.secs, 2)} s, CPU ${fmt(f.cpuS, 2)} s, peak RSS ${fmt(f.rssMB, 1)} MB, delivered ${f.delivered}`)
        rows[i]!.runs.push(f)
      } catch (err) {
        log(`  ${name} run ${r}/${runs} failed: ${(err as Error).message.slice(0, 2000)}`)
      }
    }
  }
  return rows
}

/** Medians per system and ratios to `ref` (a row name); `unit` names the rate. */
export function ratioTable (rows: Row[], ref: string, unit: string): string {
  const med = (r: Row, k: keyof Figures) => median(r.runs.map((f) => f[k]))
  const base = rows.find((r) => r.name === ref)
  const ratio = (x: number, b: number | undefined) => b === undefined || !Number.isFinite(b) || b === 0 ? '–' : fmt(x / b, 2) + '×'
  return table(
    ['system', `${unit}/s`, 'wall s', 'CPU s', 'peak RSS MB', `rate ÷ ${ref}`, `CPU ÷ ${ref}`, `RSS ÷ ${ref}`, 'runs'],
    rows.map((r) => [
      r.name, fmt(med(r, 'rate')), fmt(med(r, 'secs'), 2), fmt(med(r, 'cpuS'), 2), fmt(med(r, 'rssMB'), 1),
      ratio(med(r, 'rate'), base && med(base, 'rate')), ratio(med(r, 'cpuS'), base && med(base, 'cpuS')), ratio(med(r, 'rssMB'), base && med(base, 'rssMB')),
      String(r.runs.length)
    ])
  )
}

/** Results shared between scripts (C1 compares with F1's forwarder rate). */
const RESULTS = join(tmpdir(), 'daytwo-bench-results')
export function saveResult (name: string, data: unknown): void {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(data, null, 2))
}
export function loadResult<T> (name: string): T | null {
  try { return JSON.parse(readFileSync(join(RESULTS, `${name}.json`), 'utf8')) as T } catch { return null }
}

/** Run a short-lived command under /usr/bin/time -f; wall, user+sys and max RSS. */
export async function timeCommand (cmd: string, args: string[]): Promise<{ secs: number, cpuS: number, rssMB: number, stdout: string }> {
  const t0 = process.hrtime.bigint()
  const child = spawn('/usr/bin/time', ['-f', 'BENCHTIME %e %U %S %M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const [code] = await once(child, 'exit') as [number]
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const m = /BENCHTIME (\S+) (\S+) (\S+) (\d+)/.exec(err)
  if (code !== 0 || !m) throw new Error(`${cmd} exited ${code}: ${err}`)
  return { secs, cpuS: Number(m[2]) + Number(m[3]), rssMB: Number(m[4]) / 1024, stdout: out }
}
