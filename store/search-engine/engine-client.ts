import { DaytwoError } from '../../core/errors.js'

// One HTTP client shape for Elasticsearch and OpenSearch, so the query translation, the bulk
// writer and the bookkeeping are written once (store/search-engine/). Each product wraps its
// official client (store/elasticsearch/client.ts, store/opensearch/client.ts) and maps that
// client's errors to EngineError. Every request goes through `request`, which counts it:
// tests state how many requests a query shape makes by reading `requests`.

export type Product = 'Elasticsearch' | 'OpenSearch'

export interface EngineRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD'
  path: string
  body?: unknown
  /** NDJSON for _bulk. */
  bulkBody?: string
  querystring?: Record<string, string | number | boolean>
}

export interface EngineRequestOptions {
  /** Aborts the HTTP request (the engine then cancels the search task). */
  signal?: AbortSignal
  /** Retries by the client on connection errors and 502/503/504 (default: the client's). */
  maxRetries?: number
}

export type EngineErrorKind = 'response' | 'connection' | 'timeout' | 'aborted' | 'not-product' | 'other'

/** A failed request, whichever client made it. */
export class EngineError extends Error {
  constructor (readonly kind: EngineErrorKind, message: string, readonly status?: number, readonly body?: unknown) {
    super(message)
    this.name = 'EngineError'
  }
}

export interface EngineClient {
  readonly product: Product
  readonly url: string
  /** Requests sent (each retry by the client counts once more only where the client says so). */
  readonly stats: { requests: number, byPath: Map<string, number> }
  request<T> (req: EngineRequest, opts?: EngineRequestOptions): Promise<T>
  close (): Promise<void>
}

/** HTTP status of a failed request, or undefined when there was no response. */
/** An engine's HTTP error answer as one EngineError: both clients' ResponseError carry the same body. */
export function responseError (statusCode: number | null | undefined, body: unknown, message: string): EngineError {
  const e = (body as { error?: { type?: string, reason?: string } | string } | undefined)?.error
  const why = typeof e === 'string' ? e : e ? `${e.type ?? ''}: ${e.reason ?? ''}` : message
  return new EngineError('response', `HTTP ${statusCode ?? '?'} ${why}`, statusCode ?? undefined, body)
}

export function statusOf (err: unknown): number | undefined {
  return err instanceof EngineError ? err.status : undefined
}

/** One readable line for a failed request. */
export function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Errors no retry can fix: a wrong URL (not the product) or credentials. */
export function fatal (err: unknown, product: Product): DaytwoError | null {
  if (err instanceof EngineError && err.kind === 'not-product') return new DaytwoError('ES_NOT_ELASTICSEARCH', err.message)
  const status = statusOf(err)
  if (status === 401 || status === 403) return new DaytwoError('STORE_UNAVAILABLE', `${product} refused our credentials: ${describe(err)}`)
  return null
}

/**
 * The error a read gives for a failed request: aborted (the client went away or the deadline
 * passed), busy (429: the cluster is shedding load), or unavailable. A read that fails midway
 * throws: it never returns what it had so far as if it were the whole answer.
 */
export function readError (err: unknown, product: Product, signal?: AbortSignal): DaytwoError {
  if (signal?.aborted === true || (err instanceof EngineError && err.kind === 'aborted')) {
    return new DaytwoError('STORE_UNAVAILABLE', `${product} search cancelled: ${reasonOf(signal) ?? 'the request was aborted'}`)
  }
  const f = fatal(err, product)
  if (f) return f
  const status = statusOf(err)
  if (status === 429) return new DaytwoError('STORE_UNAVAILABLE', `${product} is overloaded (HTTP 429, after retries); try again later: ${describe(err)}`)
  if (err instanceof EngineError && err.kind === 'timeout') return new DaytwoError('STORE_UNAVAILABLE', `${product} did not answer in time: ${describe(err)}`)
  if (err instanceof DaytwoError) return err
  return new DaytwoError('STORE_UNAVAILABLE', `${product}: ${describe(err)}`)
}

function reasonOf (signal?: AbortSignal): string | undefined {
  const r: unknown = signal?.reason
  if (r === undefined) return undefined
  return r instanceof Error ? r.message : String(r)
}

/** Counts a request in the stats (by path without the index, e.g. `_search`, `_bulk`). */
export function countRequest (stats: EngineClient['stats'], path: string): void {
  stats.requests++
  const key = path.split('?')[0]!.split('/').filter((p) => p.startsWith('_')).join('/') || '/'
  stats.byPath.set(key, (stats.byPath.get(key) ?? 0) + 1)
}

/** A client's new request counts (EngineClient.stats). */
export function requestStats (): EngineClient['stats'] {
  return { requests: 0, byPath: new Map<string, number>() }
}

/** The parameters of `transport.request` for a request: both clients' transports (Elasticsearch's, OpenSearch's) take this shape. */
export function transportParams (req: EngineRequest): Record<string, unknown> {
  const params: Record<string, unknown> = { method: req.method, path: req.path }
  if (req.body !== undefined) params.body = req.body
  if (req.bulkBody !== undefined) params.bulkBody = req.bulkBody
  if (req.querystring !== undefined) params.querystring = req.querystring
  return params
}
