import { backoffMs } from '../../core/backoff.js'
import { DaytwoError } from '../../core/errors.js'
import { EngineError, readError, statusOf, type EngineClient } from './engine-client.js'

// One search, as every read of the search-engine stores makes it (reads.ts, search-store.ts,
// the Elasticsearch store's point-in-time read()).
//
// Retries: a search answered 429 (the cluster sheds load), 502/503/504 (e.g. "all shards
// failed" on an index made a moment ago whose shards are still starting, a cluster
// recovering, a proxy), with failed shards, or not at all (connection refused or reset) is sent
// again after a backoff, READ_RETRIES times at most. Neither official client retries 429,
// and they retry a 503 at once, when a starting shard answers the same: their own retries are
// off for searches, so that each try is counted (EngineClient.stats) and waited for.
// The waits stay short (a client is waiting for the answer) and end at once when the query's
// signal fires (its deadline or a client that went away). What is still refused after that
// fails the whole question: a partial answer is never returned as if it were whole.

export interface SearchRetry {
  /** Retries after the first try. */
  attempts: number
  initialMs: number
  maxMs: number
}

export const READ_RETRIES: SearchRetry = { attempts: 3, initialMs: 100, maxMs: 1000 }

export interface SearchOptions {
  signal?: AbortSignal | undefined
  /** A missing index answers null (nothing was written yet) instead of failing. */
  missingOk?: boolean
  retry?: SearchRetry
}

interface Answer { timed_out?: boolean, _shards?: { failed?: number } }

/** A search that answered for part of the data only: retried, then reported. */
class PartialAnswer extends EngineError {
  constructor (why: string) { super('response', why) }
}

/** POST `path` (`/<index>/_search` or `/_search`); see above for retries and errors. */
export async function engineSearch<T> (engine: EngineClient, path: string, body: unknown, opts: SearchOptions = {}): Promise<T | null> {
  const { signal } = opts
  const retry = opts.retry ?? READ_RETRIES
  for (let attempt = 0; ; attempt++) {
    if (aborted(signal)) throw readError(undefined, engine.product, signal)
    try {
      // Retries are made here, with backoff, each counted in the client's stats.
      const r = await engine.request<T & Answer>({ method: 'POST', path, body }, signal ? { signal, maxRetries: 0 } : { maxRetries: 0 })
      if (r.timed_out === true) throw new PartialAnswer('timed out')
      if ((r._shards?.failed ?? 0) > 0) throw new PartialAnswer(`${r._shards!.failed} shards failed`)
      return r
    } catch (err) {
      const status = statusOf(err)
      if (opts.missingOk === true && status === 404 && !aborted(signal)) return null
      const again = err instanceof PartialAnswer || status === 429 || status === 502 || status === 503 || status === 504 || (err instanceof EngineError && err.kind === 'connection')
      if (!again || attempt >= retry.attempts || aborted(signal)) {
        if (err instanceof PartialAnswer) throw new DaytwoError('STORE_UNAVAILABLE', `${engine.product} answered for part of the data only (${err.message}, after ${attempt + 1} tries); try again`)
        throw readError(err, engine.product, signal)
      }
      await pause(backoffMs(attempt, { initialMs: retry.initialMs, maxMs: retry.maxMs, floor: 0.5 }), signal)
    }
  }
}

/** Read through a call: the signal may fire while a request is in flight. */
function aborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** Waits `ms`, or less when the signal fires (the loop above then reports the abort). */
async function pause (ms: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve() }
    const t = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
