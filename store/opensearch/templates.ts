import type { OpenSearchConfig } from '../../core/config/elasticsearch.js'
import type { EngineClient } from '../search-engine/engine-client.js'
import { statusOf } from '../search-engine/engine-client.js'
import { TEMPLATE_VERSION, putTemplates, type Dialect } from '../elasticsearch/templates.js'

// OpenSearch's terms for what the Elasticsearch store installs: the same composable index
// templates and data streams (OpenSearch has both), `flat_object` for `flattened`, and an
// Index State Management policy instead of ILM. ISM is a plugin: where it is missing (e.g. a
// bare test node) no policy is installed and retention is the operator's (docs/stores.md "OpenSearch").

export const OPENSEARCH: Dialect = { flattened: 'flat_object', lifecycle: () => ({}) }

/** The ISM policy: roll over at size or age, delete `retentionDays` after creation. */
export function ismPolicy (cfg: OpenSearchConfig): Record<string, unknown> {
  return {
    description: `daytwo ${TEMPLATE_VERSION}: roll over, delete after ${cfg.retentionDays} days`,
    default_state: 'hot',
    states: [
      {
        name: 'hot',
        actions: [{ rollover: { min_primary_shard_size: cfg.rolloverMaxPrimaryShardSize, min_index_age: cfg.rolloverMaxAge } }],
        transitions: [{ state_name: 'delete', conditions: { min_index_age: `${cfg.retentionDays}d` } }]
      },
      { name: 'delete', actions: [{ delete: {} }], transitions: [] }
    ],
    // Attaches the policy to the data streams' backing indices as they are made.
    ism_template: [{ index_patterns: [`.ds-${cfg.dataStream}-*`, `.ds-${cfg.deadLetterDataStream}-*`], priority: 100 }]
  }
}

/** Whether the ISM plugin answers (GET of a policy: 404 for a missing policy, 400/405 for a missing API). */
async function ismPresent (client: EngineClient, name: string): Promise<{ present: boolean, seqNo?: number, primaryTerm?: number }> {
  try {
    const r = await client.request<{ _seq_no?: number, _primary_term?: number }>({ method: 'GET', path: `/_plugins/_ism/policies/${encodeURIComponent(name)}` })
    return { present: true, seqNo: r._seq_no, primaryTerm: r._primary_term }
  } catch (err) {
    const s = statusOf(err)
    if (s === 404) {
      const body = (err as { body?: { error?: { type?: string } } }).body
      // A missing policy says so; a missing plugin is a path no handler takes.
      if (body?.error?.type === 'index_not_found_exception' || body?.error?.type === 'status_exception' || JSON.stringify(body ?? '').includes('Policy not found')) return { present: true }
    }
    return { present: false }
  }
}

export async function installOpenSearchTemplates (client: EngineClient, cfg: OpenSearchConfig): Promise<{ ism: boolean }> {
  let ism = false
  if (cfg.ismPolicy) {
    const p = await ismPresent(client, cfg.ismPolicy)
    if (p.present) {
      const qs: Record<string, number> = p.seqNo !== undefined && p.primaryTerm !== undefined ? { if_seq_no: p.seqNo, if_primary_term: p.primaryTerm } : {}
      await client.request({ method: 'PUT', path: `/_plugins/_ism/policies/${encodeURIComponent(cfg.ismPolicy)}`, querystring: qs, body: { policy: ismPolicy(cfg) } })
      ism = true
    }
  }
  await putTemplates(client, cfg, OPENSEARCH)
  return { ism }
}
