import { Gauge, type Registry } from 'prom-client'
import { counter } from '../../../core/metrics.js'
import type { DiskSpool } from '../../spool/disk-spool.js'

// The syslog source's own metrics, beside the forwarder's (lines_read_total{source="syslog"},
// lines_altered_total, dropped_total). Labels are bounded: transport and header format.

export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const
export const FORMATS = ['rfc5424', 'rfc3164', 'none'] as const

export interface SyslogMetrics {
  messages: ReturnType<typeof counter>
  connections: Gauge
  closed: ReturnType<typeof counter>
}

export function syslogMetrics (registry: Registry, spool: DiskSpool, spoolMaxBytes: number): SyslogMetrics {
  const p = 'daytwo_forwarder_syslog'
  const m: SyslogMetrics = {
    messages: counter(registry, `${p}_messages_total`, 'Syslog messages received, by transport and header format (none: no header, the whole frame kept as the message).', ['transport', 'format']),
    connections: new Gauge({ name: `${p}_connections`, help: 'Open syslog TCP/TLS connections.', labelNames: ['transport'], registers: [registry] }),
    closed: counter(registry, `${p}_connections_closed_total`, 'Syslog TCP/TLS connections the forwarder closed, by reason: idle_timeout (nothing sent for forwarder.syslog.idleTimeoutMs), evicted_idle (the longest idle, closed at maxConnections to let a new sender in).', ['transport', 'reason'])
  }
  for (const t of TRANSPORTS) for (const f of FORMATS) m.messages.inc({ transport: t, format: f }, 0)
  for (const t of ['tcp', 'tls']) {
    m.connections.set({ transport: t }, 0)
    for (const reason of ['idle_timeout', 'evicted_idle']) m.closed.inc({ transport: t, reason }, 0)
  }
  new Gauge({ name: `${p}_spool_bytes`, help: 'Bytes in the syslog spool (segment files).', registers: [registry], collect () { this.set(spool.bytes) } }) // eslint-disable-line no-new
  // The bound beside the fill, so an alert can say "spool 80 % full" without knowing the config.
  new Gauge({ name: `${p}_spool_max_bytes`, help: 'The syslog spool\'s bound (forwarder.syslog.spoolMaxBytes); at it, new messages are dropped (reason spool_full).', registers: [registry] }).set(spoolMaxBytes)
  new Gauge({ name: `${p}_spool_messages`, help: 'Spooled messages the collector has not acknowledged yet.', registers: [registry], collect () { this.set(spool.pending) } }) // eslint-disable-line no-new
  new Gauge({ name: `${p}_spool_segments`, help: 'Syslog spool segment files.', registers: [registry], collect () { this.set(spool.segmentCount) } }) // eslint-disable-line no-new
  return m
}
