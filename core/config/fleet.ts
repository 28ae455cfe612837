import { z } from 'zod'

// forwarder.metrics — what each forwarder measures on its node and reports to the collector;
// collector.fleet — how the collector aggregates those reports into one Prometheus endpoint.

const regex = (def: string, what: string) => z.string().default(def).refine((s) => {
  try { new RegExp(s); return true } catch { return false }
}, { message: 'not a valid regular expression' }).describe(what)

/** forwarder.metrics — node, job and log-derived metrics gathered by the forwarder. */
export const nodeMetricsSchema = z.object({
  enabled: z.boolean().default(true).describe('Gather node, job and log-derived metrics and report them to the collector (`/fleet/metrics` there). False costs nothing on the log path.'),
  intervalMs: z.number().int().min(100).default(15000).describe('How often metrics are gathered and reported to the collector.'),
  procPath: z.string().default('/proc').describe('Where the node\'s /proc is mounted (e.g. `/host/proc` in a DaemonSet).'),
  boshRunRoot: z.string().default('/var/vcap/sys/run').describe('BOSH job pid files: `<root>/<job>/*.pid` give per-process CPU, memory, start time and restarts. Empty disables.'),
  kubeletUrl: z.string().default('').describe('Kubelet base URL for pod resource metrics (`/stats/summary`), e.g. `https://$(NODE_IP):10250`. Empty disables; an unreachable kubelet is skipped quietly (`daytwo_node_kubelet_up` 0).'),
  kubeletTokenFile: z.string().default('/var/run/secrets/kubernetes.io/serviceaccount/token').describe('Bearer token file presented to the kubelet (read at every request, so rotation works).'),
  kubeletCaFile: z.string().default('').describe('CA certificate file to verify the kubelet with (default: the system CAs).'),
  kubeletInsecureSkipVerify: z.boolean().default(false).describe('Do not verify the kubelet\'s certificate (kubelets often serve a self-signed one).'),
  fsTypeExclude: regex('^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|tmpfs|nfs4?|fuse\\..*)$', 'Filesystem types not reported per mount (node_exporter\'s defaults plus tmpfs and network filesystems). The log roots and data dir are always reported.'),
  mountPointExclude: regex('^/(dev|proc|run|sys|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+)($|/)', 'Mount points not reported.'),
  netDeviceExclude: regex('^(lo|veth.*|cali.*|cni.*|flannel.*|docker.*|br-.*|virbr.*|lxc.*|tunl.*|vxlan.*|kube-.*)$', 'Network devices not reported (loopback and per-pod virtual interfaces by default).'),
  maxInstances: z.number().int().min(1).default(1000).describe('Most deployment/job/index instances tracked by one forwarder; lines of further instances are shipped but not counted (`daytwo_forwarder_fleet_untracked_lines_total`).'),
  forgetAfterMs: z.number().int().min(1000).default(3600000).describe('An instance without a line, a process or a pod for this long is no longer reported (its series then leave the collector after collector.fleet.graceMs).')
}).strict()

/** collector.fleet — the fleet's metrics, aggregated from every forwarder's reports. */
export const fleetSchema = z.object({
  enabled: z.boolean().default(true).describe('Accept forwarders\' metric reports at `POST /api/v1/metrics` and serve them at `GET /fleet/metrics`.'),
  heartbeatTimeoutMs: z.number().int().min(100).default(45000).describe('An instance whose forwarder has not reported it for this long is down (`daytwo_instance_up` 0). Use about 3 × forwarder.metrics.intervalMs.'),
  silentAfterMs: z.number().int().min(100).default(300000).describe('An instance that wrote no log line for this long is silent (`daytwo_instance_silent` 1).'),
  graceMs: z.number().int().min(100).default(600000).describe('Series of an instance not reported for this long are removed from `/fleet/metrics`.'),
  maxSeriesPerJob: z.number().int().min(1).default(5000).describe('Most series one deployment/job may have across its instances; further samples are dropped and counted (`daytwo_collector_fleet_dropped_total{reason="series_limit"}`).'),
  maxSeriesPerNode: z.number().int().min(1).default(20000).describe('Most series one node\'s forwarder may have held for it (each instance counts one more, for its up/silent state); further instances and samples are dropped and counted (`reason="node_series_limit"`).'),
  maxSeries: z.number().int().min(1).default(200000).describe('Most series the whole fleet may hold, counted as for maxSeriesPerNode; further ones are dropped and counted (`reason="fleet_series_limit"`).'),
  exposeEveryMs: z.number().int().min(0).default(5000).describe('`/fleet/metrics` is answered from an exposition built at most this often (0: at every scrape); scrapes in between get the same text.'),
  maxReportBytes: z.number().int().min(1024).default(8388608).describe('Largest metrics report accepted, once decompressed.')
}).strict()

export type NodeMetricsConfig = z.infer<typeof nodeMetricsSchema>
export type FleetConfig = z.infer<typeof fleetSchema>
