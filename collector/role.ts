import { TokenSet, serverTls } from '../core/auth.js'
import { tokenSecret } from '../core/config/collector-tokens.js'
import { DaytwoError } from '../core/errors.js'
import { createRegistry } from '../core/metrics.js'
import type { RoleContext, RunningRole } from '../core/role.js'
import { createServer, listen } from '../core/server.js'
import { fleetPlugin } from './fleet/fleet-plugin.js'
import { InflateBudget } from './inflate.js'
import { ingestPlugin } from './ingest.js'
import { bulkPlugin } from './receivers/bulk/bulk-plugin.js'
import { startFluentReceiver, type FluentReceiver } from './receivers/fluent/forward-listener.js'
import { Intake } from './intake.js'
import { lokiPushPlugin } from './receivers/loki/push-plugin.js'
import { OrgGrants } from './receivers/scope-org.js'
import { otlpPlugin } from './receivers/otlp/otlp-plugin.js'
import { OldLineFilter } from './limits/old-lines.js'
import { collectorMetrics } from './metrics.js'
import { storeMetrics } from './store-metrics.js'
import { createTenantPipeline } from './tenants/pipeline.js'

export async function start (ctx: RoleContext): Promise<RunningRole> {
  const { config, log } = ctx
  const cfg = config.collector
  const tokens = new TokenSet(cfg.tokens.map(tokenSecret))
  // Which tokens may name their pushes' org with X-Scope-OrgID (Loki push, OTLP).
  const grants = new OrgGrants(cfg.tokens)
  if (tokens.size === 0) throw new DaytwoError('CONFIG', 'collector.tokens (DAYTWO_COLLECTOR_TOKENS) is empty: no forwarder could authenticate')
  const tls = serverTls(cfg)
  if (!ctx.store) throw new DaytwoError('CONFIG', 'the collector needs a store')
  const store = await ctx.store()
  const registry = createRegistry('collector')
  const metrics = collectorMetrics(registry, log)
  storeMetrics(registry, store)
  // Only the embedded store deletes by age (Elasticsearch's lifecycle is its own).
  const oldLines = config.store.kind === 'embedded' ? new OldLineFilter(config.store.retentionDays, config.store.retentionCheckMs) : undefined
  const tenants = createTenantPipeline(cfg, { store, registry, metrics, log, oldLines })
  const app = createServer({ role: 'collector', registry, log, readiness: () => store.check(), bodyLimit: cfg.maxBodyBytes, limits: config.http, tls })
  // One budget for batches and metric reports; never below one full batch, or a large batch could never pass.
  const inflateBudget = new InflateBudget(Math.max(cfg.inflateBudgetBytes, cfg.maxBodyBytes, cfg.fleet.maxReportBytes))
  // Every receiver's batches take this one path to the store.
  const intake = new Intake({
    store,
    metrics,
    maxFutureSkewMs: cfg.maxFutureSkewMs,
    transform: (b, scope) => tenants.transform(b, scope),
    committed: (b, r) => tenants.committed(b, r)
  })
  await app.register(ingestPlugin, { intake, inflateBudget, tokens, metrics, maxBodyBytes: cfg.maxBodyBytes })
  // Receivers of other agents' protocols: same tokens, limits and intake as the forwarder's endpoint.
  await app.register(lokiPushPlugin, { intake, inflateBudget, tokens, grants, metrics, maxBodyBytes: cfg.maxBodyBytes })
  // Elasticsearch senders (Fluent Bit es, Filebeat, Vector): the same tokens, bounds and intake.
  await app.register(bulkPlugin, { intake, inflateBudget, tokens, metrics, registry, maxBodyBytes: cfg.maxBodyBytes })
  // OpenTelemetry exporters and Collectors (OTLP/HTTP logs): the same tokens, bounds and intake.
  await app.register(otlpPlugin, { intake, inflateBudget, tokens, grants, metrics, registry, maxBodyBytes: cfg.maxBodyBytes })
  if (cfg.fleet.enabled) await app.register(fleetPlugin, { cfg: cfg.fleet, tokens, registry, log, inflateBudget })
  app.server.on('tlsClientError', (err: Error) => metrics.reject('tls_refused', 1, err.message))
  const url = await listen(app, cfg.host, cfg.port)
  // Fluent Bit's and Fluentd's forward output: a TCP listener of its own, the same intake.
  let fluent: FluentReceiver | undefined
  if (cfg.fluent.port !== 0) {
    try {
      fluent = await startFluentReceiver({ cfg: cfg.fluent, node: config.node, intake, metrics, registry, inflateBudget, log })
    } catch (err) {
      tenants.stop()
      await app.close()
      throw err
    }
  }
  const extras = [tls ? (tls.requestCert ? 'mTLS' : 'TLS') : '', fluent ? `Fluent forward at ${fluent.url}` : '', tenants.summary].filter((s) => s)
  return {
    name: 'collector',
    url,
    summary: `ingest at ${url}/api/v1/ingest → ${store.kind} store${extras.length ? ` (${extras.join('; ')})` : ''}`,
    async stop () {
      tenants.stop()
      await fluent?.stop()
      await app.close()
    }
  }
}
