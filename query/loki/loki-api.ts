import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { DaytwoError } from '../../core/errors.js'
import { nowNs } from '../../core/time.js'
import type { LogStore } from '../../store/log-store.js'
import { orgScope } from '../auth.js'
import { isLogExpr, type LogExpr, type MetricExpr } from './ast.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'
import { runLogQuery } from './log-query.js'
import { evalMetric, stepCount, stepSeconds, toMatrix, toVector, formatValue, type EvalContext } from './metric-query.js'
import * as p from './params.js'
import { parseLogQL } from './parser.js'
import { errorHandler, stats, success } from './responses.js'
import { scan, select, selectStreams, type SelectedStream } from './select.js'
import { lokiTail } from './tail.js'
import { drilldownApi } from './drilldown/drilldown-api.js'

export interface LokiApiOptions {
  store: LogStore
  onLines: (n: number) => void
}

type Req = FastifyRequest<{ Querystring: p.Query, Params: { name?: string } }>

const PREFIX = '/loki/api/v1'
const PER_LINE = new Set(['stream', 'level'])

function selectorOf (q: p.Query, name = 'query'): LogExpr | null {
  const src = p.one(q, name)
  if (src === undefined) return null
  const e = parseLogQL(src)
  if (!isLogExpr(e)) throw new DaytwoError('BAD_LOGQL', `${name} must be a stream selector like {job="router"}`)
  return e
}

/** Streams for label endpoints: those matching the selector (all when none), with lines since start. */
async function streamsFor (store: LogStore, e: LogExpr | null, org: string | undefined, startNs: bigint): Promise<SelectedStream[]> {
  return await selectStreams(store, e?.matchers ?? [], org, startNs)
}

/** Distinct label sets of the lines in range, per-line labels included (reads the lines). */
async function lineLabelSets (store: LogStore, e: LogExpr, org: string | undefined, startNs: bigint, endNs: bigint): Promise<Labels[]> {
  const sel = await select(store, { ...e, stages: [] }, org, startNs)
  const seen = new Map<string, Labels>()
  const seenObj = new Set<Labels>()
  await scan(store, sel, startNs, endNs, (_s, lines) => {
    for (const l of lines) {
      if (seenObj.has(l.labels)) continue
      seenObj.add(l.labels)
      seen.set(labelsKey(l.labels), l.labels)
    }
  })
  return [...seen.values()]
}

/**
 * Enough of Loki's HTTP API (under /loki/api/v1) for Grafana's Loki datasource: query,
 * query_range, labels, label values, series, index/stats, index/volume(_range) and tail.
 * Tenant tokens see their own org only, on every endpoint.
 */
export const lokiApi: FastifyPluginAsync<LokiApiOptions> = async (app, opts) => {
  const { store } = opts
  app.setErrorHandler(errorHandler)

  async function answer (expr: ReturnType<typeof parseLogQL>, org: string | undefined, startNs: bigint, endNs: bigint, stepNs: bigint, instant: boolean, q: p.Query) {
    const startedAt = process.hrtime.bigint()
    if (isLogExpr(expr)) {
      const r = await runLogQuery(store, expr, org, startNs, endNs, p.limit(q), p.direction(q))
      opts.onLines(r.entriesReturned)
      return success({ resultType: 'streams', result: r.result, stats: stats({ ...r, startedAt }) })
    }
    const steps = instant ? 1 : stepCount(startNs, endNs, stepNs)
    const ctx: EvalContext = { store, org, startNs, stepNs, steps, stats: { linesProcessed: 0, bytesProcessed: 0 } }
    let v = await evalMetric(expr as MetricExpr, ctx)
    if (typeof v === 'number') {
      if (instant) return success({ resultType: 'scalar', result: [stepSeconds(startNs), formatValue(v)], stats: stats({ ...ctx.stats, entriesReturned: 0, startedAt }) })
      v = [{ labels: {}, values: new Float64Array(steps).fill(v) }]
    }
    const result = instant ? toVector(v, startNs) : toMatrix(v, startNs, stepNs)
    return success({ resultType: instant ? 'vector' : 'matrix', result, stats: stats({ ...ctx.stats, entriesReturned: result.length, startedAt }) })
  }

  app.get(`${PREFIX}/query_range`, async (req: Req) => {
    const q = req.query
    const src = p.one(q, 'query')
    if (src === undefined) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const expr = parseLogQL(src)
    const { startNs, endNs } = p.range(q)
    return await answer(expr, orgScope(req), startNs, endNs, p.step(q, startNs, endNs), false, q)
  })

  app.get(`${PREFIX}/query`, async (req: Req) => {
    const q = req.query
    const src = p.one(q, 'query')
    if (src === undefined) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const expr = parseLogQL(src)
    const at = p.time(q, 'time', BigInt(nowNs()))
    if (isLogExpr(expr)) {
      // An instant log query returns the lines before `time`, as Loki does (from an hour back).
      return await answer(expr, orgScope(req), at - 3_600_000_000_000n, at + 1n, 1n, true, q)
    }
    return await answer(expr, orgScope(req), at, at, 1n, true, q)
  })

  app.get(`${PREFIX}/labels`, async (req: Req) => {
    const { startNs } = p.range(req.query)
    const streams = await streamsFor(store, selectorOf(req.query), orgScope(req), startNs)
    const names = new Set<string>()
    for (const s of streams) {
      for (const n of Object.keys(s.labels)) names.add(n)
      if (s.info.namespace !== undefined) names.add('stream')
    }
    if (streams.length > 0) names.add('level')
    return success([...names].sort())
  })

  app.get(`${PREFIX}/label/:name/values`, async (req: Req) => {
    const name = req.params.name ?? ''
    const { startNs, endNs } = p.range(req.query)
    const e = selectorOf(req.query)
    const org = orgScope(req)
    const values = new Set<string>()
    if (PER_LINE.has(name)) {
      const all: LogExpr = e ?? { kind: 'log', matchers: [{ name: 'deployment', op: '=~', value: '.+' }], stages: [] }
      for (const l of await lineLabelSets(store, all, org, startNs, endNs)) if (l[name] !== undefined) values.add(l[name])
    } else {
      for (const s of await streamsFor(store, e, org, startNs)) {
        const v = s.labels[name]
        if (v !== undefined && v !== '') values.add(v)
      }
    }
    return success([...values].sort())
  })

  app.get(`${PREFIX}/series`, async (req: Req) => {
    const { startNs, endNs } = p.range(req.query)
    const matches = p.all(req.query, 'match[]', 'match')
    if (matches.length === 0) throw new DaytwoError('BAD_LOGQL', 'at least one match[] selector is required')
    const org = orgScope(req)
    const out = new Map<string, Labels>()
    for (const m of matches) {
      const e = parseLogQL(m)
      if (!isLogExpr(e)) throw new DaytwoError('BAD_LOGQL', `match[] must be a stream selector, got ${JSON.stringify(m)}`)
      if (e.matchers.some((x) => PER_LINE.has(x.name))) {
        for (const l of await lineLabelSets(store, e, org, startNs, endNs)) out.set(labelsKey(l), sortedLabels(l))
      } else {
        for (const s of await streamsFor(store, e, org, startNs)) out.set(labelsKey(s.labels), sortedLabels(s.labels))
      }
    }
    return success([...out.values()])
  })

  // Index statistics come from per-stream totals (no lines are read): streams whose lines reach
  // into the range are counted whole, as Loki counts whole chunks.
  app.get(`${PREFIX}/index/stats`, async (req: Req) => {
    const { startNs } = p.range(req.query)
    const streams = await streamsFor(store, selectorOf(req.query), orgScope(req), startNs)
    let entries = 0
    let bytes = 0
    for (const s of streams) { entries += s.info.lines; bytes += s.info.bytes }
    return { streams: streams.length, chunks: streams.length, entries, bytes }
  })

  app.get(`${PREFIX}/index/volume`, async (req: Req) => {
    const q = req.query
    const { startNs, endNs } = p.range(q)
    const e = selectorOf(q)
    if (e === null) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const by = volumeLabels(e, q)
    const groups = new Map<string, { metric: Labels, bytes: number }>()
    for (const s of await streamsFor(store, e, orgScope(req), startNs)) {
      const metric: Labels = {}
      for (const n of by) if (s.labels[n] !== undefined) metric[n] = s.labels[n]
      const key = labelsKey(metric)
      const g = groups.get(key) ?? { metric, bytes: 0 }
      g.bytes += s.info.bytes
      groups.set(key, g)
    }
    const result = [...groups.values()].sort((a, b) => b.bytes - a.bytes).slice(0, p.limit(q))
      .map((g) => ({ metric: sortedLabels(g.metric), value: [stepSeconds(endNs), String(g.bytes)] as [number, string] }))
    return success({ resultType: 'vector', result })
  })

  // Volume over time reads the lines: sum by (labels) (bytes_over_time({…}[step])).
  app.get(`${PREFIX}/index/volume_range`, async (req: Req) => {
    const q = req.query
    const { startNs, endNs } = p.range(q)
    const e = selectorOf(q)
    if (e === null) throw new DaytwoError('BAD_LOGQL', 'query is required')
    const stepNs = p.step(q, startNs, endNs)
    const expr: MetricExpr = { kind: 'agg', op: 'sum', grouping: { mode: 'by', labels: volumeLabels(e, q) }, expr: { kind: 'range', fn: 'bytes_over_time', log: { ...e, stages: [] }, rangeNs: stepNs } }
    return await answer(expr, orgScope(req), startNs, endNs, stepNs, false, q)
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
