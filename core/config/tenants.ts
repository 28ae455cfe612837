import { z } from 'zod'

// collector.tenants — how records get org/space/app, how they are accounted per org, and
// per-tenant log rate limits. Declared once here; composed into core/config-schema.ts.

const appRule = z.string().regex(/^[^/=]+\/[^/=]+=.+$/, 'each entry is org/app=bytesPerSecond (org and app may be *)')
const orgRule = z.string().regex(/^[^/=]+=.+$/, 'each entry is org=bytesPerSecond (org may be *)')

export const tenantsSchema = z.object({
  mappingFile: z.string().default('').describe('Static tenant mapping: a JSON file `{"rules":[{"match":{"deployment":"cf","job":"router*"},"org":"system","space":"routing","app":"gorouter"}]}`; match keys deployment, job, namespace, process (`*` globs); app defaults to the job. Checked before the directories. Empty disables.'),
  trustForwarderTenants: z.array(z.string()).default([]).describe('Deployment globs (`*` matches any run of characters) whose forwarders may name their streams\' org, space and app themselves; elsewhere what a forwarder sends there is ignored (counted in daytwo_collector_untrusted_tenant_claims_total) and the tenant comes from the mapping file and the directories only. Comma-separated in the environment.'),
  kubernetes: z.boolean().default(false).describe('Resolve tenants from Kubernetes namespace labels or annotations `daytwo.io/org`, `daytwo.io/space`, `daytwo.io/app` (app defaults to the job, space to the namespace).'),
  kubernetesApiUrl: z.string().default('').describe('Kubernetes API base URL (default: in-cluster, from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT).'),
  kubernetesTokenFile: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token').describe('Bearer token file for the Kubernetes API; re-read on every request, so rotated service-account tokens work.'),
  kubernetesCaFile: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt').describe('CA bundle for an https Kubernetes API (ignored when the file is absent).'),
  cfApiUrl: z.string().default('').describe('Cloud Foundry API base URL: resolves the app GUID of a stream through `GET /v3/apps/<guid>?include=space.organization`. Empty disables.'),
  cfTokenFile: z.string().default('').describe('Bearer token file for the Cloud Foundry API (a UAA token with cloud_controller.admin_read_only or global auditor); re-read on every request.'),
  cfCaFile: z.string().default('').describe('CA bundle for an https Cloud Foundry API (empty: the system CAs).'),
  cfAppIdLabels: z.array(z.string()).default(['cf_app_id', 'app_id']).describe('Stream labels that carry a Cloud Foundry app GUID; a syslog stream whose app-name (job) is a GUID is also looked up.'),
  cacheTtlMs: z.number().int().min(1).default(300000).describe('How long a directory answer is used before it is asked again (stale answers keep serving while a refresh is in flight).'),
  cacheFailureTtlMs: z.number().int().min(1).default(30000).describe('How long a failed directory lookup is remembered before the directory is asked again.'),
  cacheMax: z.number().int().min(1).default(10000).describe('Directory answers kept, at most (per directory).'),
  lookupWaitMs: z.number().int().min(0).default(250).describe('How long a batch waits for a directory answer it does not have yet; after that its records pass with org `unknown` (counted) and the answer serves later batches.'),
  requestTimeoutMs: z.number().int().min(1).default(5000).describe('Timeout of one directory request.'),
  metricsTopOrgs: z.number().int().min(0).default(20).describe('Orgs that get their own label on daytwo_collector_org_* metrics (the busiest; the rest are summed as `other`).'),
  appLogRateLimits: z.array(appRule).default([]).describe('Per-app log rate limits as `org/app=bytesPerSecond` (K/M/G suffixes; `*` matches any org or app; the most specific rule wins). Token bucket, burst = limit; excess is dropped and counted. Empty: no limit.'),
  orgLogRateLimits: z.array(orgRule).default([]).describe('Per-org log rate quotas as `org=bytesPerSecond` (`*` for every org), shared by the org\'s apps. Empty: no quota.'),
  rateLimitEpisodeMs: z.number().int().min(1).default(60000).describe('A rate-limit episode ends after this long without a drop; each episode writes one notice line into the app\'s logs.')
}).strict()

/** collector.tlsCertFile, tlsKeyFile, clientCaFile — TLS and mTLS for the ingest listener. */
export const collectorTlsShape = {
  tlsCertFile: z.string().default('').describe('PEM certificate (chain) of the collector\'s listener; with tlsKeyFile it serves https. Empty: plain http.'),
  tlsKeyFile: z.string().default('').describe('PEM private key of the collector\'s listener.'),
  clientCaFile: z.string().default('').describe('PEM CA bundle for forwarder client certificates: when set, clients without a certificate signed by it are refused (mTLS), in addition to the bearer token.')
}
