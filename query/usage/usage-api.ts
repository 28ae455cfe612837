import type { FastifyPluginAsync } from 'fastify'
import { DaytwoError } from '../../core/errors.js'
import { parseTimeParam, TIME_FORMS } from '../../core/time.js'
import type { LogStore } from '../../store/log-store.js'
import { orgScope } from '../auth.js'
import { underQuerySignal } from '../query-signal.js'
import { singleValuedQuery } from '../query-params.js'
import { usageRollup } from '../../store/usage-rollup.js'
import { GROUP_BY, buildReport, rollupFor, reportCsv, type GroupBy } from './report.js'

export interface UsageApiOptions {
  store: LogStore
  pricePerGiB: number
  currency: string
  /** query.timeoutMs: a report still being summed after this is stopped and answered 504. */
  timeoutMs?: number
}

interface UsageQuery { org?: string, from?: string, to?: string, by?: string, format?: string }

/** Default range: the last 30 days. */
export const DEFAULT_FROM = '30d'
const MAX_DATE_NS = 8_640_000_000_000_000n * 1_000_000n

function timeMs (name: string, v: string | undefined, fallback: string): number {
  const t = parseTimeParam(v === undefined || v === '' ? fallback : v)
  // Beyond ±8.64e15 ms a JavaScript Date (report days, CSV, the page) is invalid.
  if (t === null || t > MAX_DATE_NS || t < -MAX_DATE_NS) throw new DaytwoError('BAD_QUERY', `${name}=${JSON.stringify(v)}: give ${TIME_FORMS}`)
  return Number(t / 1_000_000n)
}

/**
 * GET /api/v1/usage?org&from&to&by=org|app|day&format=json|csv
 * Stored bytes and lines, drops and cost per org (or org/app, or day and org). A tenant
 * token sees its own org only; asking for another is 403.
 */
export const usageApi: FastifyPluginAsync<UsageApiOptions> = async (app, opts) => {
  singleValuedQuery(app)
  app.get<{ Querystring: UsageQuery }>('/api/v1/usage', async (req, reply) => {
    const q = req.query
    const org = orgScope(req, q.org)
    const by = (q.by ?? 'org') as GroupBy
    if (!GROUP_BY.includes(by)) throw new DaytwoError('BAD_QUERY', `by=${JSON.stringify(q.by)}: use org, app or day`)
    const format = q.format ?? 'json'
    if (format !== 'json' && format !== 'csv') throw new DaytwoError('BAD_QUERY', `format=${JSON.stringify(q.format)}: use json or csv`)
    const fromMs = timeMs('from', q.from, DEFAULT_FROM)
    const toMs = q.to === undefined || q.to === '' ? Date.now() + 1 : timeMs('to', q.to, '0s')
    if (fromMs >= toMs) throw new DaytwoError('BAD_QUERY', 'from is not before to')
    // Summed by the store (one aggregation on a search engine), not per-minute rows paged here;
    // its searches stop when the client goes away or query.timeoutMs passes (499, 504).
    const rows = await underQuerySignal(reply, opts.timeoutMs ?? 60000, async (signal) =>
      await usageRollup(opts.store, { fromMs, toMs, ...rollupFor(fromMs, toMs, by), ...(org !== undefined ? { org } : {}), signal }))
    const report = buildReport(rows, { fromMs, toMs, by, org: org ?? null, pricePerGiB: opts.pricePerGiB, currency: opts.currency })
    if (format === 'csv') {
      void reply.header('content-type', 'text/csv; charset=utf-8')
      return reportCsv(report)
    }
    return report
  })
}
