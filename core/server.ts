import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { DaytwoError } from './errors.js'
import type { Logger } from './logger.js'

export interface ServerOptions {
  role: string
  registry: Registry
  log: Logger
  /** Resolves to null when ready, or to the reason it is not. */
  readiness?: () => Promise<string | null>
  bodyLimit?: number
}

/**
 * The HTTP server every role starts from: /healthz (the process is alive), /readyz (it can do
 * its work: e.g. its store answers), /metrics, and errors answered as `{ code, message }`.
 * Role routes are registered on it as encapsulated fastify plugins.
 */
export function createServer (opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.log.child({ role: opts.role }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1048576,
    forceCloseConnections: true
  })
  app.setErrorHandler((err: Error & { statusCode?: number, code?: string }, req, reply) => {
    if (err instanceof DaytwoError) {
      void reply.code(err.statusCode).send({ code: err.code, message: err.message })
      return
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    // Errors raised by fastify itself (FST_ERR_…: body limit, content type, bad headers)
    // answer with a daytwo code too; the original code stays in `cause`.
    const code = status < 500 ? clientErrorCode(status) : 'DAYTWO_ERR_INTERNAL'
    void reply.code(status).send({ code, message: err.message, ...(err.code !== undefined ? { cause: err.code } : {}) })
  })
  app.setNotFoundHandler(async (req) => { throw new DaytwoError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`) })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const reason = opts.readiness ? await opts.readiness() : null
    if (reason !== null) return reply.code(503).send({ status: 'not ready', reason })
    return { status: 'ready' }
  })
  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', opts.registry.contentType)
    return await opts.registry.metrics()
  })
  return app
}

/** The daytwo code for a client error fastify raised (not a DaytwoError). */
export function clientErrorCode (status: number): string {
  if (status === 413) return 'DAYTWO_ERR_BODY_TOO_LARGE'
  if (status === 415) return 'DAYTWO_ERR_BAD_CONTENT_TYPE'
  if (status === 401) return 'DAYTWO_ERR_UNAUTHORIZED'
  if (status === 404) return 'DAYTWO_ERR_NOT_FOUND'
  return 'DAYTWO_ERR_BAD_REQUEST'
}

/** Listen and return the base URL actually bound (port 0 picks a free one). */
export async function listen (app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port })
  const addr = app.server.address()
  if (addr === null || typeof addr === 'string') throw new DaytwoError('CONFIG', `cannot determine listen address for ${host}:${port}`)
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return `http://${h}:${addr.port}`
}
