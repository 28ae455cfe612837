import { join } from 'node:path'
import { DaytwoError } from '../core/errors.js'
import { createRegistry } from '../core/metrics.js'
import type { RoleContext, RunningRole } from '../core/role.js'
import { FileCheckpoints } from './checkpoints.js'
import { PodMetadata } from './kubernetes/pod-metadata.js'
import { forwarderMetrics } from './metrics.js'
import { startNodeMetrics } from './node-metrics/start-node-metrics.js'
import { Shipper } from './shipper.js'
import { startStatusServer } from './status-server.js'
import { FileSource } from './sources/file-source.js'
import { JournaldSource } from './sources/journald/journald-source.js'
import { SyslogSource, syslogEnabled } from './sources/syslog/syslog-source.js'
import { boshIdentity, discoveryPatterns } from './tags.js'

export async function start (ctx: RoleContext): Promise<RunningRole> {
  const { config, log } = ctx
  const cfg = config.forwarder
  if (!cfg.token) throw new DaytwoError('CONFIG', 'forwarder.token (DAYTWO_FORWARDER_TOKEN) is empty: the collector accepts only authenticated forwarders')
  const registry = createRegistry('forwarder')
  const metrics = forwarderMetrics(registry, log, cfg.maxQueuedBatches)
  const checkpoints = new FileCheckpoints(join(config.dataDir, 'forwarder', 'checkpoints.json'))
  const shipper = new Shipper(cfg, cfg.token, metrics, log)
  // Syslog first: a listener that cannot start (port taken, no certificate) fails the role before anything else runs.
  const syslog = syslogEnabled(cfg) ? new SyslogSource(cfg, config.node, config.dataDir, shipper, metrics, registry, log) : null
  await syslog?.start()
  const journald = cfg.journald.enabled ? new JournaldSource(cfg, config.node, config.dataDir, shipper, metrics, registry, log) : null
  const files = new FileSource(cfg, config.node, boshIdentity(cfg, config.node), shipper, checkpoints, metrics, log)
  const pods = new PodMetadata(cfg.kubernetes, log)
  if (pods.enabled) {
    // Tags from the path first; refined from the kubelet when it answers (never waited for).
    files.refine = (tailer, tags) => {
      if (!tags.namespace || !tags.pod) return
      void pods.get(tags.namespace, tags.pod).then((meta) => {
        if (meta && !tailer.closed) tailer.retag({ deployment: meta.deployment, job: meta.job, index: meta.index })
      })
    }
  }
  const flushTimer = setInterval(() => {
    try { checkpoints.flush(); journald?.flush() } catch (err) { log.error({ err }, 'writing checkpoints failed') }
  }, cfg.checkpointIntervalMs)

  const status = await startStatusServer(registry, cfg.host, cfg.port, config.http)
  const url = status.url
  const nodeMetrics = startNodeMetrics(config, shipper, registry, log)
  await files.start()
  await journald?.start()
  return {
    name: 'forwarder',
    url,
    summary: `ships to ${cfg.collectorUrl}; reads ${discoveryPatterns(cfg).join(', ') || 'no files'}${syslog ? `; syslog on ${syslog.urls.join(', ')}` : ''}${journald ? `; journal ${journald.location}` : ''}`,
    async stop () {
      await nodeMetrics?.stop()
      await syslog?.stop()
      await journald?.stop()
      await files.stop()
      const drained = await shipper.drain(5000)
      if (!drained) log.warn('collector did not acknowledge every batch before stop; they are read again at the next start')
      shipper.stop()
      clearInterval(flushTimer)
      checkpoints.flush()
      journald?.flush()
      syslog?.close()
      await status.close()
    }
  }
}
