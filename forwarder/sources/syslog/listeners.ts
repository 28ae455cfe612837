import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { isIPv6 } from 'node:net'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { DaytwoError } from '../../../core/errors.js'
import type { Logger } from '../../../core/logger.js'
import { FrameSplitter, type FrameSink } from './octet-framing.js'

// The sockets: UDP (one message per datagram), TCP and TLS (RFC 6587 framing, see
// octet-framing.ts). They only frame bytes; syslog-source.ts does the rest.

export type Transport = 'udp' | 'tcp' | 'tls'

/** Takes the frames of one connection (or of one UDP sender), a chunk of bytes at a time. */
export interface Receiver extends FrameSink {
  /** Frames of `chunk` follow (each a view of it, or of a copy when it began in an earlier chunk). */
  begin (chunk: Buffer): void
  /** The chunk's frames were all handed over. */
  end (): void
}

export interface ListenerEvents {
  /** A receiver for a new connection, or for a UDP sender. */
  receiver (transport: Transport, listener: string, peer: string): Receiver
  /** A connection ended inside an octet-counted frame, or its octet count lied. */
  lost (transport: Transport, reason: 'syslog_truncated_frame' | 'syslog_octet_count_mismatch', bytes: number): void
  connections (transport: Transport, delta: number): void
  /** A connection closed by us: idle past idleTimeoutMs, or the longest idle one, to make room for a new sender. */
  closed (transport: Transport, reason: 'idle_timeout' | 'evicted_idle'): void
}

export interface Listener {
  transport: Transport
  /** As configured, e.g. `tcp://0.0.0.0:514`: part of each stream's identity. */
  url: string
  close (): Promise<void>
}

function url (transport: Transport, host: string, port: number): string {
  return `${transport}://${isIPv6(host) ? `[${host}]` : host}:${port}`
}

const MAX_UDP_SENDERS = 1024
const EMPTY = Buffer.alloc(0)

export async function listenUdp (host: string, port: number, maxBytes: number, ev: ListenerEvents): Promise<Listener> {
  const sock: UdpSocket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false })
  const u = url('udp', host, port)
  // One receiver per sender address (they keep what they learnt of the sender's headers).
  const receivers = new Map<string, Receiver>()
  sock.on('message', (msg, rinfo) => {
    let rx = receivers.get(rinfo.address)
    if (rx === undefined) {
      if (receivers.size >= MAX_UDP_SENDERS) receivers.clear()
      rx = ev.receiver('udp', u, rinfo.address)
      receivers.set(rinfo.address, rx)
    }
    const truncated = msg.length > maxBytes
    rx.begin(msg)
    rx.frame(msg, 0, truncated ? maxBytes : msg.length, truncated)
    rx.end()
  })
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (err) => reject(new DaytwoError('CONFIG', `cannot listen for syslog on ${u}: ${err.message}`)))
    sock.bind(port, host, () => resolve())
  })
  // A bigger kernel buffer rides out bursts while the event loop is busy (best effort).
  // The kernel may cap or refuse it (net.core.rmem_max): the default buffer still works.
  try { sock.setRecvBufferSize(4 * 1024 * 1024) } catch { /* best effort, see above */ }
  return { transport: 'udp', url: u, close: async () => await new Promise<void>((resolve) => sock.close(() => resolve())) }
}

export interface StreamListenerOptions {
  host: string
  port: number
  maxBytes: number
  maxConnections: number
  /** A connection that sends nothing for this long is closed (0: never). */
  idleTimeoutMs: number
  tls?: { certFile: string, keyFile: string }
}

export async function listenStream (opts: StreamListenerOptions, ev: ListenerEvents, log: Logger): Promise<Listener> {
  const transport: Transport = opts.tls ? 'tls' : 'tcp'
  const u = url(transport, opts.host, opts.port)
  /** Every TCP connection, TLS ones also before and after their handshake, with when it last sent a byte. */
  const sockets = new Map<Socket, number>()
  const onConnection = (sock: Socket) => {
    ev.connections(transport, 1)
    const peer = sock.remoteAddress ?? ''
    const splitter = new FrameSplitter(opts.maxBytes)
    const rx = ev.receiver(transport, u, peer)
    // The TCP socket under a TLS one (Node keeps it as _parent) is the one in `sockets`.
    const raw = (sock as unknown as { _parent?: Socket })._parent ?? sock
    if (opts.idleTimeoutMs > 0) {
      sock.setTimeout(opts.idleTimeoutMs, () => {
        ev.closed(transport, 'idle_timeout')
        log.debug({ peer, listener: u }, 'syslog connection idle: closing it')
        sock.destroy()
      })
    }
    sock.on('data', (chunk: Buffer) => {
      if (sockets.has(raw)) sockets.set(raw, Date.now())
      rx.begin(chunk)
      const err = splitter.push(chunk, rx)
      rx.end()
      if (err !== null) {
        ev.lost(transport, 'syslog_octet_count_mismatch', 0)
        log.debug({ peer, listener: u }, 'octet count does not match the frame: closing the connection')
        sock.destroy()
      }
    })
    sock.on('error', (err) => log.debug({ peer, listener: u, err: err.message }, 'syslog connection error'))
    sock.on('close', () => {
      ev.connections(transport, -1)
      rx.begin(EMPTY)
      const lost = splitter.end(rx)
      rx.end()
      if (lost > 0) ev.lost(transport, 'syslog_truncated_frame', lost)
    })
  }
  let server: Server
  if (opts.tls) {
    let cert: Buffer, key: Buffer
    try {
      cert = readFileSync(opts.tls.certFile)
      key = readFileSync(opts.tls.keyFile)
    } catch (err) {
      throw new DaytwoError('CONFIG', `forwarder.syslog.tlsCertFile/tlsKeyFile: ${(err as Error).message}`)
    }
    const tlsServer = createTlsServer({ cert, key })
    tlsServer.on('secureConnection', onConnection)
    tlsServer.on('tlsClientError', (err, sock) => log.debug({ peer: sock.remoteAddress, err: err.message }, 'syslog TLS handshake failed'))
    server = tlsServer
  } else {
    server = createTcpServer(onConnection)
  }
  // At maxConnections, a new connection closes the one idle longest rather than being
  // refused: silent connections cannot keep a real sender out. (A TLS connection still in
  // its handshake counts as idle since it connected; Node ends handshakes after 120 s.)
  server.on('connection', (raw: Socket) => {
    if (sockets.size >= opts.maxConnections) {
      let oldest: Socket | undefined
      let at = Infinity
      for (const [s, t] of sockets) if (t < at) { at = t; oldest = s }
      if (oldest !== undefined) {
        sockets.delete(oldest)
        ev.closed(transport, 'evicted_idle')
        oldest.destroy()
      }
    }
    sockets.set(raw, Date.now())
    raw.once('close', () => sockets.delete(raw))
    if (opts.tls && opts.idleTimeoutMs > 0) {
      // Until the handshake is done the TLS socket has no timer of its own.
      raw.setTimeout(opts.idleTimeoutMs, () => { ev.closed(transport, 'idle_timeout'); raw.destroy() })
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new DaytwoError('CONFIG', `cannot listen for syslog on ${u}: ${err.message}`)))
    server.listen(opts.port, opts.host, () => resolve())
  })
  return {
    transport,
    url: u,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets.keys()) s.end()
      // Senders that do not close their side within a moment are cut off.
      const timer = setTimeout(() => { for (const s of sockets.keys()) s.destroy() }, 1000)
      await closed
      clearTimeout(timer)
    }
  }
}
