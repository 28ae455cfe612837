import type { StreamInfo } from '../../store/log-store.js'

// Loki labels of daytwo records. The identity and tenant tags are per daytwo stream; `stream`
// (stdout/stderr) and `level` are per line, so one daytwo stream can become several Loki streams.

export type Labels = Record<string, string>

/** Labels that come from a daytwo stream's tags, in the order Loki clients show them. */
export const STREAM_LABELS = ['deployment', 'job', 'index', 'process', 'org', 'space', 'app', 'namespace', 'node', 'service_name'] as const
/** Labels that differ line by line. */
export const LINE_LABELS = ['stream', 'level'] as const

export function streamLabels (s: StreamInfo): Labels {
  const l: Labels = { deployment: s.deployment, job: s.job, index: s.index, process: s.process }
  if (s.org) l.org = s.org
  if (s.space) l.space = s.space
  if (s.app) l.app = s.app
  if (s.namespace) l.namespace = s.namespace
  if (s.node) l.node = s.node
  l.service_name = serviceName(s)
  return l
}

/**
 * `service_name` as Loki 3 derives it at ingest (its `discover_service_name` list: service,
 * app, application, …, app_kubernetes_io_name, container, …, job), over the tags daytwo has:
 * an explicit `service_name` or `service` label, the app, an `application` label, the
 * Kubernetes `app.kubernetes.io/name` or `app` pod label, the container, then the job (always
 * set, so `unknown_service` only for a stream without one). Syslog's APP-NAME is not used: for
 * BOSH syslog it names the process, and the job is the service.
 */
export function serviceName (s: StreamInfo): string {
  const x = s.labels
  return pick(x?.service_name, x?.service, s.app, x?.application, x?.['app.kubernetes.io/name'], x?.app_kubernetes_io_name, x?.app, s.container, s.job) ?? 'unknown_service'
}

function pick (...vs: Array<string | undefined>): string | undefined {
  for (const v of vs) if (v !== undefined && v !== '' && v !== '-') return v
  return undefined
}

const LEVELS: Record<string, string> = {
  emerg: 'critical', emergency: 'critical', alert: 'critical', crit: 'critical', critical: 'critical', fatal: 'critical', panic: 'critical',
  err: 'error', eror: 'error', error: 'error',
  warn: 'warn', warning: 'warn',
  info: 'info', inf: 'info', information: 'info', informational: 'info', notice: 'info',
  debug: 'debug', dbg: 'debug',
  trace: 'trace', trc: 'trace'
}

const JSON_LEVEL = /"(?:level|lvl|severity|loglevel|log_level)"\s*:\s*"([A-Za-z]+)"/
const LOGFMT_LEVEL = /(?:^|\s)(?:level|lvl|severity)=("?)([A-Za-z]+)\1(?:\s|$)/
// A level word near the start: `ERROR …`, `[WARN] …`, `2026-11-23 10:00:00 INFO …`, `E1123 …` is not matched.
const PREFIX_LEVEL = /^(?:\S+\s+){0,3}?\[?(EMERG|ALERT|CRIT|CRITICAL|FATAL|PANIC|ERROR|ERR|WARN|WARNING|INFO|NOTICE|DEBUG|TRACE)\]?[\s:]/

/**
 * The level of a line, as Loki's detected_level names them (critical, error, warn, info,
 * debug, trace), from a JSON `level`, a logfmt `level=`, or an upper-case level word near the
 * start; `unknown` otherwise.
 */
export function detectLevel (line: string): string {
  let m: RegExpExecArray | null = null
  if (line.charCodeAt(0) === 0x7b /* { */) m = JSON_LEVEL.exec(line)
  if (m === null && line.includes('=')) m = LOGFMT_LEVEL.exec(line)
  const word = m !== null ? m[m.length - 1]! : PREFIX_LEVEL.exec(line.length > 200 ? line.slice(0, 200) : line)?.[1]
  if (word === undefined) return 'unknown'
  return LEVELS[word.toLowerCase()] ?? 'unknown'
}

const SEVERITY_LEVEL: Record<string, string> = { emerg: 'critical', alert: 'critical', crit: 'critical', err: 'error', warning: 'warn', notice: 'info', info: 'info', debug: 'debug' }

/** A syslog severity name as a Loki level. */
export function severityLevel (severity: string): string {
  return SEVERITY_LEVEL[severity] ?? 'unknown'
}

/** A stable key for a label set (names sorted). */
export function labelsKey (l: Labels): string {
  const names = Object.keys(l).sort()
  let s = ''
  for (const n of names) s += n + '\u0000' + l[n] + '\u0001'
  return s
}

/** Loki's labels string: `{a="x", b="y"}` with names sorted. */
export function labelsString (l: Labels): string {
  return '{' + Object.keys(l).sort().map((n) => `${n}=${JSON.stringify(l[n])}`).join(', ') + '}'
}

/** Sort a label set's names, as Loki returns them. */
export function sortedLabels (l: Labels): Labels {
  const out: Labels = {}
  for (const n of Object.keys(l).sort()) out[n] = l[n]!
  return out
}
