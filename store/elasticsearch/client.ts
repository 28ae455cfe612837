import { readFileSync } from 'node:fs'
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch'
import type { ElasticsearchConfig } from '../../core/config/elasticsearch.js'
import type { DaytwoError } from '../../core/errors.js'
import { EngineError, countRequest, requestStats, responseError, transportParams, fatal as engineFatal, type EngineClient, type EngineRequest, type EngineRequestOptions } from '../search-engine/engine-client.js'
import { userAgent } from '../../core/version.js'

export const USER_AGENT = userAgent('elasticsearch store')

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

/** The Elasticsearch client as an EngineClient (store/search-engine/engine-client.ts). */
export function engineClient (client: Client, url: string): EngineClient {
  const stats = requestStats()
  return {
    product: 'Elasticsearch',
    url,
    stats,
    async request<T> (req: EngineRequest, opts: EngineRequestOptions = {}): Promise<T> {
      countRequest(stats, req.path)
      try {
        const o: Record<string, unknown> = {}
        if (opts.signal) o.signal = opts.signal
        if (opts.maxRetries !== undefined) o.maxRetries = opts.maxRetries
        return await client.transport.request<T>(transportParams(req) as never, o)
      } catch (err) {
        throw toEngineError(err, url)
      }
    },
    close: async () => { await client.close() }
  }
}

function toEngineError (err: unknown, url: string): EngineError {
  if (err instanceof errors.ProductNotSupportedError) {
    return new EngineError('not-product', `${url} answered without the header x-elastic-product: Elasticsearch, so it is not Elasticsearch (or a proxy strips the header); check store.elasticsearch.url`)
  }
  if (err instanceof errors.ResponseError) return responseError(err.statusCode, err.body, err.message)
  if (err instanceof errors.RequestAbortedError) return new EngineError('aborted', 'request aborted')
  if (err instanceof errors.ConnectionError) return new EngineError('connection', `cannot connect to ${url}: ${err.message}`)
  if (err instanceof errors.TimeoutError) return new EngineError('timeout', `request to ${url} timed out`)
  return new EngineError('other', (err as Error).message)
}

/** Errors no retry can fix: a wrong URL (not Elasticsearch) or credentials. */
export function fatal (err: unknown, url: string): DaytwoError | null {
  return engineFatal(err instanceof EngineError ? err : toEngineError(err, url), 'Elasticsearch')
}
