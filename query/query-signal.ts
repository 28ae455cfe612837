import type { FastifyReply } from 'fastify'
import { DaytwoError } from '../core/errors.js'

// A query's AbortSignal: aborted when its deadline (query.timeoutMs) passes or its client goes
// away, so that no query keeps reading after its answer is no longer wanted. The reason is
// the error the client gets: 504 for the deadline, 499 for a client that left.

export interface QuerySignal {
  signal: AbortSignal
  /** Stop watching (the answer was sent). */
  done (): void
}

export function querySignal (reply: FastifyReply, timeoutMs: number): QuerySignal {
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(new DaytwoError('QUERY_TIMEOUT', String(timeoutMs))), timeoutMs)
  const res = reply.raw
  const onClose = () => { if (!res.writableFinished) ctl.abort(new DaytwoError('QUERY_CANCELLED', 'the client went away')) }
  res.once('close', onClose)
  return {
    signal: ctl.signal,
    done: () => { clearTimeout(timer); res.off('close', onClose) }
  }
}

/**
 * Runs a question under its query's signal. Once the signal fired, whatever the work threw
 * (a store reports an aborted search its own way), the client is told why it stopped: the
 * signal's reason.
 */
export async function underQuerySignal<T> (reply: FastifyReply, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const qs = querySignal(reply, timeoutMs)
  try {
    return await fn(qs.signal)
  } catch (err) {
    if (qs.signal.aborted) throw qs.signal.reason
    throw err
  } finally {
    qs.done()
  }
}
