import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { TokenSet } from '../core/auth.js'
import { DaytwoError } from '../core/errors.js'
import { FRAMES, decodeFrames } from '../core/frames.js'
import { NDJSON, decodeBatch } from '../core/wire.js'
import type { StreamBatch } from '../core/record.js'
import { InflateBudget, InflateError, openBody, rejectReason } from './inflate.js'
import type { CollectorMetrics } from './metrics.js'
import type { Intake } from './intake.js'


export interface IngestOptions {
  /** Where decoded batches go (collector/intake.ts). */
  intake: Intake
  tokens: TokenSet
  metrics: CollectorMetrics
  maxBodyBytes: number
  /** Inflated bytes all requests in flight may hold at once (collector.inflateBudgetBytes). */
  inflateBudget: InflateBudget
}

/**
 * POST /api/v1/ingest: a forwarder's batch (frames, core/frames.ts, or NDJSON, core/wire.ts), gzip or identity.
 * 200 only after the store committed it; retries are safe because writes are idempotent.
 */
export const ingestPlugin: FastifyPluginAsync<IngestOptions> = async (app: FastifyInstance, opts) => {
  const { tokens, metrics } = opts
  /** Which token sent a request (TokenSet.identify): its streams are bound to it. */
  const senders = new WeakMap<object, string>()
  app.addContentTypeParser([FRAMES, NDJSON, 'application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body))

  app.addHook('onRequest', async (req) => {
    // Before the body is read: an unauthenticated client never makes us buffer anything.
    const sender = tokens.identify(req.headers.authorization)
    if (sender === null) {
      metrics.reject('unauthorized', 1, req.ip)
      metrics.batches.inc({ code: '401' })
      throw new DaytwoError('UNAUTHORIZED')
    }
    senders.set(req, sender)
  })

  app.addHook('onError', async (_req, _reply, err: Error & { statusCode?: number }) => {
    // Refusals fastify makes before the handler runs (body over the limit, a content type
    // with no parser, a broken content-length): counted like the handler's own.
    if (err instanceof DaytwoError || err.statusCode === undefined || err.statusCode < 400 || err.statusCode >= 500) return
    const status = err.statusCode
    metrics.reject(status === 413 ? 'too_large' : status === 415 ? 'bad_content_type' : 'malformed_batch', 1, err.message)
    metrics.batches.inc({ code: String(status) })
  })

  app.post('/api/v1/ingest', async (req, reply) => {
    const raw = req.body
    if (!Buffer.isBuffer(raw)) {
      metrics.reject('malformed_batch')
      metrics.batches.inc({ code: '400' })
      throw new DaytwoError('BAD_BATCH', `expected a body of type ${FRAMES} or ${NDJSON}`)
    }
    let body: Buffer
    let release: () => void
    try {
      ({ body, release } = await openBody(raw, req.headers['content-encoding'], opts.maxBodyBytes, opts.inflateBudget))
    } catch (err) {
      if (!(err instanceof InflateError)) throw err
      metrics.reject(rejectReason(err.failure), 1, err.message)
      metrics.batches.inc({ code: String(err.error.statusCode) })
      if (err.failure === 'busy') void reply.header('retry-after', '1')
      throw err.error
    }
    try {
      let batches: StreamBatch[]
      try {
        // The forwarder sends frames; NDJSON stays for other clients (and for reading by eye).
        // The body is not read again: the store may take it rather than copy it (owned).
        batches = req.headers['content-type']?.toLowerCase().startsWith(FRAMES) === true ? decodeFrames(body, true, true) : decodeBatch(body.toString('utf8'))
      } catch (err) {
        metrics.reject('malformed_batch', 1, (err as Error).message)
        metrics.batches.inc({ code: '400' })
        throw err
      }
      return reply.send(await opts.intake.accept(batches, senders.get(req)!))
    } finally {
      // The inflated body's share of the budget is given back once the store has it.
      release()
    }
  })
}
