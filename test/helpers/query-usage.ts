import { gzipSync } from 'node:zlib'
import { loadConfig } from '../../core/config.js'
import type { StreamBatch } from '../../core/record.js'
import { encodeBatch } from '../../core/wire.js'
import { openStore } from '../../store/open-store.js'
import { waitFor } from './daytwo-process.js'
import { INGEST, OPERATOR, type QueryFixture } from './query-fixture.js'

// Tenant traffic for usage tests: batches tagged with org/app posted to the real collector
// (as an enriching collector would store them), and rate-limit drops recorded in the store
// the fixture's daytwo uses (embedded or, under `npm run test:opensearch`, OpenSearch).

export interface TenantApp { org: string, app: string, lines: number, lineBytes: number }

export const TENANT_APPS: TenantApp[] = [
  { org: 'acme', app: 'web', lines: 120, lineBytes: 50 },
  { org: 'acme', app: 'worker', lines: 40, lineBytes: 25 },
  { org: 'globex', app: 'api', lines: 200, lineBytes: 30 }
]
export const DROPS = { org: 'acme', app: 'web', reason: 'rate_limited', lines: 7, bytes: 700 }

function batch (t: TenantApp, n: number): StreamBatch {
  const entries: StreamBatch['entries'] = []
  const base = BigInt(Date.now()) * 1_000_000n
  for (let i = 0; i < t.lines; i++) {
    const msg = `${t.org}/${t.app} ${i} `.padEnd(t.lineBytes, 'z')
    entries.push([(base + BigInt(i)).toString(), i * 100, msg, 'stdout'])
  }
  return {
    stream: { id: `usage-test-${n}`, source: 'file', node: 'cell-1', deployment: t.org, job: t.app, index: '0', process: t.app, path: `/var/log/${t.app}.log`, org: t.org, space: 'prod', app: t.app },
    entries
  }
}

export async function seedUsage (fx: QueryFixture): Promise<void> {
  const body = gzipSync(encodeBatch(TENANT_APPS.map(batch)))
  const res = await fetch(`${fx.daytwo.urls.collector}/api/v1/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    body
  })
  if (!res.ok) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`)
  // Rate-limit drops reach the store from the collector's limiter; record them the same way,
  // in the store daytwo was configured with.
  const store = await openStore(loadConfig({ file: fx.daytwo.configFile, env: {} }))
  try { await store.recordDrops([DROPS]) } finally { await store.close() }
  // A search engine shows new documents after its refresh interval (README "Elasticsearch
  // store"): wait until the report holds every seeded line and drop, as the fixture waits
  // for the corpus.
  const lines = corpusBytes(fx).lines + TENANT_APPS.reduce((n, t) => n + t.lines, 0)
  const seen = await waitFor(async () => {
    const t = await usageTotals(fx)
    return t.lines >= lines && t.droppedLines >= DROPS.lines
  }, 30000, 200)
  if (!seen) throw new Error(`the usage report did not show ${lines} lines and ${DROPS.lines} dropped: ${JSON.stringify(await usageTotals(fx))}`)
}

async function usageTotals (fx: QueryFixture): Promise<{ lines: number, droppedLines: number }> {
  const res = await fetch(`${fx.daytwo.urls.query}/api/v1/usage`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  if (!res.ok) throw new Error(`usage: HTTP ${res.status} ${await res.text()}`)
  return ((await res.json()) as { totals: { lines: number, droppedLines: number } }).totals
}

/** Bytes of the untenanted corpus (org ''), as the store counts them: message bytes. */
export function corpusBytes (fx: QueryFixture): { lines: number, bytes: number } {
  let lines = 0
  let bytes = 0
  for (const f of fx.files) for (const m of f.messages) { lines++; bytes += Buffer.byteLength(m) }
  return { lines, bytes }
}
