import { createGunzip } from 'node:zlib'
import { DaytwoError } from '../core/errors.js'

// Gzip bodies are inflated as a stream, chunk by chunk, against two limits: the request's own
// (maxBodyBytes once decompressed: a bomb stops there with 413) and a budget shared by every
// request in flight (inflated bytes held at once), so that many bombs at the same moment
// cannot add up: a request that would pass the budget is answered 503 with Retry-After, and
// the forwarder sends it again later. The budget is given back when the request is done.

export class InflateBudget {
  private held = 0
  constructor (readonly bytes: number) {}

  /** Take `n` bytes of the budget; false (nothing taken) when that would pass it. */
  take (n: number): boolean {
    if (this.held + n > this.bytes) return false
    this.held += n
    return true
  }

  give (n: number): void { this.held = Math.max(0, this.held - n) }
  get inUse (): number { return this.held }
}

export type InflateFailure = 'too_large' | 'busy' | 'malformed' | 'bad_encoding'

/** Why inflating failed (the drop reason) and the error to answer with. */
export class InflateError extends Error {
  constructor (readonly failure: InflateFailure, readonly error: DaytwoError) {
    super(error.message)
  }
}

/**
 * Inflate `raw`, at most `limit` bytes out, charging `budget` as it goes. Resolves to the
 * body and a `release` to call once the body is no longer held. Throws InflateError.
 */
export async function inflate (raw: Buffer, limit: number, budget: InflateBudget): Promise<{ body: Buffer, release: () => void }> {
  let charged = 0
  const release = () => { budget.give(charged); charged = 0 }
  const chunks: Buffer[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      const z = createGunzip({ chunkSize: 64 * 1024 })
      let total = 0
      const stop = (e: InflateError) => { z.destroy(); reject(e) }
      z.on('data', (c: Buffer) => {
        total += c.length
        if (total > limit) { stop(new InflateError('too_large', new DaytwoError('BATCH_TOO_LARGE', String(limit)))); return }
        if (!budget.take(c.length)) { stop(new InflateError('busy', new DaytwoError('INFLATE_BUSY'))); return }
        charged += c.length
        chunks.push(c)
      })
      z.on('error', (err) => reject(new InflateError('malformed', new DaytwoError('BAD_BATCH', `gzip: ${err.message}`))))
      z.on('end', () => resolve())
      z.end(raw)
    })
  } catch (err) {
    chunks.length = 0
    release()
    throw err
  }
  return { body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), release }
}

/**
 * A request's body as its Content-Encoding says (gzip or identity), for every receiver: the
 * forwarder's endpoint and those of other agents' protocols. Throws InflateError; each
 * receiver answers it in its protocol's shape, counted under `rejectReason`.
 */
export async function openBody (raw: Buffer, contentEncoding: string | undefined, limit: number, budget: InflateBudget): Promise<{ body: Buffer, release: () => void }> {
  const encoding = (contentEncoding ?? 'identity').toLowerCase()
  if (encoding === 'gzip') return await inflate(raw, limit, budget)
  if (encoding === 'identity') return { body: raw, release: () => {} }
  throw new InflateError('bad_encoding', new DaytwoError('BAD_ENCODING', encoding))
}

/** The refusal reason a failed body counts under (collector_rejected_requests_total). */
export function rejectReason (failure: InflateFailure): 'inflate_busy' | 'too_large' | 'malformed_batch' | 'bad_encoding' {
  return failure === 'busy' ? 'inflate_busy' : failure === 'too_large' ? 'too_large' : failure === 'bad_encoding' ? 'bad_encoding' : 'malformed_batch'
}
