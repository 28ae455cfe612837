import { TokenSet } from '../core/auth.js'
import { DaytwoError } from '../core/errors.js'
import { createRegistry } from '../core/metrics.js'
import type { RoleContext, RunningRole } from '../core/role.js'
import { createServer, listen } from '../core/server.js'
import { ingestPlugin } from './ingest.js'
import { collectorMetrics } from './metrics.js'

export async function start (ctx: RoleContext): Promise<RunningRole> {
  const { config, log } = ctx
  const cfg = config.collector
  const tokens = new TokenSet(cfg.tokens)
  if (tokens.size === 0) throw new DaytwoError('CONFIG', 'collector.tokens (DAYTWO_COLLECTOR_TOKENS) is empty: no forwarder could authenticate')
  if (!ctx.store) throw new DaytwoError('CONFIG', 'the collector needs a store')
  const store = await ctx.store()
  const registry = createRegistry('collector')
  const metrics = collectorMetrics(registry, log)
  const app = createServer({ role: 'collector', registry, log, readiness: () => store.check(), bodyLimit: cfg.maxBodyBytes })
  await app.register(ingestPlugin, { store, tokens, metrics, maxBodyBytes: cfg.maxBodyBytes })
  const url = await listen(app, cfg.host, cfg.port)
  return {
    name: 'collector',
    url,
    summary: `ingest at ${url}/api/v1/ingest → ${store.kind} store`,
    async stop () { await app.close() }
  }
}
