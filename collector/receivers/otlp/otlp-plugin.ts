import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Registry } from 'prom-client'
import { DaytwoError } from '../../../core/errors.js'
import { counter } from '../../../core/metrics.js'
import { InflateError, openBody, rejectReason } from '../../inflate.js'
import type { PushScope } from '../../intake.js'
import type { LokiPushOptions } from '../loki/push-plugin.js'
import { senderToken } from '../sender-auth.js'
import { otlpBatches } from './otlp-batches.js'
import { decodeOtlpJson, decodeOtlpProtobuf, type OtlpResourceLogs } from './otlp-logs.js'
import { ExportLogsServiceResponse, RpcStatus } from './otlp-schema.js'

// OTLP/HTTP logs on the collector (opentelemetry-proto docs/specification.md "OTLP/HTTP"):
// `POST /v1/logs`, protobuf or JSON, gzip or identity. Authenticated before the body is read,
// as the Loki push (a Bearer token in the exporter's headers, or Basic with the token as
// password); bounded before and after gzip (collector/inflate.ts); stored through the one
// intake (collector/intake.ts). Answers as the spec says, in the request's encoding:
//   200 ExportLogsServiceResponse once the store committed, with `partial_success` when lines
//       were refused (times out of range) or attributes left out;
//   400/401/403/413/415 google.rpc.Status, not retried by exporters;
//   429 (inflate budget full) and 503 (store unavailable) google.rpc.Status with Retry-After,
//       which exporters retry.
// The tenant is the collector's to decide: its tenant rules on the identity, or the org named in
// X-Scope-OrgID (as Loki's OTLP endpoint takes it) when the token may name it
// (collector/receivers/scope-org.ts; 403 PERMISSION_DENIED otherwise).

/** What the Loki push takes (the same intake, tokens and bounds), and the registry for its own counter. */
export interface OtlpOptions extends LokiPushOptions {
  registry: Registry
}

/** google.rpc.Code values OTLP answers with. */
const CODE = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const

type Kind = 'json' | 'protobuf'

function kindOf (contentType: string | undefined): Kind | null {
  const t = (contentType ?? '').toLowerCase().split(';')[0]!.trim()
  return t === 'application/json' ? 'json' : t === 'application/x-protobuf' ? 'protobuf' : null
}

function send (reply: FastifyReply, kind: Kind, status: number, json: object, encode: () => Uint8Array): FastifyReply {
  if (kind === 'json') return reply.code(status).type('application/json').send(JSON.stringify(json))
  return reply.code(status).type('application/x-protobuf').send(Buffer.from(encode()))
}

function status (reply: FastifyReply, kind: Kind, http: number, code: number, message: string): FastifyReply {
  return send(reply, kind, http, { code, message }, () => RpcStatus.encode(RpcStatus.create({ code, message })).finish())
}

export const otlpPlugin: FastifyPluginAsync<OtlpOptions> = async (app, opts) => {
  const { metrics } = opts
  const dropped = counter(opts.registry, 'daytwo_collector_otlp_dropped_attributes_total', 'OTLP attributes not kept, by reason (a line keeps at most 64).', ['reason'])
  dropped.inc({ reason: 'attributes_over_limit' }, 0)
  const senders = new WeakMap<object, { sender: string, scope: PushScope | undefined }>()

  // Bodies as bytes whatever their type: the handler answers 415 in the spec's shape.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) => done(null, body))

  // Refusals fastify makes itself (a body over maxBodyBytes before gzip), counted and in OTLP's shape.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const code = err.statusCode ?? 500
    if (code >= 500) throw err
    metrics.reject(code === 413 ? 'too_large' : 'malformed_batch', 1, `/v1/logs: ${err.message}`)
    return status(reply, kindOf(req.headers['content-type']) ?? 'json', code, CODE.INVALID_ARGUMENT, err.message)
  })

  app.post('/v1/logs', {
    bodyLimit: opts.maxBodyBytes,
    onRequest: async (req, reply) => {
      const sender = opts.tokens.identify(senderToken(req.headers.authorization))
      if (sender === null) {
        metrics.reject('unauthorized', 1, `/v1/logs from ${req.ip}`)
        return status(reply, kindOf(req.headers['content-type']) ?? 'json', 401, CODE.UNAUTHENTICATED, 'missing or unknown token (Authorization: Bearer <token>, or Basic with the token as password)')
      }
      const named = opts.grants.check(sender, req.headers['x-scope-orgid'])
      if (!named.ok) {
        metrics.reject(named.reason, 1, `/v1/logs: ${named.message} (${req.ip})`)
        return status(reply, kindOf(req.headers['content-type']) ?? 'json', named.status, named.status === 403 ? CODE.PERMISSION_DENIED : CODE.INVALID_ARGUMENT, named.message)
      }
      senders.set(req, { sender, scope: named.scope })
    }
  }, async (req, reply) => {
    const kind = kindOf(req.headers['content-type'])
    const refuse = (http: number, code: number, reason: string, msg: string) => {
      metrics.reject(reason, 1, `/v1/logs: ${msg}`)
      return status(reply, kind ?? 'json', http, code, msg)
    }
    if (kind === null) return refuse(415, CODE.INVALID_ARGUMENT, 'bad_content_type', `unsupported Content-Type ${req.headers['content-type'] ?? '(none)'} (OTLP/HTTP takes application/x-protobuf and application/json)`)
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    let release = () => {}
    try {
      let resources: OtlpResourceLogs[]
      try {
        const opened = await openBody(raw, req.headers['content-encoding'], opts.maxBodyBytes, opts.inflateBudget)
        release = opened.release
        resources = kind === 'json' ? decodeOtlpJson(opened.body.toString('utf8')) : decodeOtlpProtobuf(opened.body)
      } catch (err) {
        if (err instanceof InflateError) {
          const reason = rejectReason(err.failure)
          if (err.failure === 'busy') {
            void reply.header('retry-after', '1')
            return refuse(429, CODE.RESOURCE_EXHAUSTED, reason, err.message)
          }
          return refuse(err.failure === 'bad_encoding' ? 415 : err.error.statusCode, CODE.INVALID_ARGUMENT, reason, err.message)
        }
        if (err instanceof DaytwoError) return refuse(400, CODE.INVALID_ARGUMENT, 'malformed_batch', err.message)
        throw err
      }
      const { batches, droppedAttributes } = otlpBatches(resources, String(BigInt(Date.now()) * 1_000_000n))
      if (droppedAttributes > 0) dropped.inc({ reason: 'attributes_over_limit' }, droppedAttributes)
      let refused = 0
      if (batches.length > 0) {
        try {
          const { sender, scope } = senders.get(req)!
          refused = (await opts.intake.accept(batches, sender, scope)).refused
        } catch (err) {
          // Intake counted it (store_unavailable); nothing of the request was stored, so the exporter retries all of it.
          if (!(err instanceof DaytwoError)) throw err
          return status(reply.header('retry-after', '1'), kind, 503, CODE.UNAVAILABLE, err.message)
        }
      }
      const notes: string[] = []
      if (refused > 0) notes.push(`${refused} log records refused: time before 1970 or too far ahead of the collector's clock (collector.maxFutureSkewMs)`)
      if (droppedAttributes > 0) notes.push(`${droppedAttributes} attributes left out: a log record keeps at most 64`)
      const partial = notes.length > 0 ? { rejectedLogRecords: refused, errorMessage: notes.join('; ') } : undefined
      return send(reply, kind, 200,
        partial ? { partialSuccess: { rejectedLogRecords: String(refused), errorMessage: partial.errorMessage } } : {},
        () => ExportLogsServiceResponse.encode(ExportLogsServiceResponse.create(partial ? { partialSuccess: partial } : {})).finish())
    } finally {
      release()
    }
  })
}
