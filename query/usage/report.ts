import type { UsageBucket } from '../../store/log-store.js'

// Usage buckets (store/usage-rollup.ts, at the step rollupFor asks) rolled up into a report: rows by org, app or day,
// totals, drops by reason, cost, and a time series for the chart.

export type GroupBy = 'org' | 'app' | 'day'
export const GROUP_BY: readonly GroupBy[] = ['org', 'app', 'day']

export interface Counts { lines: number, bytes: number, droppedLines: number, droppedBytes: number, cost: number }
export interface ReportRow extends Counts { org: string, app?: string, day?: string }

export interface UsageReport {
  from: string
  to: string
  by: GroupBy
  org: string | null
  pricePerGiB: number
  currency: string
  rows: ReportRow[]
  totals: Counts
  /** Records dropped before the store, by reason (rate limits today). */
  drops: Array<{ reason: string, lines: number, bytes: number }>
  /** Stored bytes per org (per org/app with by=app) and time bucket, for the chart. */
  series: { stepMs: number, buckets: number[], keys: Array<{ key: string, bytes: number[] }> }
}

const GiB = 1024 ** 3
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The most buckets a series has: a chart shows no more, and an absurd range must not build millions. */
export const MAX_BUCKETS = 2000

/** Buckets of a minute up to 6 h, of an hour up to 4 days, else of a day (of whole days, at most MAX_BUCKETS). */
export function stepFor (fromMs: number, toMs: number): number {
  const span = toMs - fromMs
  return span <= 6 * HOUR ? MINUTE : span <= 4 * DAY ? HOUR : Math.max(1, Math.ceil(span / DAY / MAX_BUCKETS)) * DAY
}

/**
 * The rollup a report asks the store for (store/usage-rollup.ts): buckets of the chart's step,
 * of a day at most when rows are per day (a day is then a whole number of buckets), per app
 * only when rows are per app. Each bucket then lands in exactly one row and one chart bucket.
 */
export function rollupFor (fromMs: number, toMs: number, by: GroupBy): { stepMs: number, byApp: boolean } {
  const step = stepFor(fromMs, toMs)
  return { stepMs: by === 'day' ? Math.min(step, DAY) : step, byApp: by === 'app' }
}

const cost = (bytes: number, price: number) => Math.round(bytes / GiB * price * 1e6) / 1e6
const empty = (): Counts => ({ lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0, cost: 0 })

function add (c: Counts, r: UsageBucket): void {
  c.lines += r.lines
  c.bytes += r.bytes
  c.droppedLines += r.droppedLines
  c.droppedBytes += r.droppedBytes
}

export function buildReport (rows: UsageBucket[], o: { fromMs: number, toMs: number, by: GroupBy, org: string | null, pricePerGiB: number, currency: string }): UsageReport {
  const groups = new Map<string, ReportRow>()
  const totals = empty()
  const stepMs = stepFor(o.fromMs, o.toMs)
  const first = Math.floor(o.fromMs / stepMs) * stepMs
  const buckets: number[] = []
  for (let t = first; t < o.toMs; t += stepMs) buckets.push(t)
  const series = new Map<string, number[]>()
  for (const r of rows) {
    const day = new Date(r.minute).toISOString().slice(0, 10)
    const key = o.by === 'org' ? r.org : o.by === 'app' ? `${r.org}\0${r.app}` : `${day}\0${r.org}`
    let g = groups.get(key)
    if (!g) {
      g = { org: r.org, ...(o.by === 'app' ? { app: r.app } : {}), ...(o.by === 'day' ? { day } : {}), ...empty() }
      groups.set(key, g)
    }
    add(g, r)
    add(totals, r)
    const skey = o.by === 'app' && (r.org || r.app) ? `${r.org}/${r.app}` : r.org
    let s = series.get(skey)
    if (!s) { s = new Array<number>(buckets.length).fill(0); series.set(skey, s) }
    const i = Math.floor((r.minute - first) / stepMs)
    if (i >= 0 && i < s.length) s[i]! += r.bytes
  }
  const out = [...groups.values()]
  for (const g of out) g.cost = cost(g.bytes, o.pricePerGiB)
  totals.cost = cost(totals.bytes, o.pricePerGiB)
  if (o.by === 'day') out.sort((a, b) => a.day! < b.day! ? -1 : a.day! > b.day! ? 1 : b.bytes - a.bytes)
  else out.sort((a, b) => b.bytes - a.bytes || (a.org + (a.app ?? '') < b.org + (b.app ?? '') ? -1 : 1))
  return {
    from: new Date(o.fromMs).toISOString(),
    to: new Date(o.toMs).toISOString(),
    by: o.by,
    org: o.org,
    pricePerGiB: o.pricePerGiB,
    currency: o.currency,
    rows: out,
    totals,
    drops: totals.droppedLines > 0 ? [{ reason: 'rate_limited', lines: totals.droppedLines, bytes: totals.droppedBytes }] : [],
    series: { stepMs, buckets, keys: [...series].map(([key, bytes]) => ({ key, bytes })).sort((a, b) => a.key < b.key ? -1 : 1) }
  }
}

const CSV_COLUMNS: Record<GroupBy, string[]> = {
  org: ['org'],
  app: ['org', 'app'],
  day: ['day', 'org']
}

/**
 * One CSV field. Org and app names come from tenants and forwarders: a text cell starting
 * with `=`, `+`, `-`, `@`, tab or CR is a formula to a spreadsheet (`=HYPERLINK(…)`), so it
 * gets a leading `'`, as OWASP's CSV-injection guidance says; then quoted as RFC 4180 says.
 * Numbers are written as numbers.
 */
export function csvField (v: string | number): string {
  if (typeof v === 'number') return String(v)
  const s = /^[=+\-@\t\r]/.test(v) ? "'" + v : v
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s
}

/** RFC 4180 CSV of the report's rows (no totals row: a spreadsheet sums them); text cells neutralised (csvField). */
export function reportCsv (r: UsageReport): string {
  const keys = CSV_COLUMNS[r.by]
  let out = [...keys, 'lines', 'bytes', 'dropped_lines', 'dropped_bytes', `cost_${r.currency.toLowerCase()}`].join(',') + '\r\n'
  for (const row of r.rows) {
    const rec = row as unknown as Record<string, string | number>
    out += [...keys.map((k) => rec[k] ?? ''), row.lines, row.bytes, row.droppedLines, row.droppedBytes, row.cost].map(csvField).join(',') + '\r\n'
  }
  return out
}
