// The fleet's metric samples, shared by the forwarder (which gathers them) and the collector
// (which aggregates them into one Prometheus endpoint). A closed catalog: every family is
// declared here once with its type, help and extra labels, so the collector can validate a
// report, refuse unknown names, and serve HELP/TYPE without trusting the sender.
//
// Every series carries deployment, job, index (the instance) and node; the collector adds
// `node` from the report, the forwarder sends [deployment, job, index, ...extra] as values.

import { DaytwoError } from './errors.js'

export type MetricType = 'counter' | 'gauge'

export interface FamilySpec {
  type: MetricType
  help: string
  /** Labels after deployment, job, index (and node, which the collector adds). */
  labels: readonly string[]
}

const g = (help: string, ...labels: string[]): FamilySpec => ({ type: 'gauge', help, labels })
const c = (help: string, ...labels: string[]): FamilySpec => ({ type: 'counter', help, labels })

export const FAMILIES = {
  // Node resources (from /proc and statfs), tagged with the node's own BOSH identity.
  daytwo_node_cpu_seconds_total: c('CPU time spent by the node in each mode (from /proc/stat).', 'mode'),
  daytwo_node_memory_total_bytes: g('Physical memory of the node (MemTotal).'),
  daytwo_node_memory_available_bytes: g('Memory available for new work without swapping (MemAvailable).'),
  daytwo_node_memory_free_bytes: g('Unused memory (MemFree).'),
  daytwo_node_memory_cached_bytes: g('Page cache (Cached).'),
  daytwo_node_memory_buffers_bytes: g('Block device buffers (Buffers).'),
  daytwo_node_swap_total_bytes: g('Swap space (SwapTotal).'),
  daytwo_node_swap_free_bytes: g('Unused swap (SwapFree).'),
  daytwo_node_load1: g('1-minute load average.'),
  daytwo_node_load5: g('5-minute load average.'),
  daytwo_node_load15: g('15-minute load average.'),
  daytwo_node_filesystem_size_bytes: g('Size of a mounted filesystem.', 'mountpoint', 'fstype'),
  daytwo_node_filesystem_avail_bytes: g('Bytes available to unprivileged users on a mounted filesystem.', 'mountpoint', 'fstype'),
  daytwo_node_filesystem_free_bytes: g('Free bytes on a mounted filesystem.', 'mountpoint', 'fstype'),
  daytwo_node_filesystem_files: g('Inodes of a mounted filesystem.', 'mountpoint', 'fstype'),
  daytwo_node_filesystem_files_free: g('Free inodes of a mounted filesystem.', 'mountpoint', 'fstype'),
  daytwo_node_path_size_bytes: g('Size of the filesystem holding a path daytwo uses (use: data_dir, pod_log_root, container_log_root, bosh_log_root).', 'use', 'path'),
  daytwo_node_path_avail_bytes: g('Bytes available on the filesystem holding a path daytwo uses.', 'use', 'path'),
  daytwo_node_network_receive_bytes_total: c('Bytes received by a network device.', 'device'),
  daytwo_node_network_transmit_bytes_total: c('Bytes sent by a network device.', 'device'),
  daytwo_node_open_fds: g('File handles allocated on the node (first field of /proc/sys/fs/file-nr).'),
  daytwo_node_max_fds: g('Most file handles the node allows (fs.file-max).'),
  daytwo_node_boot_time_seconds: g('When the node booted, Unix seconds.'),
  daytwo_node_kubelet_up: g('1 when the last kubelet /stats/summary request succeeded, else 0 (absent when forwarder.metrics.kubeletUrl is empty).'),
  // BOSH job processes, from /var/vcap/sys/run/<process>/<pidfile>.pid.
  daytwo_job_process_up: g('1 when the pid file names a running process, else 0.', 'process', 'pidfile'),
  daytwo_job_process_cpu_seconds_total: c('CPU time of the process, by mode (user, system).', 'process', 'pidfile', 'mode'),
  daytwo_job_process_resident_memory_bytes: g('Resident memory of the process (VmRSS).', 'process', 'pidfile'),
  daytwo_job_process_start_time_seconds: g('When the process started, Unix seconds.', 'process', 'pidfile'),
  daytwo_job_process_open_fds: g('Open file descriptors of the process (absent when /proc/<pid>/fd is not readable).', 'process', 'pidfile'),
  daytwo_job_process_restarts_total: c('Times the pid file named a new process since the forwarder started.', 'process', 'pidfile'),
  // Kubernetes containers on this node, from the kubelet.
  daytwo_pod_container_cpu_seconds_total: c('CPU time of a container (kubelet usageCoreNanoSeconds).', 'process'),
  daytwo_pod_container_memory_working_set_bytes: g('Working set of a container (what the OOM killer and evictions look at).', 'process'),
  daytwo_pod_container_memory_rss_bytes: g('Resident memory of a container.', 'process'),
  // Log-derived work and event metrics, counted by the forwarder as it reads.
  daytwo_log_lines_total: c('Log lines read, by process and stream (stdout, stderr, file, syslog).', 'process', 'stream'),
  daytwo_log_bytes_total: c('Message bytes of log lines read.', 'process', 'stream'),
  daytwo_log_lines_by_level_total: c('Log lines by detected level (JSON `level`, logfmt `level=`, ERROR/WARN/INFO prefixes, syslog severity); `unknown` when none is found.', 'process', 'stream', 'level'),
  daytwo_log_file_rotations_total: c('A log file was replaced by a new file at the same path (rename rotation).', 'process'),
  daytwo_log_file_truncations_total: c('A log file was truncated and started over (copytruncate).', 'process'),
  daytwo_instance_last_log_timestamp_seconds: g('When the instance last wrote a log line, Unix seconds (forwarder clock).')
} as const satisfies Record<string, FamilySpec>

export type FamilyName = keyof typeof FAMILIES

export const IDENTITY_LABELS = ['deployment', 'job', 'index'] as const

// The level label's values are the store's and Loki's level names (core/level.ts).
export { LEVELS, type Level } from './level.js'

/** [deployment, job, index, ...extra label values in the family's order], value. */
export type Sample = [labels: string[], value: number]

export interface InstanceReport {
  deployment: string
  job: string
  index: string
  /** Milliseconds since its last log line when the report was built; null if it never logged. */
  lastLineAgeMs: number | null
}

/** One forwarder's report: POST /api/v1/metrics, JSON (gzip allowed). */
export interface MetricsReport {
  v: 1
  node: string
  /** The node's own instance (its BOSH identity), which node and process series carry. */
  self: Instance
  /** The forwarder's start time (its clock): a new value means its counters started over. */
  startedMs: number
  instances: InstanceReport[]
  samples: Partial<Record<FamilyName, Sample[]>>
}

export const REPORT_CONTENT_TYPE = 'application/json'

const MAX_LABEL = 512

function isInstance (v: unknown): v is Instance {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return IDENTITY_LABELS.every((k) => typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length <= MAX_LABEL)
}

/**
 * Check a report's frame (version, node, instances, samples object) and throw
 * DAYTWO_ERR_BAD_REPORT naming what is wrong. Individual samples are checked by
 * `checkSample`, so one bad sample is dropped and counted rather than the whole report.
 */
export function checkReport (body: unknown): MetricsReport {
  const bad = (why: string) => new DaytwoError('BAD_REPORT', why)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object')
  const o = body as Record<string, unknown>
  if (o.v !== 1) throw bad('"v" must be 1')
  if (typeof o.node !== 'string' || o.node.length === 0 || o.node.length > MAX_LABEL) throw bad('"node" must be a non-empty string')
  if (!isInstance(o.self)) throw bad('"self" must be {deployment, job, index} of non-empty strings')
  if (typeof o.startedMs !== 'number' || !Number.isFinite(o.startedMs)) throw bad('"startedMs" must be a number')
  if (!Array.isArray(o.instances)) throw bad('"instances" must be an array')
  for (const [i, inst] of o.instances.entries()) {
    if (!isInstance(inst)) throw bad(`instances[${i}] must have non-empty deployment, job and index`)
    const age = (inst as unknown as Record<string, unknown>).lastLineAgeMs
    if (age !== null && (typeof age !== 'number' || !(age >= 0))) throw bad(`instances[${i}].lastLineAgeMs must be null or a non-negative number`)
  }
  if (typeof o.samples !== 'object' || o.samples === null || Array.isArray(o.samples)) throw bad('"samples" must be an object of family name to samples')
  for (const [name, list] of Object.entries(o.samples)) if (!Array.isArray(list)) throw bad(`samples.${name} must be an array`)
  return o as unknown as MetricsReport
}

/** Whether one sample fits its family: label values are strings of the right count, the value a number. */
export function checkSample (family: FamilySpec, s: unknown): s is Sample {
  if (!Array.isArray(s) || s.length !== 2) return false
  const [labels, value] = s as [unknown, unknown]
  if (typeof value !== 'number' || !Number.isFinite(value)) return false
  if (family.type === 'counter' && value < 0) return false
  if (!Array.isArray(labels) || labels.length !== IDENTITY_LABELS.length + family.labels.length) return false
  for (let i = 0; i < labels.length; i++) {
    const l: unknown = labels[i]
    if (typeof l !== 'string' || l.length > MAX_LABEL || (i < IDENTITY_LABELS.length && l.length === 0)) return false
  }
  return true
}

export function isFamily (name: string): name is FamilyName {
  return Object.prototype.hasOwnProperty.call(FAMILIES, name)
}

/** Builds a report's samples; label values are checked for arity at the collector. */
export class SampleSet {
  readonly samples: Partial<Record<FamilyName, Sample[]>> = {}

  add (family: FamilyName, labels: string[], value: number): void {
    if (!Number.isFinite(value)) return
    let list = this.samples[family]
    if (list === undefined) { list = []; this.samples[family] = list }
    list.push([labels, value])
  }
}

export interface Instance { deployment: string, job: string, index: string }

export function instanceKey (i: Instance): string {
  return i.deployment + '\0' + i.job + '\0' + i.index
}
