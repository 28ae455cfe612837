import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DaytwoError } from '../../core/errors.js'

// Loki's response envelopes: `{status: "success", data}` and, for errors, a JSON body with
// the HTTP status and a message (what Grafana's Loki datasource shows), plus daytwo's code.

export function success<T> (data: T): { status: 'success', data: T } {
  return { status: 'success', data }
}

export interface QueryStats {
  linesProcessed: number
  bytesProcessed: number
  entriesReturned: number
  startedAt: bigint
}

/** The `summary` block of Loki's query statistics. */
export function stats (s: QueryStats): Record<string, unknown> {
  const execTime = Number(process.hrtime.bigint() - s.startedAt) / 1e9
  const per = (n: number) => execTime > 0 ? Math.round(n / execTime) : 0
  return {
    summary: {
      bytesProcessedPerSecond: per(s.bytesProcessed),
      linesProcessedPerSecond: per(s.linesProcessed),
      totalBytesProcessed: s.bytesProcessed,
      totalLinesProcessed: s.linesProcessed,
      totalEntriesReturned: s.entriesReturned,
      totalPostFilterLines: s.entriesReturned,
      totalStructuredMetadataBytesProcessed: 0,
      execTime,
      queueTime: 0,
      subqueries: 0,
      splits: 0,
      shards: 0
    }
  }
}

export function errorHandler (err: FastifyError | DaytwoError, req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500
  if (status >= 500) req.log.error({ err }, 'loki api request failed')
  void reply.code(status).send({
    status: 'error',
    errorType: status === 400 ? 'bad_data' : status === 401 || status === 403 ? 'unauthorized' : 'internal',
    code: status,
    message: err.message,
    error: err.message,
    errorCode: err.code ?? 'DAYTWO_ERR_INTERNAL'
  })
}
