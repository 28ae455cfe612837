import type Database from 'better-sqlite3'
import { DaytwoError } from '../core/errors.js'
import { validRollupStep, type LogStore, type UsageBucket, type UsageRollupRequest, type UsageRow } from './log-store.js'

// A usage rollup (log-store.ts UsageRollupRequest): what a usage report asks of a store.
// `rollupRows` is its meaning, summed from per-minute rows — the reference the tests hold
// every native answer to, and the answer for a store without `usageRollup`. `sqlUsageRollup`
// is the same question for a SQLite usage table (minute, org, app, lines, bytes,
// dropped_lines, dropped_bytes), as the embedded store keeps it (store/embedded/schema.ts).

/** The bucket a minute falls in: floor to a multiple of the step (also before 1970). */
const bucketOf = (minute: number, stepMs: number) => minute - (((minute % stepMs) + stepMs) % stepMs)

/** The order rollups come in: bucket start, org, app. */
export const order = (a: UsageBucket, b: UsageBucket) => a.minute - b.minute || (a.org < b.org ? -1 : a.org > b.org ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : 0)

function checkStep (stepMs: number): void {
  if (!validRollupStep(stepMs)) throw new DaytwoError('BAD_QUERY', `usage step ${stepMs} ms: give whole minutes dividing a day, or whole days`)
}

/** The rollup of per-minute rows (already limited to the request's range and org). */
export function rollupRows (rows: Iterable<UsageRow>, req: Pick<UsageRollupRequest, 'stepMs' | 'byApp'>): UsageBucket[] {
  checkStep(req.stepMs)
  const groups = new Map<string, UsageBucket>()
  for (const r of rows) {
    const minute = bucketOf(r.minute, req.stepMs)
    const app = req.byApp ? r.app : ''
    const k = `${minute}\0${r.org}\0${app}`
    const g = groups.get(k)
    if (g) {
      g.lines += r.lines; g.bytes += r.bytes; g.droppedLines += r.droppedLines; g.droppedBytes += r.droppedBytes
    } else {
      groups.set(k, { minute, org: r.org, app, lines: r.lines, bytes: r.bytes, droppedLines: r.droppedLines, droppedBytes: r.droppedBytes })
    }
  }
  return [...groups.values()].sort(order)
}

/** The store's own rollup where it has one; otherwise the rollup of its usage() rows. */
export async function usageRollup (store: LogStore, req: UsageRollupRequest): Promise<UsageBucket[]> {
  checkStep(req.stepMs)
  if (store.usageRollup) return await store.usageRollup(req)
  const { stepMs: _s, byApp: _b, signal: _g, ...range } = req
  return rollupRows(await store.usage(range), req)
}

/** One GROUP BY over a SQLite usage table: the database sums, one row per bucket comes back. */
export function sqlUsageRollup (db: Database.Database, req: UsageRollupRequest): UsageBucket[] {
  checkStep(req.stepMs)
  const step = BigInt(req.stepMs)
  const args: Array<number | bigint | string> = [step, step, step, req.fromMs, req.toMs]
  const app = req.byApp ? 'app' : "''"
  let sql = `SELECT minute - (((minute % ?) + ?) % ?) AS b, org, ${app} AS a, SUM(lines) AS lines, SUM(bytes) AS bytes, ` +
    'SUM(dropped_lines) AS dl, SUM(dropped_bytes) AS db FROM usage WHERE minute >= ? AND minute < ?'
  if (req.org !== undefined) { sql += ' AND org = ?'; args.push(req.org) }
  sql += ' GROUP BY b, org, a ORDER BY b, org, a'
  const rows = db.prepare(sql).safeIntegers(true).all(...args) as Array<{ b: bigint, org: string, a: string, lines: bigint, bytes: bigint, dl: bigint, db: bigint }>
  return rows.map((r) => ({ minute: Number(r.b), org: r.org, app: r.a, lines: Number(r.lines), bytes: Number(r.bytes), droppedLines: Number(r.dl), droppedBytes: Number(r.db) }))
}
