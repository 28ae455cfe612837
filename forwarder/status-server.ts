import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'
import type { HttpLimits } from '../core/config/http.js'
import { DaytwoError } from '../core/errors.js'
import { DEFAULT_HTTP_LIMITS, guardHttpServer, nodeServerOptions } from '../core/http-guard.js'

// The forwarder's HTTP endpoint: /healthz, /readyz and /metrics, answered like every role's
// (core/server.ts), with node:http instead of fastify. The forwarder runs on every node with
// a memory budget (100 MB), and fastify with its schema compiler costs ~9 MB of it for three
// GET routes that need no routing, validation or plugins.

const JSON_TYPE = 'application/json; charset=utf-8'

export interface StatusServer { url: string, close: () => Promise<void> }

export async function startStatusServer (registry: Registry, host: string, port: number, limits: HttpLimits = DEFAULT_HTTP_LIMITS): Promise<StatusServer> {
  const server: Server = createServer(nodeServerOptions(limits), (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const answer = (status: number, body: unknown, type = JSON_TYPE) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(path === '/healthz' || path === '/readyz' || path === '/metrics' ? 405 : 404, { code: path === '/healthz' || path === '/readyz' || path === '/metrics' ? 'DAYTWO_ERR_BAD_REQUEST' : 'DAYTWO_ERR_NOT_FOUND', message: `no route ${req.method ?? ''} ${path}` })
      return
    }
    if (path === '/healthz') answer(200, { status: 'ok' })
    else if (path === '/readyz') answer(200, { status: 'ready' })
    else if (path === '/metrics') {
      registry.metrics().then((text) => answer(200, text, registry.contentType), (err: Error) => answer(500, { code: 'DAYTWO_ERR_INTERNAL', message: err.message }))
    } else answer(404, { code: 'DAYTWO_ERR_NOT_FOUND', message: `no route ${req.method ?? ''} ${path}` })
  })
  guardHttpServer(server, limits, registry)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new DaytwoError('CONFIG', `cannot determine listen address for ${host}:${port}`)
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${h}:${addr.port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
