import type { Registry } from 'prom-client'
import type { CollectorConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import type { StreamBatch, StreamTags } from '../../core/record.js'
import type { LogStore, WriteResult } from '../../store/log-store.js'
import { DropLedger } from '../accounting/drop-ledger.js'
import { OrgMetrics } from '../accounting/org-metrics.js'
import type { OldLineFilter } from '../limits/old-lines.js'
import { RateLimiter } from '../limits/rate-limiter.js'
import { LimitRules } from '../limits/rules.js'
import type { PushScope } from '../intake.js'
import type { CollectorMetrics } from '../metrics.js'
import { CachedDirectory } from './cached-directory.js'
import { CloudFoundryApps } from './cloud-foundry-apps.js'
import { enrichMetrics } from './enrich-metrics.js'
import { Enricher } from './enricher.js'
import { JsonClient } from './http-json.js'
import { KubernetesNamespaces, kubernetesApiUrl } from './kubernetes-namespaces.js'
import { applyScopeOrg } from './scope-org.js'
import { StaticMapping } from './static-mapping.js'
import { DaytwoError } from '../../core/errors.js'
import { glob, type TenantDirectory } from './tenant.js'

export interface TenantPipeline {
  /** Between validation and the store: enrich (then the org a push named), then rate-limit (drops are counted here). */
  transform (batches: StreamBatch[], scope?: PushScope): Promise<StreamBatch[]>
  /** After the store committed: per-org accounting. */
  committed (batches: StreamBatch[], result: WriteResult): void
  stop (): void
  readonly summary: string
}

export interface PipelineDeps {
  store: LogStore
  registry: Registry
  metrics: CollectorMetrics
  log: Logger
  clock?: () => number
  /** Refuses lines older than the store keeps (before rate limits: they take no quota). */
  oldLines?: OldLineFilter
}

/** Deployments (globs) whose forwarders may name their streams' tenant; null when none. */
function forwarderTrust (globs: string[]): ((tags: StreamTags) => boolean) | null {
  if (globs.length === 0) return null
  const res = globs.map(glob)
  return (tags) => res.some((re) => re.test(tags.deployment))
}

/** The collector's tenant stage, built from collector.tenants; each part costs nothing when off. */
export function createTenantPipeline (cfg: CollectorConfig, deps: PipelineDeps): TenantPipeline {
  const t = cfg.tenants
  const { store, registry, metrics, log } = deps
  const dirs: TenantDirectory[] = []
  if (t.cfApiUrl) dirs.push(new CloudFoundryApps(new JsonClient({ baseUrl: t.cfApiUrl, tokenFile: t.cfTokenFile, caFile: t.cfCaFile, timeoutMs: t.requestTimeoutMs }), t.cfAppIdLabels))
  if (t.kubernetes) {
    const baseUrl = kubernetesApiUrl(t.kubernetesApiUrl)
    if (!baseUrl) throw new DaytwoError('CONFIG', 'collector.tenants.kubernetes is on but no API URL: set collector.tenants.kubernetesApiUrl or run in a pod (KUBERNETES_SERVICE_HOST)')
    dirs.push(new KubernetesNamespaces(new JsonClient({ baseUrl, tokenFile: t.kubernetesTokenFile, caFile: t.kubernetesCaFile, timeoutMs: t.requestTimeoutMs })))
  }
  const em = enrichMetrics(registry, log, dirs.map((d) => d.name))
  const mapping = t.mappingFile ? StaticMapping.load(t.mappingFile) : null
  const enricher = new Enricher({
    mapping,
    directories: dirs.map((d) => new CachedDirectory(d, {
      ttlMs: t.cacheTtlMs,
      failureTtlMs: t.cacheFailureTtlMs,
      max: t.cacheMax,
      onRequest: (outcome, err) => em.request(d.name, outcome, err)
    })),
    waitMs: t.lookupWaitMs,
    onFailure: (f) => em.failure(f),
    trustForwarder: forwarderTrust(t.trustForwarderTenants),
    onUntrustedClaim: (n) => em.untrustedClaim(n)
  })
  const limiter = new RateLimiter(new LimitRules(t.appLogRateLimits, t.orgLogRateLimits), { episodeMs: t.rateLimitEpisodeMs, clock: deps.clock })
  const orgs = new OrgMetrics(registry, t.metricsTopOrgs)
  const ledger = new DropLedger(store, log)

  const parts = [mapping ? `mapping (${mapping.size} rules)` : '', ...dirs.map((d) => d.name), limiter.enabled ? 'rate limits' : ''].filter((s) => s)
  return {
    summary: parts.length ? `tenants: ${parts.join(', ')}` : '',
    async transform (batches, scope) {
      // Always: it also removes the tenant names forwarders may not give.
      batches = await enricher.enrich(batches)
      // Before the limits, so the lines are limited and counted under the org they are stored in.
      if (scope !== undefined) applyScopeOrg(batches, scope.org)
      if (deps.oldLines?.enabled === true) {
        const o = deps.oldLines.apply(batches)
        if (o.droppedLines > 0) {
          batches = o.batches
          metrics.drop('too_old', o.droppedLines)
          ledger.add(o.drops)
          if (!limiter.enabled) await ledger.flush()
        }
      }
      if (!limiter.enabled) return batches
      const r = limiter.apply(batches)
      if (r.drops.length > 0) {
        metrics.drop('rate_limited', r.droppedLines)
        orgs.dropped(r.drops)
        ledger.add(r.drops)
      }
      await ledger.flush()
      return r.batches
    },
    committed (batches, result) {
      if (limiter.enabled) limiter.committed(batches)
      orgs.committed(batches, result)
    },
    stop () { orgs.stop() }
  }
}
