import { streamId } from '../../../core/ids.js'
import { syslogSeverityLevel, type Level } from '../../../core/level.js'
import { MAX_ATTRIBUTES, type Attributes, type StreamBatch } from '../../../core/record.js'
import { identityFromLabels, type IdentityRules } from '../identity-rules.js'
import { lineEntries } from '../loki/push-batches.js'
import type { OtlpRecord, OtlpResourceLogs } from './otlp-logs.js'

// OTLP records → daytwo streams, as Loki's OTLP ingestion does it where daytwo has the same
// notion (grafana/loki pkg/loghttp/push/otlp.go):
//   - resource attributes name the stream: the identity rules below fill deployment, job,
//     index and process; `host.name` is the node; `k8s.namespace.name`, `k8s.pod.name` and
//     `k8s.container.name` are also the stream's Kubernetes tags (the collector's Kubernetes
//     tenant rules read the namespace); the resource attributes Loki indexes by default
//     (RESOURCE_LABELS) are stream labels, `.` turned to `_` as Loki does; every other
//     resource attribute is per-line metadata, so that a pid or an SDK version does not start
//     a stream of its own;
//   - the body is the line (a non-string body as JSON, as Loki and the Collector's pcommon
//     write it); the record's attributes, the scope's name, version and attributes,
//     `trace_id`, `span_id`, `severity_text` and `event_name` are per-line attributes (Loki's
//     structured metadata; the query service makes their names label names);
//   - the severity is the line's level (core/level.ts): its number by OTLP's ranges, else its
//     text when that is a level word, kept in the `severity` attribute that every store reads
//     the level from; a record with neither has its level found in its text, as a file's lines.

/** Resource attributes to identity, first match in list order wins (BOSH's own first, then Kubernetes, then OpenTelemetry's service). */
export const DEFAULT_OTLP_RULES: IdentityRules = {
  deployment: ['bosh.deployment', 'k8s.namespace.name', 'service.namespace'],
  job: ['bosh.job', 'k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name', 'service.name'],
  index: ['bosh.index', 'k8s.pod.name', 'service.instance.id'],
  process: ['bosh.process', 'k8s.container.name', 'container.name']
}

/** Loki's default index labels among resource attributes (its `default_resource_attributes_as_index_labels`). */
const RESOURCE_LABELS = new Set(['service.name', 'service.namespace', 'service.instance.id', 'deployment.environment', 'deployment.environment.name', 'cloud.region', 'cloud.availability_zone', 'k8s.cluster.name', 'k8s.namespace.name', 'k8s.pod.name', 'k8s.container.name', 'container.name', 'k8s.replicaset.name', 'k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name'])

/** OTLP's SeverityNumber ranges (logs data model): 1–4 TRACE … 21–24 FATAL. */
const SEVERITY_RANGES: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

export function severityLevel (n: number, text: string): Level {
  if (n >= 1 && n <= 24) return SEVERITY_RANGES[Math.floor((n - 1) / 4)]!
  return text === '' ? 'unknown' : syslogSeverityLevel(text)
}

export interface OtlpBatches {
  batches: StreamBatch[]
  /** Records in the request. */
  records: number
  /** Attributes left out of lines that had more than MAX_ATTRIBUTES. */
  droppedAttributes: number
}

/** Decoded OTLP resource logs → daytwo batches, one per stream; `nowNs` stands for records without a time. */
export function otlpBatches (resources: OtlpResourceLogs[], nowNs: string, rules: IdentityRules = DEFAULT_OTLP_RULES): OtlpBatches {
  const streams = new Map<string, { batch: Omit<StreamBatch, 'entries'>, values: Array<[string, string, Attributes | undefined]> }>()
  let records = 0
  let droppedAttributes = 0
  for (const r of resources) {
    const res = r.attributes
    const id = identityFromLabels(res, rules)
    const labels: Record<string, string> = {}
    const resourceMeta: Record<string, string> = {}
    for (const [k, v] of Object.entries(id.labels)) {
      if (RESOURCE_LABELS.has(k)) labels[k.replace(/[^A-Za-z0-9_]/g, '_')] = v
      else if (k !== 'host.name') resourceMeta[k] = v
    }
    const node = res['host.name'] ?? ''
    const k8s = { namespace: res['k8s.namespace.name'], pod: res['k8s.pod.name'], container: res['k8s.container.name'] }
    const parts = [node, id.deployment, id.job, id.index, id.process, k8s.namespace ?? '', k8s.pod ?? '', k8s.container ?? '', ...Object.keys(labels).sort().map((k) => `${k}=${labels[k]!}`)]
    const key = JSON.stringify(parts)
    let s = streams.get(key)
    if (s === undefined) {
      s = {
        batch: {
          stream: {
            id: streamId('otlp', ...parts),
            source: 'otlp',
            node,
            deployment: id.deployment,
            job: id.job,
            index: id.index,
            process: id.process,
            path: 'otlp',
            ...(k8s.namespace !== undefined ? { namespace: k8s.namespace } : {}),
            ...(k8s.pod !== undefined ? { pod: k8s.pod } : {}),
            ...(k8s.container !== undefined ? { container: k8s.container } : {}),
            ...(Object.keys(labels).length > 0 ? { labels } : {})
          }
        },
        values: []
      }
      streams.set(key, s)
    }
    for (const scope of r.scopes) {
      const scopeMeta: Record<string, string> = { ...scope.attributes }
      if (scope.name !== '') scopeMeta.scope_name = scope.name
      if (scope.version !== '') scopeMeta.scope_version = scope.version
      for (const rec of scope.records) {
        records++
        const { attrs, dropped } = lineAttributes(rec, scopeMeta, resourceMeta)
        droppedAttributes += dropped
        s.values.push([rec.ns === '' ? nowNs : rec.ns, rec.body, attrs])
      }
    }
  }
  const batches = [...streams.values()].map((s) => ({ ...s.batch, entries: lineEntries(s.values) }))
  return { batches, records, droppedAttributes }
}

/**
 * A record's per-line attributes, at most MAX_ATTRIBUTES: the record's own facts first (its
 * level, ids, attributes), then its scope's, then its resource's, so what is left out when
 * there are too many is what many lines share.
 */
function lineAttributes (rec: OtlpRecord, scopeMeta: Record<string, string>, resourceMeta: Record<string, string>): { attrs: Attributes | undefined, dropped: number } {
  const out: Attributes = {}
  let n = 0
  let dropped = 0
  const put = (k: string, v: string) => {
    if (k in out) return
    if (n >= MAX_ATTRIBUTES) { dropped++; return }
    out[k] = v
    n++
  }
  const level = severityLevel(rec.severityNumber, rec.severityText)
  if (level !== 'unknown') put('severity', level)
  if (rec.severityText !== '') put('severity_text', rec.severityText)
  if (rec.traceId !== '') put('trace_id', rec.traceId)
  if (rec.spanId !== '') put('span_id', rec.spanId)
  if (rec.eventName !== '') put('event_name', rec.eventName)
  for (const [k, v] of Object.entries(rec.attributes)) put(k, v)
  for (const [k, v] of Object.entries(scopeMeta)) put(k, v)
  for (const [k, v] of Object.entries(resourceMeta)) put(k, v)
  return { attrs: n > 0 ? out : undefined, dropped }
}
