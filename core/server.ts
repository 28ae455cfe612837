import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import { STATUS_CODES, createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { Registry } from 'prom-client'
import type { ServerTls } from './auth.js'
import type { HttpLimits } from './config/http.js'
import { DaytwoError } from './errors.js'
import { DEFAULT_HTTP_LIMITS, guardHttpServer, nodeServerOptions } from './http-guard.js'
import type { Logger } from './logger.js'

export interface ServerOptions {
  role: string
  registry: Registry
  log: Logger
  /** Resolves to null when ready, or to the reason it is not. */
  readiness?: () => Promise<string | null>
  bodyLimit?: number
  /** Called for a request fastify refuses before routing (no route hooks run for it), to count it. */
  onUnroutable?: (url: string, status: number) => void
  /** Timeouts and connection caps (config `http`); defaults when absent. */
  limits?: HttpLimits
  /** Serve https with these (collector.tlsCertFile…); plain http when absent. */
  tls?: ServerTls | null
}

/**
 * The HTTP server every role starts from: /healthz (the process is alive), /readyz (it can do
 * its work: e.g. its store answers), /metrics, and errors answered as `{ code, message }`.
 * Role routes are registered on it as encapsulated fastify plugins.
 */
export function createServer (opts: ServerOptions): FastifyInstance {
  const limits = opts.limits ?? DEFAULT_HTTP_LIMITS
  let guard: ReturnType<typeof guardHttpServer> | undefined
  const app = Fastify({
    // Our own server, so Node checks its header and request timeouts every second and the
    // connection caps apply from the first byte; https when the role has TLS files.
    serverFactory: (handler: RequestListener) => {
      const nodeOpts = nodeServerOptions(limits)
      const server = opts.tls ? createHttpsServer({ ...opts.tls, ...nodeOpts }, handler) : createHttpServer(nodeOpts, handler)
      guard = guardHttpServer(server as Server, limits, opts.registry)
      return server
    },
    loggerInstance: opts.log.child({ role: opts.role }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1048576,
    forceCloseConnections: true,
    // Requests Node's HTTP parser refuses (headers or URL over 16 KiB, malformed request
    // lines) are answered with a daytwo code as well; the parser cannot tell us the path.
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return
      guard?.closed(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : 'client_error')
      const [status, code, message] = err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'DAYTWO_ERR_HEADERS_TOO_LARGE', 'request line and headers exceed 16 KiB']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'DAYTWO_ERR_REQUEST_TIMEOUT', 'request not received in time'] : [400, 'DAYTWO_ERR_BAD_REQUEST', 'malformed HTTP request']
      const body = JSON.stringify({ code, message })
      if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`)
      socket.destroy()
    },
    // URLs fastify refuses before routing (broken percent-encoding, a path parameter over
    // maxParamLength) get a daytwo code too; under /loki/ in Loki's error shape, which
    // Grafana reads.
    frameworkErrors: (err, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400
      opts.onUnroutable?.(req.url, status)
      void (reply as unknown as FastifyReply).code(status).send(clientErrorBody(req.url, status, clientErrorCode(status), err.message, err.code))
    }
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
  // An unauthenticated client gets its 401 and loses the connection: no keep-alive for it, and
  // the body it may still be sending is not read (Node closes the socket after the answer).
  app.addHook('onSend', async (_req, reply) => {
    if (reply.statusCode === 401) {
      void reply.header('connection', 'close')
      guard?.closed('unauthorized')
    }
  })
  app.setNotFoundHandler(async (req, reply) => {
    const message = `no route ${req.method} ${req.url.split('?')[0]}`
    return await reply.code(404).send(clientErrorBody(req.url, 404, 'DAYTWO_ERR_NOT_FOUND', message))
  })
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

/** A client error answered outside any route: Loki's error shape under /loki/ (Grafana reads it), else ours. */
function clientErrorBody (url: string, status: number, code: string, message: string, cause?: string): Record<string, unknown> {
  if (url.startsWith('/loki/')) return { status: 'error', errorType: 'bad_data', code: status, message, error: message, errorCode: code }
  return { code, message, ...(cause !== undefined ? { cause } : {}) }
}

/** Listen and return the base URL actually bound (port 0 picks a free one). */
export async function listen (app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port })
  const addr = app.server.address()
  if (addr === null || typeof addr === 'string') throw new DaytwoError('CONFIG', `cannot determine listen address for ${host}:${port}`)
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return `${app.server instanceof TlsServer ? 'https' : 'http'}://${h}:${addr.port}`
}
