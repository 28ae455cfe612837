import assert from 'node:assert/strict'
import type { LogStore, UsageRollupRequest, UsageRow } from '../../store/log-store.js'
import { rollupRows } from '../../store/usage-rollup.js'

// Usage rows spread over days, and the rollup questions a usage report asks
// (query/usage/report.ts rollupFor), for checking a store's native usageRollup against the
// rollup of the same rows (store/usage-rollup.ts rollupRows), on every store alike.

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** 2026-11-20T00:00:00Z: the rows start on a day boundary and cross several. */
export const ROWS_FROM = 1_795_132_800_000

/** Deterministic rows: minutes over 9 days (some in the same minute), three orgs (one ''), apps, drops. */
export function usageRowsCorpus (n = 400): UsageRow[] {
  let x = 12345
  const r = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32 }
  const seen = new Set<string>()
  const out: UsageRow[] = []
  while (out.length < n) {
    const minute = ROWS_FROM + Math.floor(r() * 9 * DAY / MINUTE) * MINUTE
    const org = ['o1', 'o2', ''][Math.floor(r() * 3)]!
    const app = org === '' ? '' : `a${Math.floor(r() * 3)}`
    const k = `${minute} ${org} ${app}`
    if (seen.has(k)) continue
    seen.add(k)
    const dropped = r() < 0.2
    out.push({ minute, org, app, lines: 1 + Math.floor(r() * 50), bytes: 1 + Math.floor(r() * 5000), droppedLines: dropped ? 1 + Math.floor(r() * 9) : 0, droppedBytes: dropped ? 1 + Math.floor(r() * 900) : 0 })
  }
  return out.sort((a, b) => a.minute - b.minute || (a.org + ' ' + a.app < b.org + ' ' + b.app ? -1 : 1))
}

/** The questions: each report step (minute, hour, day, several days), per org and per app, one org, ranges cutting buckets. */
export const ROLLUP_QUESTIONS: Array<Omit<UsageRollupRequest, 'signal'>> = [
  { fromMs: ROWS_FROM, toMs: ROWS_FROM + 6 * HOUR, stepMs: MINUTE, byApp: true },
  { fromMs: ROWS_FROM + 90 * MINUTE, toMs: ROWS_FROM + 3 * DAY + 7 * MINUTE, stepMs: HOUR, byApp: false },
  { fromMs: ROWS_FROM + 5 * HOUR, toMs: ROWS_FROM + 9 * DAY, stepMs: DAY, byApp: true },
  { fromMs: ROWS_FROM - DAY, toMs: ROWS_FROM + 10 * DAY, stepMs: 3 * DAY, byApp: false },
  { fromMs: ROWS_FROM, toMs: ROWS_FROM + 9 * DAY, stepMs: 15 * MINUTE, byApp: true, org: 'o2' },
  { fromMs: ROWS_FROM, toMs: ROWS_FROM + 9 * DAY, stepMs: DAY, byApp: false, org: 'nobody' }
]

/** The rows a question covers, summed as the reference says. */
export function expectedRollup (rows: UsageRow[], q: Omit<UsageRollupRequest, 'signal'>): ReturnType<typeof rollupRows> {
  return rollupRows(rows.filter((x) => x.minute >= q.fromMs && x.minute < q.toMs && (q.org === undefined || x.org === q.org)), q)
}

/**
 * Every question: the store's own rollup equals the reference over `rows`, and, where the
 * store counts its requests, costs `requestsPerRollup` of them (one aggregation, not pages).
 */
export async function checkRollups (store: LogStore, rows: UsageRow[], requests?: { count: () => number, per: number }): Promise<void> {
  assert.ok(store.usageRollup, `${store.kind} answers usage rollups itself`)
  for (const q of ROLLUP_QUESTIONS) {
    const want = expectedRollup(rows, q)
    assert.ok(q.org === 'nobody' || want.length > 1, 'the question covers rows')
    const before = requests?.count()
    const got = await store.usageRollup(q)
    if (requests) assert.equal(requests.count() - before!, requests.per, `requests for ${JSON.stringify(q)}`)
    assert.deepEqual(got, want, JSON.stringify(q))
  }
}
