import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, waitFor } from './daytwo-process.js'

// A real Prometheus server for tests (Debian package `prometheus`: /usr/bin/prometheus and
// /usr/bin/promtool), with a generated config, its TSDB in a temp dir and a 1 s scrape.

export const PROMETHEUS = '/usr/bin/prometheus'
export const PROMTOOL = '/usr/bin/promtool'

/** A reason to skip when the Debian package is missing, else false. */
export function prometheusMissing (): string | false {
  return existsSync(PROMETHEUS) && existsSync(PROMTOOL) ? false : 'needs the Debian package `prometheus` (prometheus and promtool): apt-get install prometheus'
}

export interface ScrapeTarget { job: string, url: string }

export interface VectorResult { metric: Record<string, string>, value: [number, string] }

export interface PrometheusServer {
  url: string
  child: ChildProcess
  log: () => string
  /** Instant query; the result vector. Throws on an API error. */
  query: (promql: string) => Promise<VectorResult[]>
  /** Active targets' health, by job. */
  targets: () => Promise<Array<{ job: string, health: string, lastError: string }>>
  stop: () => Promise<void>
}

export async function startPrometheus (targets: ScrapeTarget[], dir: string, intervalSeconds = 1): Promise<PrometheusServer> {
  const port = await freePort()
  const jobs = targets.map((t) => {
    const u = new URL(t.url)
    return `  - job_name: ${JSON.stringify(t.job)}\n    metrics_path: ${JSON.stringify(u.pathname)}\n    scheme: ${u.protocol.replace(':', '')}\n    honor_labels: true\n    static_configs:\n      - targets: [${JSON.stringify(u.host)}]\n`
  }).join('')
  const cfgFile = join(dir, 'prometheus.yml')
  writeFileSync(cfgFile, `global:\n  scrape_interval: ${intervalSeconds}s\n  scrape_timeout: ${intervalSeconds}s\n  evaluation_interval: ${intervalSeconds}s\nscrape_configs:\n${jobs}`)
  const child = spawn(PROMETHEUS, [
    `--config.file=${cfgFile}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn', '--storage.tsdb.retention.time=1h'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d: Buffer) => { log += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const ready = await waitFor(async () => {
    if (child.exitCode !== null) return true
    try { return (await fetch(`${url}/-/ready`)).status === 200 } catch { return false }
  }, 30000, 200)
  if (!ready || child.exitCode !== null) {
    child.kill('SIGKILL')
    throw new Error(`prometheus did not start:\n${log}`)
  }
  return {
    url,
    child,
    log: () => log,
    async query (promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)
      const body = await res.json() as { status: string, error?: string, data?: { resultType: string, result: VectorResult[] } }
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error ?? res.status}`)
      return body.data!.result
    },
    async targets () {
      const res = await fetch(`${url}/api/v1/targets?state=active`)
      const body = await res.json() as { data: { activeTargets: Array<{ labels: Record<string, string>, health: string, lastError: string }> } }
      return body.data.activeTargets.map((t) => ({ job: t.labels.job ?? '', health: t.health, lastError: t.lastError }))
    },
    async stop () {
      if (child.exitCode === null) { child.kill('SIGTERM'); await exited }
    }
  }
}

/** `promtool check metrics` on an exposition text: exit code and what it printed. */
export async function promtoolCheckMetrics (text: string): Promise<{ code: number | null, output: string }> {
  const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve))
  child.stdin.on('error', () => {}) // promtool may exit before reading everything
  child.stdin.end(text)
  const code = await closed
  return { code, output }
}
