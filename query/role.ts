import { DaytwoError } from '../core/errors.js'
import { counter, createRegistry } from '../core/metrics.js'
import type { RoleContext, RunningRole } from '../core/role.js'
import { createServer, listen } from '../core/server.js'
import { QueryAuth, requireToken } from './auth.js'
import { logsApi } from './logs-api.js'
import { lokiApi } from './loki/loki-api.js'
import { usageApi } from './usage/usage-api.js'
import { usagePage } from './usage/usage-page.js'

export async function start (ctx: RoleContext): Promise<RunningRole> {
  const { config, log } = ctx
  const cfg = config.query
  const auth = new QueryAuth(cfg.tokens, cfg.tenantTokens)
  if (cfg.tokens.length === 0 && cfg.tenantTokens.length === 0) throw new DaytwoError('CONFIG', 'query.tokens (DAYTWO_QUERY_TOKENS) is empty: nobody could read logs')
  if (!ctx.store) throw new DaytwoError('CONFIG', 'the query service needs a store')
  const store = await ctx.store()
  const registry = createRegistry('query')
  const requests = counter(registry, 'daytwo_query_requests_total', 'API requests answered, by route and HTTP status code.', ['route', 'code'])
  const linesServed = counter(registry, 'daytwo_query_lines_served_total', 'Log lines sent to clients.')
  const rejected = counter(registry, 'daytwo_query_rejected_requests_total', 'Requests refused, by reason.', ['reason'])
  rejected.inc({ reason: 'unauthorized' }, 0)
  const counted = (url: string) => /^\/(api|loki)\//.test(url)
  const app = createServer({
    role: 'query',
    registry,
    log,
    readiness: () => store.check(),
    limits: config.http,
    onUnroutable: (url, status) => { if (counted(url)) requests.inc({ route: 'unmatched', code: String(status) }) }
  })
  app.addHook('onResponse', async (req, reply) => {
    // Every answer under /api/ and /loki/, refusals before routing included (route "unmatched").
    const route = req.routeOptions.url ?? 'unmatched'
    if (route.startsWith('/api/') || route.startsWith('/loki/') || (route === 'unmatched' && counted(req.url))) requests.inc({ route, code: String(reply.statusCode) })
  })
  await app.register(async (api) => {
    requireToken(api, auth, () => rejected.inc({ reason: 'unauthorized' }))
    await api.register(logsApi, { store, onLines: (n) => linesServed.inc(n) })
    await api.register(lokiApi, { store, onLines: (n) => linesServed.inc(n), timeoutMs: cfg.timeoutMs })
    await api.register(usageApi, { store, pricePerGiB: cfg.usage.pricePerGiB, currency: cfg.usage.currency, timeoutMs: cfg.timeoutMs })
  })
  await app.register(usagePage)
  const url = await listen(app, cfg.host, cfg.port)
  return {
    name: 'query',
    url,
    summary: `logs API at ${url}/api/v1 (reads the ${store.kind} store)`,
    async stop () { await app.close() }
  }
}
