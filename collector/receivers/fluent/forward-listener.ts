import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { Gauge, type Registry } from 'prom-client'
import { serverTls } from '../../../core/auth.js'
import type { FluentConfig } from '../../../core/config/fluent.js'
import { DaytwoError } from '../../../core/errors.js'
import type { Logger } from '../../../core/logger.js'
import { counter } from '../../../core/metrics.js'
import type { InflateBudget } from '../../inflate.js'
import type { Intake } from '../../intake.js'
import type { CollectorMetrics } from '../../metrics.js'
import { serveConnection } from './forward-connection.js'
import { sharedKeys } from './forward-handshake.js'

// The Fluent forward receiver's TCP (or TLS) listener: bounded connections, each served on
// its own (collector/receivers/fluent/forward-connection.ts), so that a slow or hostile one
// holds up no other.

export interface FluentReceiverOptions {
  cfg: FluentConfig
  /** The node name: the server hostname in the handshake unless cfg.selfHostname. */
  node: string
  intake: Intake
  metrics: CollectorMetrics
  registry: Registry
  inflateBudget: InflateBudget
  log: Logger
}

export interface FluentReceiver {
  url: string
  stop: () => Promise<void>
}

export async function startFluentReceiver (opts: FluentReceiverOptions): Promise<FluentReceiver> {
  const { cfg, metrics } = opts
  if (cfg.sharedKeys.length === 0) throw new DaytwoError('CONFIG', 'collector.fluent.port is set but collector.fluent.sharedKeys is empty: no forward sender could authenticate')
  const tls = serverTls(cfg, 'collector.fluent')
  const open = new Set<Socket>()
  new Gauge({ name: 'daytwo_collector_fluent_connections', help: 'Open Fluent forward connections.', registers: [opts.registry], collect () { this.set(open.size) } })
  const dropped = counter(opts.registry, 'daytwo_collector_fluent_dropped_total', 'Fluent forward events and record fields not kept, by reason.', ['reason'])
  for (const r of ['malformed_event', 'nested_too_deep', 'attributes_over_limit']) dropped.inc({ reason: r }, 0)
  const deps = {
    intake: opts.intake,
    metrics,
    keys: sharedKeys(cfg.sharedKeys),
    selfHostname: cfg.selfHostname || opts.node,
    maxChunkBytes: cfg.maxChunkBytes,
    idleTimeoutMs: cfg.idleTimeoutMs,
    defaultDeployment: cfg.defaultDeployment,
    inflateBudget: opts.inflateBudget,
    dropped,
    log: opts.log
  }
  const serve = (socket: Socket) => {
    serveConnection(socket, deps).catch((err: unknown) => {
      opts.log.error({ err }, 'fluent forward connection')
      socket.destroy()
    })
  }
  const server: Server = tls
    ? createTlsServer({ ...tls, handshakeTimeout: cfg.idleTimeoutMs }, serve)
    : createTcpServer()
  // Counted on the raw connection, before any TLS work is spent on it.
  server.on('connection', (socket: Socket) => {
    if (open.size >= cfg.maxConnections) {
      metrics.reject('connection_limit', 1, `fluent forward: ${open.size} connections open (collector.fluent.maxConnections)`)
      socket.destroy()
      return
    }
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    if (!tls) serve(socket)
  })
  server.on('tlsClientError', (err: Error) => metrics.reject('tls_refused', 1, `fluent forward: ${err.message}`))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(cfg.port, cfg.host, () => { server.off('error', reject); resolve() })
  })
  const addr = server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port
  return {
    url: `${tls ? 'tls' : 'tcp'}://${cfg.host}:${port}`,
    async stop () {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of open) s.destroy()
      await closed
    }
  }
}
