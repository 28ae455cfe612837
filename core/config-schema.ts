import { hostname } from 'node:os'
import { z } from 'zod'
import { collectorTokenSchema } from './config/collector-tokens.js'
import { elasticsearchSchema, opensearchSchema } from './config/elasticsearch.js'
import { fleetSchema, nodeMetricsSchema } from './config/fleet.js'
import { fluentSchema } from './config/fluent.js'
import { httpLimitsSchema } from './config/http.js'
import { journaldSchema } from './config/journald.js'
import { tenantTokensSchema, usageSchema } from './config/query-extras.js'
import { syslogSchema } from './config/syslog.js'
import { collectorTlsShape, tenantsSchema } from './config/tenants.js'

// The configuration of every role, declared once: type, default and description beside each
// field (Vector's way). The configuration table in docs/configuration.md is generated from this schema, and
// every key can also be set by an environment variable (see config.ts).

const multilineRuleSchema = z.object({
  paths: z.array(z.string()).min(1).describe('Globs on the file\'s live path.'),
  preset: z.enum(['java', 'go', 'python', 'custom']).default('custom').describe('Stack-trace rules for Java, Go or Python; `custom` uses `start`.'),
  start: z.string().default('').describe('With preset custom: a line matching this regex starts a record; other lines continue it.'),
  flushMs: z.number().int().min(1).default(1000).describe('A pending record is shipped after this long without a new line.'),
  maxLines: z.number().int().min(1).default(500).describe('A record never joins more lines than this.')
}).strict()

const kubernetesSchema = z.object({
  kubeletUrl: z.string().default('').describe('The kubelet on this node (e.g. https://$NODE_IP:10250); its /pods refines tags from owner references. Empty: tags come from log paths only.'),
  apiServerUrl: z.string().default('').describe('API server, asked only when the kubelet is not reachable (e.g. https://kubernetes.default.svc).'),
  tokenFile: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token').describe('Bearer token file for the kubelet and the API server.'),
  caFile: z.string().default('').describe('CA to verify the kubelet and the API server with; empty: the in-cluster service-account CA for the API server when present, else the system CAs.'),
  kubeletInsecureSkipVerify: z.boolean().default(false).describe('Do not verify the kubelet\'s certificate (kubelets often serve a self-signed one); the API server is always verified.'),
  cacheTtlMs: z.number().int().min(1000).default(60000).describe('How long a pod\'s metadata is cached.'),
  deploymentLabel: z.string().default('').describe('Pod label whose value is the deployment (e.g. app.kubernetes.io/instance for the Helm release); empty: the namespace.')
}).strict()

const host = z.string().default('127.0.0.1').describe('Address to listen on (0.0.0.0 in a pod).')
const port = (p: number) => z.number().int().min(0).max(65535).default(p).describe('TCP port for the role\'s HTTP server (0 picks a free port).')

export const forwarderSchema = z.object({
  host,
  port: port(9601),
  collectorUrl: z.string().url().default('http://127.0.0.1:9602').describe('Base URL of the collector to ship batches to.'),
  token: z.string().default('').describe('Bearer token presented to the collector (secret). `serve all` generates one when empty.'),
  collectorCaFile: z.string().default('').describe('PEM CA bundle to verify an https collector with (batches and metric reports); empty: the system CAs (and NODE_EXTRA_CA_CERTS). The collector\'s certificate is always verified.'),
  collectorCertFile: z.string().default('').describe('PEM client certificate presented to an https collector that asks for one (its collector.clientCaFile: mTLS), with collectorKeyFile; the bearer token is still sent. Empty: none.'),
  collectorKeyFile: z.string().default('').describe('PEM private key of collectorCertFile (a file private to daytwo).'),
  podLogRoot: z.string().default('/var/log/pods').describe('Kubernetes pod log root: `<root>/<ns>_<pod>_<uid>/<container>/N.log` (CRI or Docker json-file lines). Empty disables.'),
  containerLogRoot: z.string().default('/var/log/containers').describe('Kubernetes container log links: `<root>/<pod>_<ns>_<container>-<id>.log`. Files already tailed through podLogRoot are not read twice. Empty disables.'),
  boshLogRoot: z.string().default('/var/vcap/sys/log').describe('BOSH job log root: `<root>/<process>/**/*.log`, plain lines. Empty disables.'),
  boshSpecFile: z.string().default('/var/vcap/bosh/spec.json').describe('BOSH agent spec read for deployment, job (instance group) and index when those are not set.'),
  deployment: z.string().default('').describe('BOSH deployment of this node\'s job logs (default: from boshSpecFile, else `bosh`).'),
  job: z.string().default('').describe('BOSH instance group of this node (default: from boshSpecFile, else the node name).'),
  index: z.string().default('').describe('BOSH instance index of this node (default: from boshSpecFile, else `0`).'),
  readFrom: z.enum(['head', 'tail']).default('head').describe('Where to start files found at the very first start (no checkpoint yet). Files created later are always read from their head.'),
  scanIntervalMs: z.number().int().min(50).default(1000).describe('How often the log roots are scanned for new files.'),
  pollIntervalMs: z.number().int().min(10).default(250).describe('How often open files are checked for new data, truncation and rotation.'),
  maxLineBytes: z.number().int().min(1024).default(262144).describe('Longest line kept whole; longer lines are truncated (or split, see longLines) and counted in daytwo_forwarder_lines_altered_total.'),
  batchMaxBytes: z.number().int().min(1024).default(1048576).describe('A batch is shipped when its messages reach this many bytes.'),
  batchMaxLines: z.number().int().min(1).default(10000).describe('A batch is shipped when it holds this many lines.'),
  flushIntervalMs: z.number().int().min(1).default(200).describe('A batch is shipped at most this long after its first line.'),
  compression: z.enum(['none', 'gzip']).default('none').describe('How batches travel to the collector: `none` (like Vector\'s and Fluent Bit\'s defaults: a cluster network is cheaper than the CPU) or `gzip` (level 1: about 4.5× fewer bytes for about a third more forwarder CPU, on a thread-pool core; for metered or cross-zone links).'),
  maxQueuedBatches: z.number().int().min(1).default(2).describe('Sealed batches waiting for the collector before reading stops (backpressure bound: about maxQueuedBatches × batchMaxBytes of memory).'),
  checkpointIntervalMs: z.number().int().min(10).default(1000).describe('How often acknowledged offsets are written to disk (also on stop).'),
  retryMaxMs: z.number().int().min(10).default(30000).describe('Longest wait between retries of a batch the collector did not accept.'),
  include: z.array(z.string()).default([]).describe('Glob patterns: when set, only files under the roots that match one are read (e.g. `/var/log/pods/prod_*/**`).'),
  exclude: z.array(z.string()).default([]).describe('Glob patterns of files under the roots never to read (compressed rotations are never read).'),
  readRotated: z.boolean().default(true).describe('Also find rotated files (`app.log.1`, `0.log.20261123-101500`) not seen before, so lines written just before a rotation are shipped even when the rotation was faster than a scan.'),
  partialFlushMs: z.number().int().min(10).default(5000).describe('A partial container line (CRI `P`, Docker `log` without a trailing newline) that no line finishes within this long is shipped as it is, and counted in daytwo_forwarder_partial_lines_flushed_total (the container may have died after writing it).'),
  lineTimeMaxSkewMs: z.number().int().min(1000).default(604800000).describe('A plain file\'s line that starts with a time (RFC 3339/ISO 8601, `[YYYY-MM-DD hh:mm:ss,mmm]`, klog, syslog\'s `Mmm dd hh:mm:ss`) keeps it, unless it is more than this far from the read time (default a week); then, as a line without one, it gets the read time, and is counted in daytwo_forwarder_lines_altered_total (reason far_timestamp).'),
  longLines: z.enum(['truncate', 'split']).default('truncate').describe('What to do with a line longer than maxLineBytes: keep its head (`truncate`), or ship it in maxLineBytes pieces (`split`, plain files only). Counted in daytwo_forwarder_lines_altered_total.'),
  watch: z.boolean().default(true).describe('Use inotify (fs.watch) to notice new data, files and rotations at once; idle files are then polled only every idlePollMaxMs.'),
  idlePollMaxMs: z.number().int().min(10).default(5000).describe('Longest gap between two checks of an idle file while watching works.'),
  multiline: z.array(multilineRuleSchema).default([]).describe('Multiline rules, first match wins: `{"paths":["**/uaa/*.log"],"preset":"java"}` or `{"paths":[…],"start":"^\\d{4}-"}`. Off when empty. JSON in the environment.'),
  kubernetes: kubernetesSchema.prefault({}),
  syslog: syslogSchema.prefault({}),
  journald: journaldSchema.prefault({}),
  metrics: nodeMetricsSchema.prefault({})
}).strict()

export const collectorSchema = z.object({
  host,
  port: port(9602),
  tokens: z.array(collectorTokenSchema).default([]).describe('Tokens forwarders and other senders may present (secret; comma-separated in the environment, or a JSON array). `serve all` adds the forwarder\'s own. An entry `{"token":"…","orgIds":["org-a"]}` (or `["*"]` for any org) may also name the org of a Loki or OTLP push with `X-Scope-OrgID`; a plain token may not.'),
  maxBodyBytes: z.number().int().min(1024).default(67108864).describe('Largest batch accepted, once decompressed; larger ones get 413 so the forwarder splits them.'),
  maxFutureSkewMs: z.number().int().min(1000).default(3600000).describe('How far ahead of the collector\'s clock a line\'s time may be; later lines (and lines before 1970, or at offsets from 2^50) are dropped and counted in daytwo_collector_dropped_total{reason}.'),
  inflateBudgetBytes: z.number().int().min(1024).default(268435456).describe('Decompressed bytes all gzip requests in flight (batches and metric reports) may hold at once, at least maxBodyBytes; a request that would pass it gets 503 with Retry-After (`daytwo_collector_rejected_requests_total{reason="inflate_busy"}`).'),
  ...collectorTlsShape,
  tenants: tenantsSchema.prefault({}),
  fleet: fleetSchema.prefault({}),
  fluent: fluentSchema.prefault({})
}).strict()

export const querySchema = z.object({
  host,
  port: port(9603),
  tokens: z.array(z.string()).default([]).describe('Operator tokens that may read every tenant (secret; comma-separated in the environment). `serve all` generates one when empty and writes it to `<dataDir>/operator-token`.'),
  tenantTokens: tenantTokensSchema,
  usage: usageSchema.prefault({}),
  timeoutMs: z.number().int().min(100).default(60000).describe('A query that has not answered within this many milliseconds is stopped and answered 504, as Loki\'s query timeout (default 1 m). A query whose client went away is stopped at once.')
}).strict()

export const storeSchema = z.object({
  kind: z.enum(['embedded', 'elasticsearch', 'opensearch']).default('embedded').describe('Where records go: the embedded SQLite store, Elasticsearch, or OpenSearch.'),
  path: z.string().default('').describe('Embedded store directory (default `<dataDir>/store`).'),
  blockLines: z.number().int().min(1).default(1000).describe('Embedded store: lines per compressed block, at most.'),
  retentionDays: z.number().min(0).default(7).describe('Embedded store: lines older than this many days are deleted (0 keeps them forever). Usage rollups are kept.'),
  maxBytes: z.number().int().min(0).default(0).describe('Embedded store: when the stored blocks pass this size, the oldest are deleted (0: no size limit).'),
  retentionCheckMs: z.number().int().min(100).default(60000).describe('Embedded store: how often retention runs.'),
  scanWorkers: z.number().int().min(0).default(0).describe('Embedded store: threads that read and scan blocks for queries (0: one per core, at most 8).'),
  elasticsearch: elasticsearchSchema.prefault({}),
  opensearch: opensearchSchema.prefault({})
}).strict()

export const configSchema = z.object({
  node: z.string().default(hostname()).describe('This node\'s name (host.name on every record). In Kubernetes, spec.nodeName.'),
  dataDir: z.string().default('.data').describe('Directory for checkpoints, spools, tokens and the embedded store.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Level of daytwo\'s own log (JSON lines on stderr).'),
  demo: z.boolean().default(true).describe('First run on a laptop: when `serve all` finds every forwarder log root missing or empty, it writes a small demo job\'s logs (deployment `demo`, job `web`) into `<dataDir>/demo` and tails them, so there is something to look at. `false` never does.'),
  forwarder: forwarderSchema.prefault({}),
  collector: collectorSchema.prefault({}),
  query: querySchema.prefault({}),
  store: storeSchema.prefault({}),
  http: httpLimitsSchema.prefault({})
}).strict()

export type Config = z.infer<typeof configSchema>
export type ForwarderConfig = Config['forwarder']
export type CollectorConfig = Config['collector']
export type QueryConfig = Config['query']
export type StoreConfig = Config['store']
