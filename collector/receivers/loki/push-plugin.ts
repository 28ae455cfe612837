import type { FastifyPluginAsync } from 'fastify'
import type { TokenSet } from '../../../core/auth.js'
import { DaytwoError } from '../../../core/errors.js'
import { InflateBudget, InflateError, openBody, rejectReason } from '../../inflate.js'
import type { Intake } from '../../intake.js'
import type { CollectorMetrics } from '../../metrics.js'
import { senderToken } from '../sender-auth.js'
import { pushBatches } from './push-batches.js'
import { decodePushJson } from './push-json.js'

export interface LokiPushOptions {
  intake: Intake
  tokens: TokenSet
  metrics: CollectorMetrics
  maxBodyBytes: number
  inflateBudget: InflateBudget
}

/**
 * POST /loki/api/v1/push (JSON, gzip or identity): 204 once the store committed, as Loki
 * answers; refusals in Loki's plain-text shape. X-Scope-OrgID is ignored: the collector's
 * tenant rules decide the tenant from the identity, never the sender's claim.
 */
export const lokiPushPlugin: FastifyPluginAsync<LokiPushOptions> = async (app, opts) => {
  const { metrics } = opts
  // Bodies as bytes: JSON is decoded by push-json.ts (checked field by field), protobuf is refused with 415 for now.
  app.addContentTypeParser(['application/json', 'application/x-protobuf'], { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body))
  app.post('/loki/api/v1/push', {
    bodyLimit: opts.maxBodyBytes,
    onRequest: async (req, reply) => {
      // Before the body is read, as collector/ingest.ts does.
      const sender = opts.tokens.identify(senderToken(req.headers.authorization))
      if (sender === null) {
        metrics.reject('unauthorized', 1, req.ip)
        return reply.code(401).type('text/plain').send('unauthorized\n')
      }
      ;(req as { daytwoSender?: string }).daytwoSender = sender
    }
  }, async (req, reply) => {
    const refuse = (code: number, reason: string, msg: string) => {
      metrics.reject(reason, 1, msg)
      return reply.code(code).type('text/plain').send(msg + '\n')
    }
    const type = (req.headers['content-type'] ?? '').toLowerCase()
    if (!type.startsWith('application/json')) return refuse(415, 'bad_content_type', `unsupported Content-Type ${type} (this collector takes application/json)`)
    const raw = req.body
    if (!Buffer.isBuffer(raw)) return refuse(400, 'malformed_batch', 'empty body')
    let body: Buffer
    let release: () => void
    try {
      ({ body, release } = await openBody(raw, req.headers['content-encoding'], opts.maxBodyBytes, opts.inflateBudget))
    } catch (err) {
      if (!(err instanceof InflateError)) throw err
      // 429 for a full budget: what Loki clients retry on.
      if (err.failure === 'busy') void reply.header('retry-after', '1')
      return refuse(err.failure === 'busy' ? 429 : err.error.statusCode, rejectReason(err.failure), err.message)
    }
    try {
      let batches
      try {
        batches = pushBatches(decodePushJson(body.toString('utf8')))
      } catch (err) {
        return refuse(400, 'malformed_batch', (err as Error).message)
      }
      try {
        await opts.intake.accept(batches, (req as { daytwoSender?: string }).daytwoSender!)
      } catch (err) {
        // Intake counted it (store_unavailable); a 5xx makes Promtail/Alloy retry. Rate limits
        // do not refuse here: the tenant pipeline drops over-limit lines with a counted notice.
        if (!(err instanceof DaytwoError)) throw err
        return reply.code(err.statusCode).type('text/plain').send(err.message + '\n')
      }
      return reply.code(204).send()
    } finally {
      release()
    }
  })
}
