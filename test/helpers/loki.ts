import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from './daytwo-process.js'

// A daytwo `serve all` over a small corpus of CRI (Kubernetes) and BOSH job logs, and a
// client that sends what Grafana's Loki datasource sends.

export const OPERATOR_TOKEN = 'loki-test-operator-token'
export const TENANT_TOKEN = 'loki-test-acme-token'

/** A time on a whole minute, ten minutes ago: the corpus's first line. */
export function corpusBaseNs (): bigint {
  const ms = Math.floor(Date.now() / 60000) * 60000 - 10 * 60000
  return BigInt(ms) * 1_000_000n
}

export function rfc3339Nano (ns: bigint): string {
  const ms = Number(ns / 1_000_000n)
  return new Date(ms).toISOString().slice(0, 19) + '.' + (ns % 1_000_000_000n).toString().padStart(9, '0') + 'Z'
}

export interface CorpusLine { ns: bigint, stdio: 'stdout' | 'stderr', line: string }

/**
 * The Kubernetes corpus, per container log file. Times are T0 + offsets (ns precision kept:
 * each line has a sub-second part). Router (namespace cf) lines:
 *  - 10 JSON access lines, level info, at T0 + i s + 123456789 ns, i = 0…9
 *  - 3 stderr lines `ERROR upstream timeout` at T0 + 20 s + i s
 *  - 2 logfmt lines, level=warn, at T0 + 30 s and T0 + 31 s
 * API (namespace cf, StatefulSet api-0, mapped to org acme): 5 lines `WARN disk 8x% full` at T0 + 60 s + i s.
 */
export function corpus (t0: bigint): Record<string, CorpusLine[]> {
  const s = 1_000_000_000n
  const router: CorpusLine[] = []
  for (let i = 0n; i < 10n; i++) router.push({ ns: t0 + i * s + 123456789n, stdio: 'stdout', line: `{"level":"info","msg":"request","status":${i === 9n ? 500 : 200},"path":"/v2/info","duration_ms":${10n + i}}` })
  for (let i = 0n; i < 3n; i++) router.push({ ns: t0 + 20n * s + i * s, stdio: 'stderr', line: `ERROR upstream timeout after ${i}s` })
  router.push({ ns: t0 + 30n * s, stdio: 'stdout', line: 'level=warn msg="slow request" duration_ms=1500' })
  router.push({ ns: t0 + 31n * s, stdio: 'stdout', line: 'level=warn msg="slow request" duration_ms=2500' })
  const api: CorpusLine[] = []
  for (let i = 0n; i < 5n; i++) api.push({ ns: t0 + 60n * s + i * s, stdio: 'stdout', line: `WARN disk 8${i}% full` })
  return { 'cf_router-7d9f8b6c5-x2x4z_0a1b/router/0.log': router, 'cf_api-0_2c3d/api/0.log': api }
}

export function criLine (l: CorpusLine): string {
  return `${rfc3339Nano(l.ns)} ${l.stdio} F ${l.line}\n`
}

export const BOSH_LINES = ['[nats] starting', '[nats] listening on 4222', 'ERROR [nats] slow consumer detected']

export interface LokiFixture {
  daytwo: DaytwoProcess
  url: string
  t0: bigint
  podRoot: string
  boshRoot: string
  lines: Record<string, CorpusLine[]>
  /** GET a Loki API path with query parameters, as Grafana does (operator token unless given). */
  get: (path: string, params?: Record<string, string | string[]>, token?: string | null, extraHeaders?: Record<string, string>) => Promise<{ status: number, body: any, headers: Headers }>
  cleanup: () => Promise<void>
}

export async function startLokiFixture (): Promise<LokiFixture> {
  const dir = tempDir('daytwo-loki-')
  const podRoot = join(dir.path, 'pods')
  const boshRoot = join(dir.path, 'vcap', 'sys', 'log')
  const t0 = corpusBaseNs()
  const lines = corpus(t0)
  for (const [rel, ls] of Object.entries(lines)) {
    mkdirSync(join(podRoot, rel, '..'), { recursive: true })
    writeFileSync(join(podRoot, rel), ls.map(criLine).join(''))
  }
  mkdirSync(join(boshRoot, 'nats'), { recursive: true })
  writeFileSync(join(boshRoot, 'nats', 'nats.log'), BOSH_LINES.map((l) => l + '\n').join(''))
  const mappingFile = join(dir.path, 'tenants.json')
  writeFileSync(mappingFile, JSON.stringify({ rules: [{ match: { deployment: 'cf', job: 'api' }, org: 'acme', space: 'prod', app: 'api' }] }))
  const config = {
    node: 'node-1',
    dataDir: join(dir.path, 'data'),
    logLevel: 'warn',
    forwarder: {
      port: 0, podLogRoot: podRoot, containerLogRoot: '', boshLogRoot: boshRoot, boshSpecFile: join(dir.path, 'no-spec.json'),
      deployment: 'bosh-cf', job: 'nats', index: '0', scanIntervalMs: 100, pollIntervalMs: 50, flushIntervalMs: 20
    },
    collector: { port: 0, tenants: { mappingFile } },
    query: { port: 0, tokens: [OPERATOR_TOKEN], tenantTokens: [`acme=${TENANT_TOKEN}`] }
  }
  const daytwo = await startDaytwo('all', config, dir.path)
  const url = daytwo.urls.query!
  const get: LokiFixture['get'] = async (path, params = {}, token = OPERATOR_TOKEN, extraHeaders = {}) => {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x)
    const headers: Record<string, string> = { 'X-Query-Tags': 'Source=grafana', 'User-Agent': 'Grafana/11.3.0' }
    if (token !== null) headers.Authorization = `Bearer ${token}`
    Object.assign(headers, extraHeaders)
    const res = await fetch(`${url}/loki/api/v1/${path}${qs.size > 0 ? '?' + qs.toString() : ''}`, { headers })
    const text = await res.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch { /* not JSON: keep the text for the assertion message */ }
    return { status: res.status, body, headers: res.headers }
  }
  const total = Object.values(lines).reduce((n, ls) => n + ls.length, 0) + BOSH_LINES.length
  const ok = await waitFor(async () => {
    const r = await get('query', { query: 'sum(count_over_time({job=~".+"}[1h]))', time: String(BigInt(Date.now() + 60000) * 1_000_000n) })
    return Number(r.body?.data?.result?.[0]?.value?.[1] ?? 0) >= total
  }, 20000, 200)
  if (!ok) {
    await daytwo.kill()
    dir.cleanup()
    throw new Error(`the corpus (${total} lines) did not reach the store\nstderr:\n${daytwo.stderr()}`)
  }
  return {
    daytwo, url, t0, podRoot, boshRoot, lines, get,
    cleanup: async () => { await daytwo.stop(); dir.cleanup() }
  }
}

export function appendCri (podRoot: string, rel: string, l: CorpusLine): void {
  appendFileSync(join(podRoot, rel), criLine(l))
}
