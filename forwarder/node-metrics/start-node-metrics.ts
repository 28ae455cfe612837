import type { Registry } from 'prom-client'
import type { Config } from '../../core/config.js'
import type { Logger } from '../../core/logger.js'
import type { Shipper } from '../shipper.js'
import { boshIdentity } from '../tags.js'
import { FleetReporter } from './fleet-reporter.js'

/**
 * The forwarder's part of the fleet metrics: counts every line the shipper sees and reports
 * to the collector on an interval. Null when forwarder.metrics.enabled is false: then no
 * observer is attached and the log path does no extra work.
 */
export function startNodeMetrics (config: Config, shipper: Shipper, registry: Registry, log: Logger): FleetReporter | null {
  const cfg = config.forwarder
  if (!cfg.metrics.enabled) return null
  const reporter = new FleetReporter({ cfg, node: config.node, dataDir: config.dataDir, identity: boshIdentity(cfg, config.node), token: cfg.token, registry, log })
  shipper.observers.push(reporter.logs)
  reporter.start()
  return reporter
}
