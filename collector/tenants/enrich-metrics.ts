import type { Registry } from 'prom-client'
import { counter } from '../../core/metrics.js'
import type { Logger } from '../../core/logger.js'
import type { EnrichFailure } from './enricher.js'

const EPISODE_MS = 60_000
const REASONS = ['waiting', 'timeout', 'unreachable', 'status', 'bad_answer', 'aborted']

/** daytwo_collector_enrich_failures_total and daytwo_collector_directory_requests_total. */
export function enrichMetrics (registry: Registry, log: Logger, directories: string[]) {
  const failures = counter(registry, 'daytwo_collector_enrich_failures_total', 'Records that passed with org "unknown" because their tenant directory failed or had not answered within lookupWaitMs, by directory and reason.', ['directory', 'reason'])
  const requests = counter(registry, 'daytwo_collector_directory_requests_total', 'Requests to tenant directories (one per key per cache TTL), by directory and outcome.', ['directory', 'outcome'])
  const untrusted = counter(registry, 'daytwo_collector_untrusted_tenant_claims_total', 'Records whose forwarder named an org, space or app that was ignored: the deployment is not in collector.tenants.trustForwarderTenants, or a mapping rule decided.')
  untrusted.inc(0)
  for (const d of directories) for (const r of REASONS) failures.inc({ directory: d, reason: r }, 0)
  const lastLogged = new Map<string, number>()
  return {
    failure (f: EnrichFailure): void {
      failures.inc({ directory: f.directory, reason: f.reason }, f.records)
      const now = Date.now()
      const key = f.directory + '\0' + f.reason
      if ((lastLogged.get(key) ?? -Infinity) < now - EPISODE_MS) {
        log.warn({ directory: f.directory, reason: f.reason }, `tenant directory ${f.directory}: ${f.reason}; records pass with org "unknown" (counted in daytwo_collector_enrich_failures_total, logged again in a minute)`)
      }
      lastLogged.set(key, now)
    },
    untrustedClaim (records: number): void {
      untrusted.inc(records)
    },
    request (directory: string, outcome: string, err?: Error): void {
      requests.inc({ directory, outcome })
      if (err) log.debug({ directory, err: err.message }, 'tenant directory request failed')
    }
  }
}
