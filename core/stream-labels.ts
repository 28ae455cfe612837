import type { StreamTags } from './record.js'

// The Loki labels of a daytwo stream, one meaning for every store and the query service: a
// store evaluates a selector's matchers on these, and the Loki API answers with them. The
// per-line labels (`stream`, `level`, `detected_level`) come from each line, so one daytwo
// stream can be several Loki streams.

export type Labels = Record<string, string>

/** Labels that vary line by line within one daytwo stream. */
export const PER_LINE_LABELS = new Set(['stream', 'level', 'detected_level'])

export function streamLabels (s: StreamTags): Labels {
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
export function serviceName (s: StreamTags): string {
  const x = s.labels
  return pick(x?.service_name, x?.service, s.app, x?.application, x?.['app.kubernetes.io/name'], x?.app_kubernetes_io_name, x?.app, s.container, s.job) ?? 'unknown_service'
}

function pick (...vs: Array<string | undefined>): string | undefined {
  for (const v of vs) if (v !== undefined && v !== '' && v !== '-') return v
  return undefined
}

