import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { StreamTags } from '../../core/record.js'
import { decodeGroup } from '../../core/wire.js'
import { extract, runCli } from './bundle.js'
import { startDaytwo, type DaytwoProcess } from './daytwo-process.js'

// What the tests of the collector's receivers (test/collector/receivers/) share: a `serve all`
// with a sender token and an operator token, and reading back what a sender's lines became.

export interface StoredLine { ts: string, message: string, stream: StreamTags, stdio: string, attrs?: Record<string, string> }

/** `serve all` on free ports, files off, the collector taking `senderToken`; `collector` adds to its config. */
export async function startReceiverDaytwo (dir: string, senderToken: string, operatorToken: string, collector: Record<string, unknown> = {}): Promise<DaytwoProcess> {
  return await startDaytwo('all', {
    dataDir: join(dir, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0 },
    collector: { port: 0, tokens: [senderToken], maxFutureSkewMs: 600_000, ...collector },
    query: { port: 0, tokens: [operatorToken] }
  }, dir)
}

/** A deployment's lines through the query API (`/api/v1/logs`), in store order; [] before any. */
export async function storedLines (d: DaytwoProcess, operatorToken: string, deployment: string): Promise<StoredLine[]> {
  const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=${encodeURIComponent(deployment)}`, { headers: { authorization: `Bearer ${operatorToken}` } })
  if (res.status === 404) return []
  const text = await res.text()
  assert.equal(res.status, 200, text)
  const out: StoredLine[] = []
  for (const l of text.split('\n')) if (l) { const g = decodeGroup(l); for (const e of g.entries) out.push({ ts: e[0], message: e[2], stream: g.stream, stdio: e[3], ...(e[4] ? { attrs: e[4] } : {}) }) }
  return out
}

/** The lines a LogQL query selects over [fromMs, toMs] through the Loki API, in time order. */
export async function lokiLines (d: DaytwoProcess, operatorToken: string, query: string, fromMs: number, toMs: number): Promise<string[]> {
  const q = new URLSearchParams({ query, start: String(BigInt(fromMs) * 1_000_000n), end: String(BigInt(toMs) * 1_000_000n), limit: '1000', direction: 'forward' })
  const res = await fetch(`${d.urls.query}/loki/api/v1/query_range?${q}`, { headers: { authorization: `Bearer ${operatorToken}` } })
  const body = await res.json() as { data: { result: Array<{ values: Array<[string, string]> }> } }
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.data.result.flatMap((r) => r.values).sort((a, b) => a[0] < b[0] ? -1 : 1).map((v) => v[1])
}

/** The files of the bundle `logs fetch <target>` writes into `dir`, as bytes. */
export function fetchedFiles (d: DaytwoProcess, operatorToken: string, target: string, dir: string): Buffer[] {
  const r = runCli(['fetch', target, '--dir', dir], { DAYTWO_QUERY_URL: d.urls.query, DAYTWO_TOKEN: operatorToken })
  assert.equal(r.status, 0, r.stderr)
  return [...extract(r.stdout.trim(), join(dir, 'x')).values()]
}
