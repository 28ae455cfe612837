import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { ForwarderConfig } from '../../../core/config-schema.js'
import { DaytwoError } from '../../../core/errors.js'
import type { Logger } from '../../../core/logger.js'
import type { StreamTags } from '../../../core/record.js'
import type { ForwarderMetrics } from '../../metrics.js'
import type { Shipper } from '../../shipper.js'
import { DiskSpool } from '../../spool/disk-spool.js'
import { listenStream, listenUdp, type Listener, type ListenerEvents } from './listeners.js'
import { SyslogReceiver, UNTRUSTED_IDENTITY, type ReceiverContext } from './receiver.js'
import { SpoolFeeder } from './spool-feeder.js'
import { deploymentRules, isIdentityElement, streamTags, type DeploymentRule } from './stream-tags.js'
import { identityTrust, type IdentityTrust } from './identity-trust.js'
import type { Transport } from './listeners.js'
import { syslogMetrics, type SyslogMetrics } from './syslog-metrics.js'
import type { SyslogMessage } from './syslog-message.js'

/** Reasons this source adds to the forwarder's lines_altered_total. */
const ALTERED = ['syslog_malformed_header', UNTRUSTED_IDENTITY]
const TAG_CACHE_MAX = 10_000

/** Whether any syslog listener is configured (else no spool is created either). */
export function syslogEnabled (cfg: ForwarderConfig): boolean {
  const s = cfg.syslog
  return s.udpPort !== 0 || s.tcpPort !== 0 || s.tlsPort !== 0
}

/**
 * Syslog in: listeners frame messages, a receiver per connection parses, tags and appends each
 * to the disk spool (or drops it with reason `spool_full`), and the feeder moves fsynced messages
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
  private readonly trust: IdentityTrust
  /** Streams whose sender named an identity it is not trusted for (ignored, counted per message). */
  private readonly untrusted = new WeakSet<StreamTags>()
  private pumpTimer: NodeJS.Timeout | null = null
  private readonly rx: ReceiverContext

  constructor (
    private readonly cfg: ForwarderConfig,
    private readonly node: string,
    dataDir: string,
    shipper: Shipper,
    private readonly metrics: ForwarderMetrics,
    registry: Registry,
    private readonly log: Logger
  ) {
    const s = cfg.syslog
    this.spool = new DiskSpool(join(dataDir, 'forwarder', 'syslog-spool'), { maxBytes: s.spoolMaxBytes, segmentBytes: s.spoolSegmentBytes, fsyncIntervalMs: s.spoolFsyncIntervalMs })
    this.spool.onWriteError = (message) => {
      if (message === null) this.log.info({ dir: this.spool.dir }, 'syslog spool is written again')
      else this.log.error({ dir: this.spool.dir, err: message }, 'cannot write the syslog spool; new messages are dropped and counted (reason spool_write_failed) until it can')
    }
    // A record that fails its checksum is skipped alone; a version-1 segment's bad bytes end what is read of it.
    this.spool.onDropped = (reason, count, detail) => this.metrics.drop(reason === 'checksum' ? 'spool_checksum' : 'spool_corrupt', count, detail)
    this.spool.onUnlinkError = (path, err) => this.log.warn({ path, err }, 'cannot delete an acknowledged syslog spool segment; it still counts in the spool\'s bytes and is tried again on the next fsync tick')
    this.feeder = new SpoolFeeder(this.spool, shipper)
    this.spool.onDurable = () => this.feeder.pump()
    this.m = syslogMetrics(registry, this.spool, s.spoolMaxBytes)
    this.rules = deploymentRules(s.deployments)
    this.trust = identityTrust(s.identitySenders)
    for (const r of ALTERED) metrics.altered.inc({ reason: r }, 0)
    this.rx = {
      spool: this.spool,
      metrics,
      syslogMetrics: this.m,
      zone: s.rfc3164TimeZone,
      tagsFor: (m, listener, peer) => this.tagsFor(m, listener, peer),
      identityIgnored: (tags) => this.untrusted.has(tags),
      spoolFullDetail: () => `spool holds ${this.spool.bytes} bytes (forwarder.syslog.spoolMaxBytes ${s.spoolMaxBytes}); the collector is behind or unreachable`
    }
  }

  /** Where the listeners are, for the start banner. */
  get urls (): string[] { return this.listeners.map((l) => l.url) }

  async start (): Promise<void> {
    const s = this.cfg.syslog
    const ev: ListenerEvents = {
      receiver: (transport, listener, peer) => new SyslogReceiver(this.rx, transport, listener, peer),
      lost: (_transport, reason, bytes) => this.metrics.drop(reason, 1, bytes > 0 ? `${bytes} bytes of an unfinished frame` : undefined),
      connections: (transport, delta) => this.m.connections.inc({ transport }, delta),
      closed: (transport, reason) => this.m.closed.inc({ transport, reason })
    }
    try {
      if (s.udpPort !== 0) this.listeners.push(await listenUdp(s.host, s.udpPort, s.maxMessageBytes, ev))
      if (s.tcpPort !== 0) this.listeners.push(await listenStream({ host: s.host, port: s.tcpPort, maxBytes: s.maxMessageBytes, maxConnections: s.maxConnections, idleTimeoutMs: s.idleTimeoutMs }, ev, this.log))
      if (s.tlsPort !== 0) {
        if (s.tlsCertFile === '' || s.tlsKeyFile === '') throw new DaytwoError('CONFIG', 'forwarder.syslog.tlsPort is set: forwarder.syslog.tlsCertFile and tlsKeyFile must name a PEM certificate and its key')
        this.listeners.push(await listenStream({ host: s.host, port: s.tlsPort, maxBytes: s.maxMessageBytes, maxConnections: s.maxConnections, idleTimeoutMs: s.idleTimeoutMs, tls: { certFile: s.tlsCertFile, keyFile: s.tlsKeyFile } }, ev, this.log))
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

  private tagsFor (m: SyslogMessage, listener: string, peer: string): StreamTags {
    const identity = m.sd.length > 0 ? m.sd.filter((el) => isIdentityElement(el.id)) : m.sd
    let key = listener + '\0' + peer + '\0' + m.hostname + '\0' + m.appName + '\0' + m.procId + (identity.length > 0 ? '\0' + JSON.stringify(identity) : '')
    if (this.cfg.syslog.streamLabels.length > 0) key += '\0' + m.facility + '\0' + m.severity + '\0' + m.msgId
    let t = this.tagCache.get(key)
    if (t === undefined) {
      const trustIdentity = this.trust(listener.slice(0, listener.indexOf(':')) as Transport, peer)
      t = streamTags(m, { node: this.node, epoch: this.spool.epoch, listener, peer, rules: this.rules, defaultDeployment: this.cfg.syslog.defaultDeployment, trustIdentity, streamLabels: this.cfg.syslog.streamLabels })
      if (!trustIdentity && identity.length > 0) {
        this.untrusted.add(t)
        this.log.debug({ listener, peer }, 'syslog sender named an identity in structured data but is not in forwarder.syslog.identitySenders: ignored')
      }
      if (this.tagCache.size >= TAG_CACHE_MAX) this.tagCache.clear()
      this.tagCache.set(key, t)
    }
    return t
  }
}
