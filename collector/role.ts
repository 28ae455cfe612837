import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { RequestListener } from 'node:http'
import { TokenSet, serverTls } from '../core/auth.js'
import { DaytwoError } from '../core/errors.js'
import { createRegistry } from '../core/metrics.js'
import type { RoleContext, RunningRole } from '../core/role.js'
import { createServer, listen } from '../core/server.js'
import { fleetPlugin } from './fleet/fleet-plugin.js'
import { ingestPlugin } from './ingest.js'
import { collectorMetrics } from './metrics.js'
import { createTenantPipeline } from './tenants/pipeline.js'

export async function start (ctx: RoleContext): Promise<RunningRole> {
  const { config, log } = ctx
  const cfg = config.collector
  const tokens = new TokenSet(cfg.tokens)
  if (tokens.size === 0) throw new DaytwoError('CONFIG', 'collector.tokens (DAYTWO_COLLECTOR_TOKENS) is empty: no forwarder could authenticate')
  const tls = serverTls(cfg)
  if (!ctx.store) throw new DaytwoError('CONFIG', 'the collector needs a store')
  const store = await ctx.store()
  const registry = createRegistry('collector')
  const metrics = collectorMetrics(registry, log)
  const tenants = createTenantPipeline(cfg, { store, registry, metrics, log })
  const app = createServer({ role: 'collector', registry, log, readiness: () => store.check(), bodyLimit: cfg.maxBodyBytes })
  await app.register(ingestPlugin, {
    store,
    tokens,
    metrics,
    maxBodyBytes: cfg.maxBodyBytes,
    maxFutureSkewMs: cfg.maxFutureSkewMs,
    transform: (b) => tenants.transform(b),
    committed: (b, r) => tenants.committed(b, r)
  })
  if (cfg.fleet.enabled) await app.register(fleetPlugin, { cfg: cfg.fleet, tokens, registry, log })
  let url: string
  let https: HttpsServer | undefined
  if (tls) {
    // core/server.ts builds plain-http fastify; serve the same routes from an https server.
    await app.ready()
    https = createHttpsServer(tls, app.server.listeners('request')[0] as RequestListener)
    https.on('tlsClientError', (err) => metrics.reject('tls_refused', 1, err.message))
    url = await new Promise<string>((resolve, reject) => {
      https!.once('error', reject)
      https!.listen(cfg.port, cfg.host, () => {
        const a = https!.address()
        if (a === null || typeof a === 'string') { reject(new DaytwoError('CONFIG', `cannot determine listen address for ${cfg.host}:${cfg.port}`)); return }
        resolve(`https://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`)
      })
    })
  } else {
    url = await listen(app, cfg.host, cfg.port)
  }
  const extras = [tls ? (tls.requestCert ? 'mTLS' : 'TLS') : '', tenants.summary].filter((s) => s)
  return {
    name: 'collector',
    url,
    summary: `ingest at ${url}/api/v1/ingest → ${store.kind} store${extras.length ? ` (${extras.join('; ')})` : ''}`,
    async stop () {
      tenants.stop()
      if (https) {
        const closed = new Promise((resolve) => https!.close(resolve))
        https.closeAllConnections()
        await closed
      }
      await app.close()
    }
  }
}
