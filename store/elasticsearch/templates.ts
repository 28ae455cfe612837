import type { ElasticsearchConfig, EngineConfig } from '../../core/config/elasticsearch.js'
import type { EngineClient } from '../search-engine/engine-client.js'

// What daytwo installs at start: one lifecycle policy and four composable index templates.
// PUT is idempotent, so every collector may install them at every start; `_meta.version`
// says which daytwo wrote them. Priority 200 wins over Elasticsearch's built-in `logs`
// template (priority 100, pattern `logs-*-*`).

export const TEMPLATE_VERSION = 2
const PRIORITY = 200
const meta = { managed_by: 'daytwo', version: TEMPLATE_VERSION }
const keyword = { type: 'keyword' }

export function ilmPolicy (cfg: ElasticsearchConfig): Record<string, unknown> {
  return {
    _meta: meta,
    phases: {
      hot: { actions: { rollover: { max_primary_shard_size: cfg.rolloverMaxPrimaryShardSize, max_age: cfg.rolloverMaxAge } } },
      delete: { min_age: `${cfg.retentionDays}d`, actions: { delete: {} } }
    }
  }
}

function lifecycle (cfg: EngineConfig): Record<string, unknown> {
  const ilm = (cfg as Partial<ElasticsearchConfig>).ilmPolicy
  return ilm ? { 'index.lifecycle.name': ilm } : {}
}

/** Where the two engines' mappings differ: Elasticsearch's `flattened` is OpenSearch's `flat_object`. */
export interface Dialect { flattened: string, lifecycle: (cfg: EngineConfig) => Record<string, unknown> }
export const ELASTICSEARCH: Dialect = { flattened: 'flattened', lifecycle }

/**
 * A composable index template: daytwo's priority and _meta around one set of mappings.
 * Unknown fields are kept in _source but not indexed (`dynamic: false`): a new tag never
 * fails a write.
 */
function indexTemplate (pattern: string, properties: Record<string, unknown>, opts: { dataStream?: boolean, priority?: number, settings?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    index_patterns: [pattern],
    ...(opts.dataStream === true ? { data_stream: {} } : {}),
    priority: opts.priority ?? PRIORITY,
    _meta: meta,
    template: { ...(opts.settings ? { settings: opts.settings } : {}), mappings: { dynamic: false, properties } }
  }
}

/**
 * The records' data stream: ECS names, `@timestamp` in nanoseconds, tags as keywords, and
 * what queries filter and sum on (search-engine/fields.ts): `message.wc`, a `wildcard`
 * subfield that line filters are pushed down to; `log.level`; the message's bytes; the time in
 * whole milliseconds (ceil) and the nanoseconds within the millisecond.
 */
export function logsTemplate (cfg: EngineConfig, d: Dialect = ELASTICSEARCH): Record<string, unknown> {
  return indexTemplate(cfg.dataStream, {
    '@timestamp': { type: 'date_nanos' },
    message: { type: 'match_only_text', fields: { wc: { type: 'wildcard' } } },
    stream: keyword,
    log: {
      properties: {
        file: { properties: { path: keyword } },
        offset: { type: 'long' },
        level: keyword,
        syslog: { properties: { facility: { properties: { name: keyword } }, severity: { properties: { name: keyword } }, msgid: keyword, structured_data: { type: d.flattened } } }
      }
    },
    host: { properties: { name: keyword } },
    daytwo: { properties: { stream_id: keyword, source: keyword, bytes: { type: 'long' }, ts_ceil_ms: { type: 'long' }, ts_sub_ms: { type: 'integer' } } },
    deployment: keyword,
    job: keyword,
    index: keyword,
    process: keyword,
    orchestrator: { properties: { type: keyword } },
    kubernetes: { properties: { namespace: keyword, pod: { properties: { name: keyword } }, container: { properties: { name: keyword } } } },
    organization: { properties: { name: keyword } },
    space: keyword,
    app: keyword,
    labels: { type: d.flattened }
  }, { dataStream: true, settings: { ...d.lifecycle(cfg), 'index.codec': 'best_compression' } })
}

/** Records Elasticsearch refused: kept as text with the reason, never parsed again. */
export function deadLetterTemplate (cfg: EngineConfig, d: Dialect = ELASTICSEARCH): Record<string, unknown> {
  return indexTemplate(cfg.deadLetterDataStream, {
    '@timestamp': { type: 'date' },
    daytwo: { properties: { record_id: keyword, stream_id: keyword } },
    error: { properties: { type: keyword, message: { type: 'match_only_text' } } },
    http: { properties: { response: { properties: { status_code: { type: 'long' } } } } },
    event: { properties: { original: { type: 'keyword', index: false, doc_values: false } } }
  }, { dataStream: true, priority: PRIORITY + 1, settings: d.lifecycle(cfg) })
}

/** Per-minute rollups of stored and dropped records per org/app (see rollups.ts). */
export function usageTemplate (cfg: EngineConfig): Record<string, unknown> {
  return indexTemplate(cfg.usageIndex, {
    minute: { type: 'date', format: 'epoch_millis' },
    org: keyword,
    app: keyword,
    reason: keyword,
    lines: { type: 'long' },
    bytes: { type: 'long' },
    dropped_lines: { type: 'long' },
    dropped_bytes: { type: 'long' }
  })
}

/** One document per stream, `_id` = stream id: what `streams()` reads. */
export function streamsTemplate (cfg: EngineConfig, d: Dialect = ELASTICSEARCH): Record<string, unknown> {
  return indexTemplate(cfg.streamsIndex, {
    id: keyword,
    source: keyword,
    node: keyword,
    deployment: keyword,
    job: keyword,
    index: keyword,
    process: keyword,
    path: keyword,
    namespace: keyword,
    pod: keyword,
    container: keyword,
    org: keyword,
    space: keyword,
    app: keyword,
    labels: { type: d.flattened },
    first_seen: { type: 'date_nanos' },
    last_ts: { type: 'date_nanos' },
    lines: { type: 'long' },
    bytes: { type: 'long' }
  })
}

/** Template names, derived from what they match so two daytwo installs on one cluster can coexist. */
export function templateNames (cfg: EngineConfig): Record<'logs' | 'deadLetter' | 'usage' | 'streams', string> {
  return { logs: cfg.dataStream, deadLetter: cfg.deadLetterDataStream, usage: cfg.usageIndex, streams: cfg.streamsIndex }
}

export async function installTemplates (client: EngineClient, cfg: ElasticsearchConfig): Promise<void> {
  if (cfg.ilmPolicy) {
    await client.request({ method: 'PUT', path: `/_ilm/policy/${encodeURIComponent(cfg.ilmPolicy)}`, body: { policy: ilmPolicy(cfg) } })
  }
  await putTemplates(client, cfg, ELASTICSEARCH)
}

export async function putTemplates (client: EngineClient, cfg: EngineConfig, d: Dialect): Promise<void> {
  const names = templateNames(cfg)
  const bodies = { logs: logsTemplate(cfg, d), deadLetter: deadLetterTemplate(cfg, d), usage: usageTemplate(cfg), streams: streamsTemplate(cfg, d) }
  for (const k of ['logs', 'deadLetter', 'usage', 'streams'] as const) {
    await client.request({ method: 'PUT', path: `/_index_template/${encodeURIComponent(names[k])}`, body: bodies[k] })
  }
}
