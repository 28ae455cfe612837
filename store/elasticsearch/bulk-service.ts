import { DaytwoError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import { backoffMs, sleep, type BackoffOptions } from '../../core/backoff.js'
import { describe, fatal, statusOf, type EngineClient } from '../search-engine/engine-client.js'
import { Limiter } from './limiter.js'

// Sends bulk operations until each one has a final answer, as Vector's elasticsearch sink
// and Filebeat do: per-item 429 and 5xx (and whole-request 429/5xx or no answer) are retried
// with backoff; HTTP 413 for a whole request splits it in halves; every other item status
// is final and returned to the caller, which decides (201 new, 409 already there, other 4xx
// to the dead letter).

export interface BulkOp {
  /** The action line and, for create/index/update, the source line, each ending in \n. */
  ndjson: string
}

export interface BulkItemResult {
  status: number
  error?: unknown
}

export interface BulkServiceOptions {
  url: string
  maxBytes: number
  maxDocs: number
  concurrency: number
  backoff: BackoffOptions
  log: Logger
}

interface BulkResponse {
  errors?: boolean
  items?: Array<Record<string, { status: number, error?: unknown }>>
}

/** Item statuses worth retrying: the cluster was busy or broken, not the document. */
export function retryable (status: number): boolean {
  return status === 429 || status >= 500
}

export class BulkService {
  private readonly limiter: Limiter
  /** Requests sent and retry rounds, for tests and metrics. */
  readonly stats = { requests: 0, retriedItems: 0, splits: 0 }

  constructor (private readonly client: EngineClient, private readonly opts: BulkServiceOptions) {
    this.limiter = new Limiter(opts.concurrency)
  }

  /**
   * Every op's final result, in order. `path` is `/<index>/_bulk` or `/_bulk`. Rejects with
   * DAYTWO_ERR_STORE_UNAVAILABLE when some ops still have no final answer at `deadline`.
   */
  async run (path: string, ops: BulkOp[], deadline: number): Promise<BulkItemResult[]> {
    const results: Array<BulkItemResult | undefined> = new Array(ops.length)
    let pending = ops.map((_, i) => i)
    let lastProblem = ''
    for (let attempt = 0; pending.length > 0; attempt++) {
      const retry: number[] = []
      await Promise.all(this.chunks(ops, pending).map((chunk) => this.limiter.run(async () => {
        const problem = await this.send(path, ops, chunk, results, retry)
        if (problem) lastProblem = problem
      })))
      if (retry.length === 0) break
      this.stats.retriedItems += retry.length
      const wait = backoffMs(attempt, this.opts.backoff)
      if (Date.now() + wait > deadline) {
        throw new DaytwoError('STORE_UNAVAILABLE', `${this.client.product} did not take ${retry.length} of ${ops.length} operations in time (last: ${lastProblem})`)
      }
      this.opts.log.warn({ retry: retry.length, of: ops.length, attempt, waitMs: wait, last: lastProblem }, `${this.client.product.toLowerCase()}: retrying bulk operations`)
      await sleep(wait)
      pending = retry.sort((a, b) => a - b)
    }
    return results as BulkItemResult[]
  }

  /** Consecutive runs of ops within the byte and count limits. */
  private chunks (ops: BulkOp[], idx: number[]): number[][] {
    const out: number[][] = []
    let cur: number[] = []
    let bytes = 0
    for (const i of idx) {
      const n = Buffer.byteLength(ops[i]!.ndjson)
      if (cur.length > 0 && (cur.length >= this.opts.maxDocs || bytes + n > this.opts.maxBytes)) {
        out.push(cur)
        cur = []
        bytes = 0
      }
      cur.push(i)
      bytes += n
    }
    if (cur.length > 0) out.push(cur)
    return out
  }

  /** One request; fills final results, pushes retryable ops; returns why some must be retried. */
  private async send (path: string, ops: BulkOp[], chunk: number[], results: Array<BulkItemResult | undefined>, retry: number[]): Promise<string | undefined> {
    let body = ''
    for (const i of chunk) body += ops[i]!.ndjson
    let res: BulkResponse
    try {
      this.stats.requests++
      res = await this.client.request<BulkResponse>(
        { method: 'POST', path, bulkBody: body, querystring: { filter_path: 'errors,items.*.status,items.*.error' } },
        { maxRetries: 0 }
      )
    } catch (err) {
      const fatalErr = fatal(err, this.client.product)
      if (fatalErr) throw fatalErr
      const status = statusOf(err)
      if (status === 413) {
        if (chunk.length === 1) {
          results[chunk[0]!] = { status: 413, error: { type: 'request_entity_too_large', reason: `one operation of ${body.length} bytes exceeds the cluster's http.max_content_length` } }
          return undefined
        }
        // Too large for the cluster: halve and send both halves now (no backoff, nothing was busy).
        this.stats.splits++
        const mid = chunk.length >> 1
        const a = await this.send(path, ops, chunk.slice(0, mid), results, retry)
        const b = await this.send(path, ops, chunk.slice(mid), results, retry)
        return a ?? b
      }
      if (status === undefined || retryable(status)) {
        retry.push(...chunk)
        return describe(err)
      }
      // Any other status for the whole request is a bug on our side or a broken proxy.
      throw new DaytwoError('STORE_UNAVAILABLE', `bulk request refused: ${describe(err)}`)
    }
    const items = res.items ?? []
    if (items.length !== chunk.length) {
      throw new DaytwoError('STORE_UNAVAILABLE', `bulk response has ${items.length} items for ${chunk.length} operations`)
    }
    let problem: string | undefined
    for (let k = 0; k < chunk.length; k++) {
      const item = items[k]!
      const r = item.create ?? item.index ?? item.update ?? item.delete ?? Object.values(item)[0]!
      if (retryable(r.status)) {
        retry.push(chunk[k]!)
        const e = r.error as { type?: string } | undefined
        problem = `item status ${r.status} ${e?.type ?? ''}`.trim()
      } else {
        results[chunk[k]!] = r.error === undefined ? { status: r.status } : { status: r.status, error: r.error }
      }
    }
    return problem
  }
}
