import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Registry } from 'prom-client'
import type { HttpLimits } from './config/http.js'
import { httpLimitsSchema } from './config/http.js'
import { counter } from './metrics.js'

// Limits on one HTTP listener against clients that hold connections rather than use them:
// a cap on open connections (in all and per client address), checked when a connection is
// accepted; the request line, headers and whole request within bounds (Node's own
// headersTimeout and requestTimeout, checked every second rather than Node's default 30 s);
// and a request body that stops arriving cut off. Every refusal and closing is counted.

export const DEFAULT_HTTP_LIMITS: HttpLimits = httpLimitsSchema.parse({})

/** Options for http.createServer / https.createServer that make Node enforce the timeouts. */
export function nodeServerOptions (limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs)
  }
}

export interface HttpGuard {
  /** Count a connection the server closed, by reason (request_timeout, unauthorized, …). */
  closed: (reason: string) => void
}

/** Apply the connection caps and body-idle cut-off to a server, counting into `registry`. */
export function guardHttpServer (server: Server, limits: HttpLimits, registry: Registry): HttpGuard {
  const refused = counter(registry, 'daytwo_connections_refused_total', 'Connections closed as soon as they were accepted, by reason (global: the listener\'s cap; per_address: one client address\'s cap).', ['reason'])
  const closed = counter(registry, 'daytwo_connections_closed_total', 'Connections the server closed on a client, by reason (request_timeout, body_idle, unauthorized, client_error).', ['reason'])
  for (const reason of ['global', 'per_address']) refused.inc({ reason }, 0)
  for (const reason of ['request_timeout', 'body_idle', 'unauthorized']) closed.inc({ reason }, 0)

  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  // Node refuses connections over maxConnections before emitting 'connection', and tells us.
  server.maxConnections = limits.maxConnections
  server.on('drop', () => refused.inc({ reason: 'global' }))

  const perAddress = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? ''
    const n = perAddress.get(addr) ?? 0
    if (n >= limits.maxConnectionsPerAddress) {
      refused.inc({ reason: 'per_address' })
      socket.destroy()
      return
    }
    perAddress.set(addr, n + 1)
    socket.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1
      if (left <= 0) perAddress.delete(addr)
      else perAddress.set(addr, left)
    })
  })

  // Requests whose body has not all arrived: the socket's byte count must keep moving.
  const pending = new Map<IncomingMessage, { socket: Socket, bytes: number, since: number }>()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.complete) return
    pending.set(req, { socket: req.socket, bytes: req.socket.bytesRead, since: Date.now() })
    const done = () => pending.delete(req)
    req.once('end', done)
    res.once('close', done)
  })
  const tick = Math.max(50, Math.min(1000, Math.floor(limits.bodyIdleTimeoutMs / 4)))
  const timer = setInterval(() => {
    const now = Date.now()
    for (const [req, p] of pending) {
      if (req.complete || p.socket.destroyed) { pending.delete(req); continue }
      const bytes = p.socket.bytesRead
      if (bytes !== p.bytes) { p.bytes = bytes; p.since = now; continue }
      if (now - p.since >= limits.bodyIdleTimeoutMs) {
        pending.delete(req)
        closed.inc({ reason: 'body_idle' })
        p.socket.destroy()
      }
    }
  }, tick)
  timer.unref()
  server.once('close', () => clearInterval(timer))
  return { closed: (reason) => closed.inc({ reason }) }
}
