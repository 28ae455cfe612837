import type { FastifyRequest } from 'fastify'
import { DaytwoError } from '../../../core/errors.js'
import { isLogExpr, type LogExpr } from '../ast.js'
import { LINE_LABELS, type Labels } from '../labels.js'
import * as p from '../params.js'
import { parseLogQL } from '../parser.js'
import type { StreamResult } from '../log-query.js'
import { selectStreams } from '../select.js'
import type { LogStore } from '../../../store/log-store.js'

// What the Drilldown endpoints share: their request (a log query, times as Loki reads them,
// Drilldown sends RFC 3339) and the split of a sampled line's labels into the stream's own and
// those the query's parsers added.

export type DrilldownRequest = FastifyRequest<{ Querystring: p.Query, Params: { name?: string } }>

/** The `query` parameter as a log query; null when absent or `{}` (every stream). */
export function logQuery (q: p.Query, required: boolean): LogExpr | null {
  const src = p.one(q, 'query')
  if (src === undefined || src.trim() === '{}') {
    if (required) throw new DaytwoError('BAD_LOGQL', 'query is required')
    return null
  }
  const e = parseLogQL(src)
  if (!isLogExpr(e)) throw new DaytwoError('BAD_LOGQL', 'query must be a log query like {service_name="router"} | json')
  return e
}

/** A positive integer parameter (Loki's `limit`, `line_limit`), with its default. */
export function count (q: p.Query, dflt: number, max: number, ...names: string[]): number {
  for (const name of names) {
    const v = p.one(q, name)
    if (v === undefined) continue
    const n = Number(v)
    if (!Number.isInteger(n) || n <= 0) throw new DaytwoError('BAD_LOGQL', `invalid parameter "${name}": must be a positive integer, got ${JSON.stringify(v)}`)
    return Math.min(n, max)
  }
  return dflt
}

/**
 * The names of the labels lines of these streams have before any parser: the streams' own
 * labels and the per-line ones. A sampled line's other labels were added by the query's parsers.
 */
export async function baseLabelNames (store: LogStore, e: LogExpr, org: string | undefined, startNs: bigint): Promise<Set<string>> {
  const names = new Set<string>(LINE_LABELS)
  names.add('detected_level')
  for (const s of await selectStreams(store, e.matchers, org, startNs)) for (const n of Object.keys(s.labels)) names.add(n)
  return names
}

/** A sampled line's structured metadata, when the engine hands it (a third element `{structuredMetadata}`). */
export function lineMetadata (value: StreamResult['values'][number]): Labels | undefined {
  const third = (value as unknown[])[2] as { structuredMetadata?: Labels } | undefined
  return typeof third === 'object' && third !== null ? third.structuredMetadata : undefined
}
