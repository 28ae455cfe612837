import { readFileSync } from 'node:fs'
import { Client, errors, type ClientOptions } from '@opensearch-project/opensearch'
import type { OpenSearchConfig } from '../../core/config/elasticsearch.js'
import { EngineError, countRequest, requestStats, responseError, transportParams, type EngineClient, type EngineRequest, type EngineRequestOptions } from '../search-engine/engine-client.js'
import { userAgent } from '../../core/version.js'

export const USER_AGENT = userAgent('opensearch store')

/** The official OpenSearch client as an EngineClient: auth, CA, gzip requests, our User-Agent. */
export function createOpenSearchClient (cfg: OpenSearchConfig): EngineClient {
  const opts: ClientOptions = {
    node: cfg.url,
    compression: 'gzip',
    requestTimeout: cfg.requestTimeoutMs,
    maxRetries: 2,
    headers: { 'user-agent': USER_AGENT }
  }
  if (cfg.username) opts.auth = { username: cfg.username, password: cfg.password }
  if (cfg.caFile) opts.ssl = { ca: readFileSync(cfg.caFile, 'utf8') }
  if (cfg.apiKey) opts.headers = { ...opts.headers, authorization: `ApiKey ${cfg.apiKey}` }
  const client = new Client(opts)
  const url = cfg.url
  const stats = requestStats()
  return {
    product: 'OpenSearch',
    url,
    stats,
    async request<T> (req: EngineRequest, o: EngineRequestOptions = {}): Promise<T> {
      if (o.signal?.aborted === true) throw new EngineError('aborted', 'request aborted before it was sent')
      countRequest(stats, req.path)
      const ro: Record<string, unknown> = {}
      if (o.maxRetries !== undefined) ro.maxRetries = o.maxRetries
      const p = client.transport.request(transportParams(req) as never, ro)
      // abort() can throw the client's RequestAbortedError synchronously as well as reject
      // the request with it; the rejection is what reports it (below), so the throw is dropped
      // here, where it would escape from the AbortSignal's listener and end the process.
      const onAbort = () => { try { p.abort() } catch { /* reported by the rejection */ } }
      o.signal?.addEventListener('abort', onAbort, { once: true })
      try {
        const r = await p
        return r.body as T
      } catch (err) {
        throw toEngineError(err, url)
      } finally {
        o.signal?.removeEventListener('abort', onAbort)
      }
    },
    close: async () => { await client.close() }
  }
}

function toEngineError (err: unknown, url: string): EngineError {
  if (err instanceof errors.ResponseError) return responseError(err.statusCode, err.body, err.message)
  if (err instanceof errors.RequestAbortedError) return new EngineError('aborted', 'request aborted')
  if (err instanceof errors.TimeoutError) return new EngineError('timeout', `request to ${url} timed out`)
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) return new EngineError('connection', `cannot connect to ${url}: ${(err as Error).message}`)
  return new EngineError('other', (err as Error).message)
}
