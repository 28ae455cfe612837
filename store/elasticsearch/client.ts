import { readFileSync } from 'node:fs'
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch'
import type { ElasticsearchConfig } from '../../core/config/elasticsearch.js'
import { DaytwoError } from '../../core/errors.js'

export const USER_AGENT = 'daytwo/0.1.0 (elasticsearch store)'

/** The client the configuration describes: auth, CA, gzip both ways, our User-Agent. */
export function createClient (cfg: ElasticsearchConfig): Client {
  const opts: ClientOptions = {
    node: cfg.url,
    compression: true,
    requestTimeout: cfg.requestTimeoutMs,
    // Bulk requests are retried item by item in bulk-service.ts; other calls get a few tries.
    maxRetries: 2,
    headers: { 'user-agent': USER_AGENT }
  }
  if (cfg.apiKey) opts.auth = { apiKey: cfg.apiKey }
  else if (cfg.username) opts.auth = { username: cfg.username, password: cfg.password }
  if (cfg.caFile) opts.tls = { ca: readFileSync(cfg.caFile, 'utf8') }
  return new Client(opts)
}

/** HTTP status of a client error, or undefined when there was no response. */
export function statusOf (err: unknown): number | undefined {
  if (err instanceof errors.ResponseError) return err.statusCode ?? undefined
  return undefined
}

/** One readable line for an Elasticsearch client error. */
export function describe (err: unknown, url: string): string {
  if (err instanceof errors.ProductNotSupportedError) {
    return `${url} answered without the header x-elastic-product: Elasticsearch, so it is not Elasticsearch (or a proxy strips the header); check store.elasticsearch.url`
  }
  if (err instanceof errors.ResponseError) {
    const body = err.body as { error?: { type?: string, reason?: string } | string } | undefined
    const e = body?.error
    const why = typeof e === 'string' ? e : e ? `${e.type ?? ''}: ${e.reason ?? ''}` : err.message
    return `HTTP ${err.statusCode ?? '?'} ${why}`
  }
  if (err instanceof errors.ConnectionError) return `cannot connect to ${url}: ${err.message}`
  if (err instanceof errors.TimeoutError) return `request to ${url} timed out`
  return (err as Error).message
}

/** Errors no retry can fix: a wrong URL (not Elasticsearch) or credentials. */
export function fatal (err: unknown, url: string): DaytwoError | null {
  if (err instanceof errors.ProductNotSupportedError) return new DaytwoError('ES_NOT_ELASTICSEARCH', describe(err, url))
  const status = statusOf(err)
  if (status === 401 || status === 403) return new DaytwoError('STORE_UNAVAILABLE', `Elasticsearch refused our credentials: ${describe(err, url)}`)
  return null
}
