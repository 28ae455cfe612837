import { LRUCache } from 'lru-cache'
import { isReceiverSource, type Entry, type StreamBatch, type StreamTags } from '../../core/record.js'
import type { DropRow } from '../../store/log-store.js'
import { DecisionLog } from './decision-log.js'
import { noticeBatch, noticeMessage } from './notice.js'
import type { LimitRules } from './rules.js'
import { TokenBucket } from './token-bucket.js'

// Cloud Foundry's log-rate-limit for daytwo: a token bucket in bytes per second per app
// (burst = limit) and optionally per org. Excess records are dropped, never queued or waited
// for, so one tenant's flood cannot delay another tenant's records.
//
// Limits run BEFORE the store and AFTER the limiter's own idempotency check (DecisionLog): a
// record is charged and decided the first time this collector sees its (stream, offset); a
// retry of the batch reproduces the first decisions without charging again. So a retry after a
// lost acknowledgement or a failed store write cannot drop what was already admitted, and a
// record dropped once is never stored later nor counted as dropped twice.

export const RATE_LIMITED = 'rate_limited'

export interface LimitResult {
  /** What goes to the store: admitted records, and notices not yet committed. */
  batches: StreamBatch[]
  /** Records newly dropped, by org/app. */
  drops: DropRow[]
  droppedLines: number
  droppedBytes: number
}

interface Episode { start: number, last: number }

export interface RateLimiterOptions {
  episodeMs: number
  clock?: () => number
  /** Streams whose decisions are remembered (retries of older batches are decided afresh). */
  maxStreams?: number
  /** Tenants whose buckets are kept. */
  maxTenants?: number
}

export class RateLimiter {
  private readonly decisions: DecisionLog
  private readonly appBuckets: LRUCache<string, TokenBucket>
  private readonly orgBuckets: LRUCache<string, TokenBucket>
  private readonly episodes: LRUCache<string, Episode>
  /** Notices until a write carrying them commits; keyed by stream id and offset. */
  private readonly notices = new Map<string, StreamBatch>()
  private readonly clock: () => number

  constructor (private readonly rules: LimitRules, private readonly opts: RateLimiterOptions) {
    this.clock = opts.clock ?? Date.now
    this.decisions = new DecisionLog(opts.maxStreams ?? 100_000)
    const max = opts.maxTenants ?? 100_000
    this.appBuckets = new LRUCache({ max })
    this.orgBuckets = new LRUCache({ max })
    this.episodes = new LRUCache({ max })
  }

  get enabled (): boolean { return this.rules.enabled }

  apply (batches: StreamBatch[]): LimitResult {
    const now = this.clock()
    const out: StreamBatch[] = []
    const drops = new Map<string, DropRow>()
    let droppedLines = 0
    let droppedBytes = 0
    for (const group of batches) {
      const t = group.stream
      const org = t.org
      const app = t.app
      // Records without a tenant (platform components) are not limited.
      const appLimit = org && app ? this.rules.forApp(org, app) : undefined
      const orgLimit = org && app ? this.rules.forOrg(org) : undefined
      if (!appLimit && !orgLimit) { out.push(group); continue }
      const appBucket = appLimit ? this.bucket(this.appBuckets, org + '/' + app, appLimit.bytesPerSecond, now) : undefined
      const orgBucket = orgLimit ? this.bucket(this.orgBuckets, org!, orgLimit.bytesPerSecond, now) : undefined
      // A receiver's offsets are record keys, not positions (core/record.ts isReceiverSource):
      // the decision log's high-water mark would take every key below the highest seen as
      // decided and admitted, so nothing after that key would ever be limited. Its lines are
      // decided afresh each time instead (a retry of an admitted line is charged again).
      const dec = isReceiverSource(t.source) ? undefined : this.decisions.for(t.id)
      const kept: Entry[] = []
      for (const e of group.entries) {
        const off = e[1]
        if (dec !== undefined && off <= dec.decided) {
          if (!dec.wasDropped(off)) kept.push(e)
          continue
        }
        const bytes = Buffer.byteLength(e[2])
        const appOk = appBucket === undefined || appBucket.has(bytes, now)
        const orgOk = orgBucket === undefined || orgBucket.has(bytes, now)
        if (appOk && orgOk) {
          appBucket?.take(bytes)
          orgBucket?.take(bytes)
          dec?.admit(off)
          kept.push(e)
          continue
        }
        dec?.drop(off)
        droppedLines++
        droppedBytes += bytes
        const key = org + '\0' + app
        const row = drops.get(key)
        if (row) { row.lines++; row.bytes += bytes } else drops.set(key, { org: org!, app: app!, reason: RATE_LIMITED, lines: 1, bytes })
        this.episode(t, appOk ? 'org' : 'app', appOk ? orgLimit!.bytesPerSecond : appLimit!.bytesPerSecond, now)
      }
      if (kept.length === group.entries.length) out.push(group)
      else if (kept.length > 0) out.push({ stream: t, entries: kept })
    }
    for (const n of this.notices.values()) out.push(n)
    return { batches: out, drops: [...drops.values()], droppedLines, droppedBytes }
  }

  /** The store committed these batches: notices among them need not be sent again. */
  committed (batches: StreamBatch[]): void {
    if (this.notices.size === 0) return
    // Only the notices themselves are looked at: the other batches' records may have been
    // handed to the store (LogStore.write) and be unreadable here.
    const written = new Set(batches)
    for (const [key, n] of this.notices) if (written.has(n)) this.notices.delete(key)
  }

  private bucket (cache: LRUCache<string, TokenBucket>, key: string, rate: number, now: number): TokenBucket {
    let b = cache.get(key)
    if (!b || b.rate !== rate) { b = new TokenBucket(rate, rate, now); cache.set(key, b) }
    return b
  }

  private episode (t: StreamTags, scope: 'app' | 'org', bytesPerSecond: number, now: number): void {
    const key = t.org + '\0' + t.app
    const ep = this.episodes.get(key)
    if (ep && now - ep.last <= this.opts.episodeMs) { ep.last = now; return }
    this.episodes.set(key, { start: now, last: now })
    const n = noticeBatch(t, noticeMessage(scope, t, bytesPerSecond), now)
    this.notices.set(n.stream.id + ':' + now, n)
  }
}
