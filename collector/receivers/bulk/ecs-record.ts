import { MAX_ATTRIBUTES, type Attributes, type StreamTags } from '../../../core/record.js'

// One Elasticsearch document → the parts of a daytwo record. ECS fields and Fluent Bit's
// kubernetes filter fields name the stream's identity; the message is `message` or `log`;
// every other leaf is kept as a per-line attribute, up to MAX_ATTRIBUTES of at most
// MAX_ATTRIBUTE_BYTES each, and what does not fit is counted (the caller's `dropped`).

export const MAX_ATTRIBUTE_BYTES = 1024

export interface EcsRecord {
  tags: Omit<StreamTags, 'id'>
  message: string
  /** Unix ns as a decimal string; null when the document has no readable @timestamp. */
  tsNs: string | null
  stdio: string
  attrs?: Attributes
  /** Fields that did not fit as attributes. */
  droppedFields: number
}

/** Fields that become the record's own parts, not attributes (dotted or nested, as senders write them). */
const MAPPED = new Set([
  'message', 'log', '@timestamp', 'stream', 'host.name', 'service.name', 'container.name',
  'kubernetes.namespace', 'kubernetes.namespace_name', 'kubernetes.pod_namespace', 'kubernetes.pod_node_name', 'kubernetes.pod.name', 'kubernetes.pod_name',
  'kubernetes.container_name', 'kubernetes.container.name', 'kubernetes.host', 'kubernetes.node.name', 'kubernetes.labels.app'
])

/** Flatten nested objects into dotted keys (`{"log":{"level":"x"}}` and `{"log.level":"x"}` read alike). */
function flatten (doc: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(doc)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out)
    else out.set(key, v)
  }
}

function str (fields: Map<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = fields.get(k)
    if (typeof v === 'string' && v !== '') return v
  }
  return undefined
}

/** RFC 3339 → Unix ns, keeping digits below the millisecond that Date.parse drops. */
export function timestampNs (s: string): string | null {
  const ms = Date.parse(s)
  if (Number.isNaN(ms)) return null
  const frac = /\.(\d+)/.exec(s)?.[1] ?? ''
  const subMs = BigInt((frac.slice(3, 9) + '000000').slice(0, 6))
  return String(BigInt(ms) * 1_000_000n + subMs)
}

/** The record a document makes, or an error string (the item's 400 reason). */
export function ecsRecord (doc: unknown, indexName: string): EcsRecord | string {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'the document is not a JSON object'
  const fields = new Map<string, unknown>()
  flatten(doc as Record<string, unknown>, '', fields)
  const message = fields.get('message') ?? fields.get('log')
  if (typeof message !== 'string') return 'the document has no string field `message` or `log`'
  const namespace = str(fields, 'kubernetes.namespace', 'kubernetes.namespace_name', 'kubernetes.pod_namespace')
  const pod = str(fields, 'kubernetes.pod.name', 'kubernetes.pod_name')
  const container = str(fields, 'container.name', 'kubernetes.container_name', 'kubernetes.container.name')
  const tags: Omit<StreamTags, 'id'> = {
    source: 'elasticsearch',
    node: str(fields, 'host.name', 'kubernetes.host', 'kubernetes.node.name', 'kubernetes.pod_node_name') ?? '',
    // The index the sender writes to stands in for what the document does not name.
    deployment: namespace ?? indexName,
    job: str(fields, 'service.name', 'kubernetes.labels.app') ?? container ?? indexName,
    index: pod ?? '',
    process: container ?? '',
    path: `/${indexName}`
  }
  if (namespace !== undefined) tags.namespace = namespace
  if (pod !== undefined) tags.pod = pod
  if (container !== undefined) tags.container = container
  const ts = fields.get('@timestamp')
  const stdio = fields.get('stream')
  let attrs: Attributes | undefined
  let droppedFields = 0
  for (const [k, v] of fields) {
    if (MAPPED.has(k) || v === null || v === undefined) continue
    const value = typeof v === 'string' ? v : JSON.stringify(v)
    if ((attrs !== undefined && Object.keys(attrs).length >= MAX_ATTRIBUTES) || Buffer.byteLength(value) > MAX_ATTRIBUTE_BYTES) { droppedFields++; continue }
    ;(attrs ??= {})[k] = value
  }
  return {
    tags,
    message,
    tsNs: typeof ts === 'string' ? timestampNs(ts) : typeof ts === 'number' ? String(BigInt(Math.trunc(ts)) * 1_000_000n) : null,
    stdio: stdio === 'stdout' || stdio === 'stderr' ? stdio : '',
    ...(attrs ? { attrs } : {}),
    droppedFields
  }
}
