import { isUtf8 } from 'node:buffer'
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { ForwarderConfig } from '../../../core/config-schema.js'
import { DaytwoError } from '../../../core/errors.js'
import type { Logger } from '../../../core/logger.js'
import { MAX_ATTRIBUTES, type Attributes, type StreamTags } from '../../../core/record.js'
import { nowNs } from '../../../core/time.js'
import type { ForwarderMetrics } from '../../metrics.js'
import type { Shipper } from '../../shipper.js'
import { DiskSpool } from '../../spool/disk-spool.js'
import { listenStream, listenUdp, type Listener, type ListenerEvents, type Transport } from './listeners.js'
import type { Frame } from './octet-framing.js'
import { parseSyslog, stripTrailer } from './parse-syslog.js'
import { SpoolFeeder } from './spool-feeder.js'
import { deploymentRules, isIdentityElement, streamTags, type DeploymentRule } from './stream-tags.js'
import { syslogMetrics, type SyslogMetrics } from './syslog-metrics.js'
import { FACILITIES, SEVERITIES, type SyslogMessage } from './syslog-message.js'

/** Reasons this source adds to the forwarder's lines_altered_total. */
const ALTERED = ['syslog_malformed_header']
const TAG_CACHE_MAX = 10_000

/** Whether any syslog listener is configured (else no spool is created either). */
export function syslogEnabled (cfg: ForwarderConfig): boolean {
  const s = cfg.syslog
  return s.udpPort !== 0 || s.tcpPort !== 0 || s.tlsPort !== 0
}

/**
 * Syslog in: listeners frame messages, each message is parsed, tagged and appended to the
 * disk spool (or dropped with reason `spool_full`), and the feeder moves fsynced messages
 * from the spool into the shipper while it has room. Nothing is shipped from memory, so a
 * collector outage or a kill -9 loses nothing that was spooled.
 */
export class SyslogSource {
  private readonly listeners: Listener[] = []
  private readonly spool: DiskSpool
  private readonly feeder: SpoolFeeder
  private readonly m: SyslogMetrics
  private readonly rules: DeploymentRule[]
  private readonly tagCache = new Map<string, StreamTags>()
  private pumpTimer: NodeJS.Timeout | null = null

  constructor (
    private readonly cfg: ForwarderConfig,
    private readonly node: string,
    dataDir: string,
    private readonly shipper: Shipper,
    private readonly metrics: ForwarderMetrics,
    registry: Registry,
    private readonly log: Logger
  ) {
    const s = cfg.syslog
    this.spool = new DiskSpool(join(dataDir, 'forwarder', 'syslog-spool'), { maxBytes: s.spoolMaxBytes, segmentBytes: s.spoolSegmentBytes, fsyncIntervalMs: s.spoolFsyncIntervalMs })
    this.spool.onCorrupt = (path, pos, why) => this.metrics.drop('spool_corrupt', 1, `${path} at byte ${pos}: ${why}; the rest of the segment is skipped`)
    this.feeder = new SpoolFeeder(this.spool, shipper)
    this.spool.onDurable = () => this.feeder.pump()
    this.m = syslogMetrics(registry, this.spool)
    this.rules = deploymentRules(s.deployments)
    for (const r of ALTERED) metrics.altered.inc({ reason: r }, 0)
  }

  /** Where the listeners are, for the start banner. */
  get urls (): string[] { return this.listeners.map((l) => l.url) }

  async start (): Promise<void> {
    const s = this.cfg.syslog
    const ev: ListenerEvents = {
      frame: (transport, listener, peer, frame) => this.onFrame(transport, listener, peer, frame),
      lost: (_transport, reason, bytes) => this.metrics.drop(reason, 1, bytes > 0 ? `${bytes} bytes of an unfinished frame` : undefined),
      connections: (transport, delta) => this.m.connections.inc({ transport }, delta)
    }
    try {
      if (s.udpPort !== 0) this.listeners.push(await listenUdp(s.host, s.udpPort, s.maxMessageBytes, ev))
      if (s.tcpPort !== 0) this.listeners.push(await listenStream({ host: s.host, port: s.tcpPort, maxBytes: s.maxMessageBytes, maxConnections: s.maxConnections }, ev, this.log))
      if (s.tlsPort !== 0) {
        if (s.tlsCertFile === '' || s.tlsKeyFile === '') throw new DaytwoError('CONFIG', 'forwarder.syslog.tlsPort is set: forwarder.syslog.tlsCertFile and tlsKeyFile must name a PEM certificate and its key')
        this.listeners.push(await listenStream({ host: s.host, port: s.tlsPort, maxBytes: s.maxMessageBytes, maxConnections: s.maxConnections, tls: { certFile: s.tlsCertFile, keyFile: s.tlsKeyFile } }, ev, this.log))
      }
    } catch (err) {
      await this.stop()
      this.spool.close()
      throw err
    }
    // Spooled messages from before a restart go out first; then whenever the shipper has room.
    this.feeder.pump()
    this.pumpTimer = setInterval(() => this.feeder.pump(), Math.min(this.cfg.pollIntervalMs, 250))
    this.pumpTimer.unref()
  }

  /** Stop receiving. Spooled messages stay for the next start. */
  async stop (): Promise<void> {
    if (this.pumpTimer) clearInterval(this.pumpTimer)
    this.pumpTimer = null
    await Promise.all(this.listeners.map(async (l) => await l.close()))
    this.listeners.length = 0
  }

  /** After the shipper drained: fsync the spool and save what was acknowledged. */
  close (): void {
    try {
      this.spool.close()
    } catch (err) {
      // Unsaved acknowledgements only mean a resend at the next start (same ids, no duplicate).
      this.log.error({ err }, 'closing the syslog spool failed')
    }
  }

  private onFrame (transport: Transport, listener: string, peer: string, frame: Frame): void {
    const bytes = stripTrailer(frame.bytes)
    this.metrics.bytesRead.inc({ source: 'syslog' }, frame.bytes.length)
    if (bytes.length === 0) {
      this.metrics.drop('syslog_empty', 1, `from ${peer} on ${listener}`)
      return
    }
    this.metrics.linesRead.inc({ source: 'syslog' })
    if (frame.truncated) this.metrics.altered.inc({ reason: 'truncated' })
    if (!isUtf8(bytes)) this.metrics.altered.inc({ reason: 'invalid_utf8' }) // toString replaces with U+FFFD
    const m = parseSyslog(bytes.toString('utf8'), { zone: this.cfg.syslog.rfc3164TimeZone, nowMs: Date.now() })
    this.m.messages.inc({ transport, format: m.format })
    if (m.malformed !== undefined) this.metrics.altered.inc({ reason: 'syslog_malformed_header' })
    const tags = this.tagsFor(m, listener, peer)
    const seq = this.spool.append(tags, m.tsNs ?? nowNs(), m.message, lineAttributes(m, tags))
    if (seq === null) this.metrics.drop('spool_full', 1, `spool holds ${this.spool.bytes} bytes (forwarder.syslog.spoolMaxBytes ${this.cfg.syslog.spoolMaxBytes}); the collector is behind or unreachable`)
  }

  private tagsFor (m: ReturnType<typeof parseSyslog>, listener: string, peer: string): StreamTags {
    const identity = m.sd.length > 0 ? m.sd.filter((el) => isIdentityElement(el.id)) : m.sd
    let key = listener + '\0' + peer + '\0' + m.hostname + '\0' + m.appName + '\0' + m.procId + (identity.length > 0 ? '\0' + JSON.stringify(identity) : '')
    if (this.cfg.syslog.streamLabels.length > 0) key += '\0' + m.facility + '\0' + m.severity + '\0' + m.msgId
    let t = this.tagCache.get(key)
    if (t === undefined) {
      t = streamTags(m, { node: this.node, epoch: this.spool.epoch, listener, peer, rules: this.rules, defaultDeployment: this.cfg.syslog.defaultDeployment, streamLabels: this.cfg.syslog.streamLabels })
      if (this.tagCache.size >= TAG_CACHE_MAX) this.tagCache.clear()
      this.tagCache.set(key, t)
    }
    return t
  }
}

/**
 * What varies per message and is not a stream tag: facility and severity by name, msgid, and
 * structured data not already among the stream's labels (identity elements are).
 */
export function lineAttributes (m: SyslogMessage, tags: StreamTags): Attributes | undefined {
  if (m.format === 'none') return undefined
  let plain = true
  for (const el of m.sd) for (const [k] of el.params) if (tags.labels?.[`sd.${el.id}.${k}`] === undefined) plain = false
  if (plain) return plainAttributes(m.facility, m.severity, m.msgId)
  const a: Attributes = { facility: FACILITIES[m.facility] ?? String(m.facility), severity: SEVERITIES[m.severity] ?? String(m.severity) }
  if (m.msgId !== '') a.msgid = m.msgId
  for (const el of m.sd) {
    for (const [k, v] of el.params) {
      const key = `sd.${el.id}.${k}`
      if (tags.labels?.[key] === undefined && Object.keys(a).length < MAX_ATTRIBUTES) a[key] = v
    }
  }
  return a
}

/** Attributes without structured data are shared between messages (and so never changed). */
const plainCache = new Map<string, Attributes>()
function plainAttributes (facility: number, severity: number, msgId: string): Attributes {
  const key = String(facility * 8 + severity) + ' ' + msgId
  let a = plainCache.get(key)
  if (a === undefined) {
    a = { facility: FACILITIES[facility] ?? String(facility), severity: SEVERITIES[severity] ?? String(severity) }
    if (msgId !== '') a.msgid = msgId
    Object.freeze(a)
    if (plainCache.size >= TAG_CACHE_MAX) plainCache.clear()
    plainCache.set(key, a)
  }
  return a
}
