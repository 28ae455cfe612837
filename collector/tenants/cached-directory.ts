import { LRUCache } from 'lru-cache'
import { DirectoryError } from './http-json.js'
import type { TenantAnswer, TenantDirectory } from './tenant.js'

/** A directory answer as cached: a tenant, null (the directory has none), or a failure. */
export type Cached = { ok: true, answer: TenantAnswer | null } | { ok: false, reason: string }

export interface CacheOptions {
  ttlMs: number
  failureTtlMs: number
  max: number
  /** Called once per request the directory answered or failed (for metrics). */
  onRequest?: (outcome: 'ok' | 'not_found' | 'error', err?: Error) => void
}

/**
 * A directory behind lru-cache: bounded, one request in flight per key (fetchMethod), each key
 * asked at most once per TTL, stale answers served while a refresh is in flight, and failures
 * remembered for failureTtlMs so that a broken directory is not asked on every batch.
 */
export class CachedDirectory {
  private readonly cache: LRUCache<string, Cached>

  constructor (readonly directory: TenantDirectory, opts: CacheOptions) {
    this.cache = new LRUCache<string, Cached>({
      max: opts.max,
      ttl: opts.ttlMs,
      allowStale: true,
      noDeleteOnFetchRejection: true,
      fetchMethod: async (key, _stale, { signal, options }) => {
        try {
          const answer = await directory.resolve(key, signal)
          opts.onRequest?.(answer === null ? 'not_found' : 'ok')
          return { ok: true, answer }
        } catch (err) {
          opts.onRequest?.('error', err as Error)
          options.ttl = Math.min(opts.failureTtlMs, opts.ttlMs)
          return { ok: false, reason: err instanceof DirectoryError ? err.reason : 'unreachable' }
        }
      }
    })
  }

  /** The answer now when one is cached (fresh or stale, refreshing it if stale), else a promise of it. */
  lookup (key: string): Cached | Promise<Cached> {
    const p = this.cache.fetch(key).then((v) => v ?? { ok: false, reason: 'aborted' } as Cached, () => ({ ok: false, reason: 'aborted' } as Cached))
    return this.cache.get(key) ?? p
  }

  get size (): number { return this.cache.size }
}
