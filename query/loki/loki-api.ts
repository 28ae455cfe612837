import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { DaytwoError } from '../../core/errors.js'
import { nowNs } from '../../core/time.js'
import type { LogStore } from '../../store/log-store.js'
import type { VariantTotals } from '../../store/select-params.js'
import { underQuerySignal } from '../query-signal.js'
import { orgScope } from '../auth.js'
import { isLogExpr, type LogExpr, type MetricExpr } from './ast.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'
import { categorizedData, ENCODING_FLAGS_HEADER, wantsCategorizedLabels, type CategorizedStream } from './categorize-labels.js'
import { runLogQuery } from './log-query.js'
import { evalMetric, stepCount, stepSeconds, toMatrix, toVector, formatValue, type EvalContext } from './metric-query.js'
import * as p from './params.js'
import { parseLogQL } from './parser.js'
import { errorHandler, stats, success } from './responses.js'
import { LineLabeler, newStats } from './select.js'
import { lokiTail } from './tail.js'
import { drilldownApi } from './drilldown/drilldown-api.js'

export interface LokiApiOptions {
  store: LogStore
  onLines: (n: number) => void
  /** query.timeoutMs: a query still running after this is stopped and answered 504. */
  timeoutMs?: number
}

type Req = FastifyRequest<{ Querystring: p.Query, Params: { name?: string } }>

const PREFIX = '/loki/api/v1'

function selectorOf (q: p.Query, name = 'query'): LogExpr | null {
  const src = p.one(q, name)
  if (src === undefined) return null
  const e = parseLogQL(src)
  if (!isLogExpr(e)) throw new DaytwoError('BAD_LOGQL', `${name} must be a stream selector like {job="router"}`)
  return e
}

/**
 * Enough of Loki's HTTP API (under /loki/api/v1) for Grafana's Loki datasource: query,
 * query_range, labels, label values, series, index/stats, index/volume(_range) and tail.
 * Tenant tokens see their own org only, on every endpoint.
 */
export const lokiApi: FastifyPluginAsync<LokiApiOptions> = async (app, opts) => {
  const { store } = opts
  app.setErrorHandler(errorHandler)

  const timeoutMs = opts.timeoutMs ?? 60000

  /** Run a question under the query's deadline and its client's presence. */
  async function guarded<T> (reply: FastifyReply, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return await underQuerySignal(reply, timeoutMs, fn)
  }

  async function answer (expr: ReturnType<typeof parseLogQL>, org: string | undefined, startNs: bigint, endNs: bigint, stepNs: bigint, instant: boolean, q: p.Query, signal: AbortSignal, headers: FastifyRequest['headers'] = {}) {
    const startedAt = process.hrtime.bigint()
    if (isLogExpr(expr)) {
      const categorize = wantsCategorizedLabels(headers[ENCODING_FLAGS_HEADER])
      const r = await runLogQuery(store, expr, org, startNs, endNs, p.limit(q), p.direction(q), { signal, categorize })
      opts.onLines(r.entriesReturned)
      if (categorize) return success(categorizedData(r.result as CategorizedStream[], stats({ ...r, startedAt })))
      return success({ resultType: 'streams', result: r.result, stats: stats({ ...r, startedAt }) })
    }
    const steps = instant ? 1 : stepCount(startNs, endNs, stepNs)
    const ctx: EvalContext = { store, org, startNs, stepNs, steps, read: newStats(), signal }
    let v = await evalMetric(expr as MetricExpr, ctx)
    const read = { linesProcessed: ctx.read.lines, bytesProcessed: ctx.read.bytes }
    if (typeof v === 'number') {
      if (instant) return success({ resultType: 'scalar', result: [stepSeconds(startNs), formatValue(v)], stats: stats({ ...read, entriesReturned: 0, startedAt }) })
      v = [{ labels: {}, values: new Float64Array(steps).fill(v) }]
    }
    const result = instant ? toVector(v, startNs) : toMatrix(v, startNs, stepNs)
    return success({ resultType: instant ? 'vector' : 'matrix', result, stats: stats({ ...read, entriesReturned: result.length, startedAt }) })
  }

  /** The label variants (stream, stdio, level) a selector has in [startNs, endNs), with their labels. */
  async function variants (e: LogExpr | null, org: string | undefined, startNs: bigint, endNs: bigint, signal: AbortSignal): Promise<Array<VariantTotals & { labels: Labels }>> {
    const labeler = new LineLabeler()
    const found = await store.variants({ matchers: e?.matchers ?? [], fromNs: startNs, toNs: endNs + 1n, signal, ...(org !== undefined ? { org } : {}) })
    return found.map((v) => ({ ...v, labels: labeler.labels(v.stream, v.stdio, v.level) }))
  }

  app.get(`${PREFIX}/query_range`, async (req: Req, reply) => {
    const q = req.query
    const src = p.one(q, 'query')
    if (src === undefined) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const expr = parseLogQL(src)
    const { startNs, endNs } = p.range(q)
    const stepNs = p.step(q, startNs, endNs)
    return await guarded(reply, async (signal) => await answer(expr, orgScope(req), startNs, endNs, stepNs, false, q, signal, req.headers))
  })

  app.get(`${PREFIX}/query`, async (req: Req, reply) => {
    const q = req.query
    const src = p.one(q, 'query')
    if (src === undefined) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const expr = parseLogQL(src)
    const at = p.time(q, 'time', BigInt(nowNs()))
    if (isLogExpr(expr)) {
      // An instant log query returns the lines before `time`, as Loki does (from an hour back).
      return await guarded(reply, async (signal) => await answer(expr, orgScope(req), at - 3_600_000_000_000n, at + 1n, 1n, true, q, signal, req.headers))
    }
    return await guarded(reply, async (signal) => await answer(expr, orgScope(req), at, at, 1n, true, q, signal))
  })

  // Label questions are answered from the store's label variants (block summaries in the
  // embedded store): no line is read. Per-line labels (stream, level, detected_level) are
  // labels like any other here, as Loki's series show them.
  app.get(`${PREFIX}/labels`, async (req: Req, reply) => {
    const { startNs, endNs } = p.range(req.query)
    const e = selectorOf(req.query)
    const found = await guarded(reply, async (signal) => await variants(e, orgScope(req), startNs, endNs, signal))
    const names = new Set<string>()
    for (const v of found) for (const n of Object.keys(v.labels)) names.add(n)
    return success([...names].sort())
  })

  app.get(`${PREFIX}/label/:name/values`, async (req: Req, reply) => {
    const name = req.params.name ?? ''
    const { startNs, endNs } = p.range(req.query)
    const e = selectorOf(req.query)
    const found = await guarded(reply, async (signal) => await variants(e, orgScope(req), startNs, endNs, signal))
    const values = new Set<string>()
    for (const v of found) {
      const x = v.labels[name]
      if (x !== undefined && x !== '') values.add(x)
    }
    return success([...values].sort())
  })

  app.get(`${PREFIX}/series`, async (req: Req, reply) => {
    const { startNs, endNs } = p.range(req.query)
    const matches = p.all(req.query, 'match[]', 'match')
    if (matches.length === 0) throw new DaytwoError('BAD_LOGQL', 'at least one match[] selector is required')
    const org = orgScope(req)
    const exprs = matches.map((m) => {
      const e = parseLogQL(m)
      if (!isLogExpr(e)) throw new DaytwoError('BAD_LOGQL', `match[] must be a stream selector, got ${JSON.stringify(m)}`)
      return e
    })
    const out = new Map<string, Labels>()
    await guarded(reply, async (signal) => {
      for (const e of exprs) for (const v of await variants(e, org, startNs, endNs, signal)) out.set(labelsKey(v.labels), sortedLabels(v.labels))
    })
    return success([...out.values()])
  })

  // Index statistics: the lines and bytes in the range; `chunks` counts daytwo streams.
  app.get(`${PREFIX}/index/stats`, async (req: Req, reply) => {
    const { startNs, endNs } = p.range(req.query)
    const found = await guarded(reply, async (signal) => await variants(selectorOf(req.query), orgScope(req), startNs, endNs, signal))
    const streams = new Set<string>()
    let entries = 0
    let bytes = 0
    for (const v of found) { streams.add(labelsKey(v.labels)); entries += v.lines; bytes += v.bytes }
    return { streams: streams.size, chunks: new Set(found.map((v) => v.stream.id)).size, entries, bytes }
  })

  app.get(`${PREFIX}/index/volume`, async (req: Req, reply) => {
    const q = req.query
    const { startNs, endNs } = p.range(q)
    const e = selectorOf(q)
    if (e === null) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const by = volumeLabels(e, q)
    const groups = new Map<string, { metric: Labels, bytes: number }>()
    for (const v of await guarded(reply, async (signal) => await variants(e, orgScope(req), startNs, endNs, signal))) {
      const metric: Labels = {}
      for (const n of by) if (v.labels[n] !== undefined) metric[n] = v.labels[n]
      const key = labelsKey(metric)
      const g = groups.get(key) ?? { metric, bytes: 0 }
      g.bytes += v.bytes
      groups.set(key, g)
    }
    const result = [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, p.limit(q))
      .map((g) => ({ metric: sortedLabels(g.metric), value: [stepSeconds(endNs), String(g.bytes)] as [number, string] }))
    return success({ resultType: 'vector', result })
  })

  // Volume over time reads the lines: sum by (labels) (bytes_over_time({…}[step])).
  app.get(`${PREFIX}/index/volume_range`, async (req: Req, reply) => {
    const q = req.query
    const { startNs, endNs } = p.range(q)
    const e = selectorOf(q)
    if (e === null) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const stepNs = p.step(q, startNs, endNs)
    const expr: MetricExpr = { kind: 'agg', op: 'sum', grouping: { mode: 'by', labels: volumeLabels(e, q) }, expr: { kind: 'range', fn: 'bytes_over_time', log: { ...e, stages: [] }, rangeNs: stepNs } }
    return await guarded(reply, async (signal) => await answer(expr, orgScope(req), startNs, endNs, stepNs, false, q, signal))
  })

  await app.register(lokiTail, { store, onLines: opts.onLines, prefix: PREFIX })
  await app.register(drilldownApi, { store, prefix: PREFIX })
}

/** Loki groups volume by `targetLabels`, else by the labels the selector names. */
function volumeLabels (e: LogExpr, q: p.Query): string[] {
  const t = p.list(q, 'targetLabels')
  if (t.length > 0) return t
  return [...new Set(e.matchers.map((m) => m.name))]
}
