import type { FastifyPluginAsync } from 'fastify'
import type { TokenSet } from '../../../core/auth.js'
import { DaytwoError } from '../../../core/errors.js'
import { InflateBudget, InflateError, openBody, rejectReason } from '../../inflate.js'
import type { Intake } from '../../intake.js'
import type { CollectorMetrics } from '../../metrics.js'
import type { PushScope } from '../../intake.js'
import type { OrgGrants } from '../scope-org.js'
import { senderToken } from '../sender-auth.js'
import { pushBatches } from './push-batches.js'
import { decodePushJson, type PushStream } from './push-json.js'
import { decodePushProtobuf } from './push-protobuf.js'
import { unsnappy } from './push-snappy.js'

export interface LokiPushOptions {
  intake: Intake
  tokens: TokenSet
  /** Which tokens may name the org with X-Scope-OrgID. */
  grants: OrgGrants
  metrics: CollectorMetrics
  maxBodyBytes: number
  inflateBudget: InflateBudget
}

/**
 * POST /loki/api/v1/push, JSON or protobuf + snappy (gzip or identity around either): 204 once
 * the store committed, as Loki answers; refusals in Loki's plain-text shape. The tenant is the
 * collector's tenant rules' (from the identity), unless the push names an org in X-Scope-OrgID
 * that its token may name (collector/receivers/scope-org.ts): then the lines are that org's; an
 * org the token may not name is 403, before the body is read.
 */
export const lokiPushPlugin: FastifyPluginAsync<LokiPushOptions> = async (app, opts) => {
  const { metrics } = opts
  // Bodies as bytes, whatever their type (a push without one is protobuf, as in Loki); the
  // handler picks the decoder and answers 415 for other types.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body))
  app.post('/loki/api/v1/push', {
    bodyLimit: opts.maxBodyBytes,
    onRequest: async (req, reply) => {
      // Before the body is read, as collector/ingest.ts does.
      const sender = opts.tokens.identify(senderToken(req.headers.authorization))
      if (sender === null) {
        metrics.reject('unauthorized', 1, req.ip)
        return reply.code(401).type('text/plain').send('unauthorized\n')
      }
      const named = opts.grants.check(sender, req.headers['x-scope-orgid'])
      if (!named.ok) {
        metrics.reject(named.reason, 1, `${named.message} (${req.ip})`)
        return reply.code(named.status).type('text/plain').send(named.message + '\n')
      }
      ;(req as { daytwoSender?: string }).daytwoSender = sender
      ;(req as { daytwoScope?: PushScope }).daytwoScope = named.scope
    }
  }, async (req, reply) => {
    const refuse = (code: number, reason: string, msg: string) => {
      metrics.reject(reason, 1, msg)
      return reply.code(code).type('text/plain').send(msg + '\n')
    }
    const type = (req.headers['content-type'] ?? '').toLowerCase().split(';')[0]!.trim()
    const json = type === 'application/json'
    if (!json && type !== 'application/x-protobuf' && type !== '') return refuse(415, 'bad_content_type', `unsupported Content-Type ${type} (this collector takes application/json and application/x-protobuf)`)
    const raw = req.body
    if (!Buffer.isBuffer(raw)) return refuse(400, 'malformed_batch', 'empty body')
    // Loki takes `Content-Encoding: snappy` on a protobuf body as saying what the body is anyway.
    let encoding = req.headers['content-encoding']?.toLowerCase()
    if (!json && encoding === 'snappy') encoding = undefined
    const releases: Array<() => void> = []
    try {
      let streams: PushStream[]
      try {
        let { body, release } = await openBody(raw, encoding, opts.maxBodyBytes, opts.inflateBudget)
        releases.push(release)
        if (!json) {
          ({ body, release } = await unsnappy(body, opts.maxBodyBytes, opts.inflateBudget))
          releases.push(release)
        }
        streams = json ? decodePushJson(body.toString('utf8')) : decodePushProtobuf(body)
      } catch (err) {
        if (err instanceof InflateError) {
          // 429 for a full budget: what Loki clients retry on.
          if (err.failure === 'busy') void reply.header('retry-after', '1')
          return refuse(err.failure === 'busy' ? 429 : err.error.statusCode, rejectReason(err.failure), err.message)
        }
        if (err instanceof DaytwoError) return refuse(400, 'malformed_batch', err.message)
        throw err
      }
      const batches = pushBatches(streams)
      try {
        await opts.intake.accept(batches, (req as { daytwoSender?: string }).daytwoSender!, (req as { daytwoScope?: PushScope }).daytwoScope)
      } catch (err) {
        // Intake counted it (store_unavailable); a 5xx makes Promtail/Alloy retry. Rate limits
        // do not refuse here: the tenant pipeline drops over-limit lines with a counted notice.
        if (!(err instanceof DaytwoError)) throw err
        return reply.code(err.statusCode).type('text/plain').send(err.message + '\n')
      }
      return reply.code(204).send()
    } finally {
      for (const r of releases) r()
    }
  })
}
