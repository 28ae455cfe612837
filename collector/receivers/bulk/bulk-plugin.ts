import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { TokenSet } from '../../../core/auth.js'
import { DaytwoError } from '../../../core/errors.js'
import { counter } from '../../../core/metrics.js'
import { InflateBudget, InflateError, openBody, rejectReason } from '../../inflate.js'
import type { Intake } from '../../intake.js'
import type { CollectorMetrics } from '../../metrics.js'
import { asBearer } from './bulk-auth.js'
import { parseBulk, type BulkItem } from './bulk-items.js'

// Elasticsearch's _bulk API on the collector, and the few endpoints senders probe before they
// send (docs/receivers.md "Elasticsearch _bulk"). Every request is authenticated before its body is read
// (collector tokens, collector/receivers/bulk/bulk-auth.ts); bodies are bounded before and after
// gzip (collector/inflate.ts, the budget shared with the forwarders' endpoint); documents go
// through the one intake path (collector/intake.ts); each item is answered in Elasticsearch's
// shape so a sender retries only what failed.

export interface BulkOptions {
  intake: Intake
  tokens: TokenSet
  metrics: CollectorMetrics
  registry: Registry
  maxBodyBytes: number
  inflateBudget: InflateBudget
}

/** The version clients read at `GET /`: 8.x, which Fluent Bit, Filebeat, Vector and the v8 JS client accept. */
const VERSION = { number: '8.11.0', build_flavor: 'default', build_type: 'docker', lucene_version: '9.8.0', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' }

function esError (reply: FastifyReply, status: number, type: string, reason: string): FastifyReply {
  return reply.code(status).send({ error: { root_cause: [{ type, reason }], type, reason }, status })
}

export const bulkPlugin: FastifyPluginAsync<BulkOptions> = async (app: FastifyInstance, opts) => {
  const { tokens, metrics } = opts
  const items = counter(opts.registry, 'daytwo_collector_bulk_items_total', 'Elasticsearch _bulk items answered, by status.', ['status'])
  const droppedFields = counter(opts.registry, 'daytwo_collector_bulk_dropped_fields_total', 'Document fields not kept as attributes, by reason.', ['reason'])
  droppedFields.inc({ reason: 'attributes_over_limit' }, 0)
  const senders = new WeakMap<object, string>()

  // Senders use application/json, application/x-ndjson or the v8 client's vendor types: take any body as bytes.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body))

  app.addHook('onRequest', async (req, reply) => {
    // The official clients refuse a server that does not say it is Elasticsearch.
    void reply.header('x-elastic-product', 'Elasticsearch')
    const sender = tokens.identify(asBearer(req.headers.authorization))
    if (sender === null) {
      metrics.reject('unauthorized', 1, `_bulk from ${req.ip}`)
      void reply.header('www-authenticate', 'Basic realm="daytwo", ApiKey, Bearer')
      return esError(reply, 401, 'security_exception', 'missing or unknown token (Bearer, Basic password or ApiKey)')
    }
    senders.set(req, sender)
  })

  app.addHook('onError', async (_req, _reply, err: Error & { statusCode?: number }) => {
    if (err instanceof DaytwoError || err.statusCode === undefined || err.statusCode < 400 || err.statusCode >= 500) return
    metrics.reject(err.statusCode === 413 ? 'too_large' : 'malformed_batch', 1, `_bulk: ${err.message}`)
  })

  app.get('/', async () => ({ name: 'daytwo', cluster_name: 'daytwo', cluster_uuid: 'daytwo', version: VERSION, tagline: 'You Know, for Search' }))
  app.get('/_license', async () => ({ license: { status: 'active', uid: 'daytwo', type: 'basic', issue_date_in_millis: 0, max_nodes: 1000 } }))
  app.get('/_xpack', async () => ({ build: {}, license: { status: 'active', type: 'basic', mode: 'basic' }, features: {} }))
  // Templates, lifecycle policies, data streams and index creation: daytwo has its own, so
  // these are acknowledged and ignored; lookups answer 404 so a sender creates and moves on.
  for (const prefix of ['_index_template', '_template', '_component_template', '_ilm/policy', '_data_stream']) {
    app.put(`/${prefix}/*`, async () => ({ acknowledged: true }))
    app.post(`/${prefix}/*`, async () => ({ acknowledged: true }))
    app.get(`/${prefix}/*`, async (_req, reply) => esError(reply, 404, 'resource_not_found_exception', 'daytwo keeps no templates'))
  }

  const bulk = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = Date.now()
    const raw = req.body
    if (!Buffer.isBuffer(raw)) {
      metrics.reject('malformed_batch', 1, '_bulk without a body')
      return esError(reply, 400, 'parse_exception', 'request body is required')
    }
    let body: Buffer
    let release: () => void
    try {
      ({ body, release } = await openBody(raw, req.headers['content-encoding'], opts.maxBodyBytes, opts.inflateBudget))
    } catch (err) {
      if (!(err instanceof InflateError)) throw err
      metrics.reject(rejectReason(err.failure), 1, `_bulk: ${err.message}`)
      // 429 is what Elasticsearch senders retry on.
      if (err.failure === 'busy') return esError(reply.header('retry-after', '1'), 429, 'es_rejected_execution_exception', err.message)
      if (err.failure === 'bad_encoding') return esError(reply, 415, 'illegal_argument_exception', err.message)
      return esError(reply, err.error.statusCode, 'parse_exception', err.message)
    }
    try {
      const pathIndex = (req.params as { index?: string }).index
      const parsed = parseBulk(body, pathIndex, String(BigInt(Date.now()) * 1_000_000n))
      if (parsed.droppedFields > 0) droppedFields.inc({ reason: 'attributes_over_limit' }, parsed.droppedFields)
      if (parsed.batches.length > 0) {
        try {
          await opts.intake.accept(parsed.batches, senders.get(req)!)
        } catch (err) {
          // Nothing of this request was stored: every item is retried.
          return esError(reply.header('retry-after', '1'), 429, 'es_rejected_execution_exception', (err as Error).message)
        }
      }
      for (const it of parsed.items) items.inc({ status: String(it.status) })
      return reply.send({ took: Date.now() - started, errors: parsed.items.some((it) => it.status >= 300), items: parsed.items.map(itemResult) })
    } finally {
      release()
    }
  }
  app.post('/_bulk', bulk)
  app.put('/_bulk', bulk)
  app.post('/:index/_bulk', bulk)
  app.put('/:index/_bulk', bulk)
}

let seqNo = 0
function itemResult (it: BulkItem): Record<string, unknown> {
  const r: Record<string, unknown> = { _index: it.index, _id: it.id ?? null, status: it.status }
  if (it.error) r.error = it.error
  else Object.assign(r, { result: 'created', _version: 1, _seq_no: seqNo++, _primary_term: 1, _shards: { total: 1, successful: 1, failed: 0 } })
  return { [it.action]: r }
}
