import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import type { TokenSet } from '../../core/auth.js'
import type { FleetConfig } from '../../core/config/fleet.js'
import { DaytwoError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import { counter, createDropCounter } from '../../core/metrics.js'
import { checkReport } from '../../core/metric-samples.js'
import { InflateError, inflate, type InflateBudget } from '../inflate.js'
import { FleetExposition } from './fleet-exposition.js'
import { FleetState } from './fleet-state.js'

export const FLEET_DROP_REASONS = ['series_limit', 'fleet_series_limit', 'node_series_limit', 'unknown_metric', 'malformed_sample', 'malformed_report', 'unauthorized', 'inflate_busy']

export interface FleetOptions {
  cfg: FleetConfig
  tokens: TokenSet
  /** The collector's own registry, for the fleet's self-metrics. */
  registry: Registry
  log: Logger
  /** Shared with ingest: inflated bytes all requests in flight may hold. */
  inflateBudget: InflateBudget
}

/**
 * POST /api/v1/metrics — a forwarder's metrics report (core/metric-samples.ts), JSON, gzip or
 * identity, with the same Bearer tokens as ingest. GET /fleet/metrics — the whole fleet in
 * one Prometheus exposition, unauthenticated like every role's /metrics.
 */
export const fleetPlugin: FastifyPluginAsync<FleetOptions> = async (app: FastifyInstance, opts) => {
  const { cfg, tokens, registry, log } = opts
  const p = 'daytwo_collector_fleet'
  const drop = createDropCounter(registry, p, FLEET_DROP_REASONS, log)
  const reports = counter(registry, `${p}_reports_total`, 'Metric reports answered, by HTTP status code.', ['code'])
  const seriesGauge = new Gauge({ name: `${p}_series`, help: 'Series held for /fleet/metrics.', registers: [registry] })
  const instancesGauge = new Gauge({ name: `${p}_instances`, help: 'Instances (node and deployment/job/index) held for /fleet/metrics.', registers: [registry] })
  const state = new FleetState(cfg, log, (reason, n, detail) => drop(reason, n, detail))
  const exposition = new FleetExposition(state)
  const refreshGauges = () => { seriesGauge.set(state.seriesCount); instancesGauge.set(state.instances.size) }

  // Transitions (down, silent, removed) are logged even when nobody scrapes.
  const sweepEvery = Math.max(250, Math.min(5000, Math.floor(Math.min(cfg.heartbeatTimeoutMs, cfg.silentAfterMs) / 4)))
  const timer = setInterval(() => { state.sweep(Date.now()); refreshGauges() }, sweepEvery)
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))

  // The exposition is rebuilt at most every exposeEveryMs, and sooner only when building it is
  // cheap (ten times its last build time), so a stream of scrapes of a large fleet does not
  // spend the event loop rebuilding it; scrapes at the same moment share one build.
  let built: { text: string, at: number, tookMs: number } | null = null
  let building: Promise<string> | null = null
  const current = async (): Promise<string> => {
    const now = Date.now()
    if (built !== null && now - built.at < Math.min(cfg.exposeEveryMs, 10 * built.tookMs)) return built.text
    if (building !== null) return await building
    building = (async () => {
      const t0 = performance.now()
      const text = await exposition.render(now)
      built = { text, at: now, tookMs: performance.now() - t0 }
      refreshGauges()
      return text
    })()
    try { return await building } finally { building = null }
  }
  app.get('/fleet/metrics', async (_req, reply) => {
    const text = await current()
    void reply.header('content-type', exposition.contentType)
    return text
  })

  await app.register(async (api) => {
    api.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: cfg.maxReportBytes }, (_req, body, done) => done(null, body))
    api.addHook('onRequest', async (req) => {
      if (!tokens.accepts(req.headers.authorization)) {
        drop('unauthorized', 1, req.ip)
        reports.inc({ code: '401' })
        throw new DaytwoError('UNAUTHORIZED')
      }
    })
    api.post('/api/v1/metrics', async (req, reply) => {
      const raw = req.body
      let release = () => {}
      try {
        if (!Buffer.isBuffer(raw)) throw new DaytwoError('BAD_REPORT', 'expected a JSON body (content-type application/json)')
        const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase()
        if (encoding !== 'gzip' && encoding !== 'identity') throw new DaytwoError('BAD_ENCODING', encoding)
        let body = raw
        if (encoding === 'gzip') {
          try {
            ({ body, release } = await inflate(raw, cfg.maxReportBytes, opts.inflateBudget))
          } catch (err) {
            if (!(err instanceof InflateError)) throw err
            if (err.failure === 'busy') {
              drop('inflate_busy', 1)
              void reply.header('retry-after', '1')
              reports.inc({ code: '503' })
              throw err.error
            }
            throw err.failure === 'malformed' ? new DaytwoError('BAD_REPORT', err.message) : err.error
          }
        }
        let parsed: unknown
        try { parsed = JSON.parse(body.toString('utf8')) } catch (err) { throw new DaytwoError('BAD_REPORT', `not JSON (${(err as Error).message})`) }
        const result = state.apply(checkReport(parsed), Date.now())
        refreshGauges()
        reports.inc({ code: '200' })
        return result
      } catch (err) {
        const status = err instanceof DaytwoError ? err.statusCode : 500
        if (status === 503) throw err
        if (status === 400 || status === 413 || status === 415) drop('malformed_report', 1, (err as Error).message)
        reports.inc({ code: String(status) })
        throw err
      } finally {
        release()
      }
    })
  })
}
