import { entryCount } from '../../core/frames.js'
import type { StreamBatch, StreamTags } from '../../core/record.js'
import type { Cached, CachedDirectory } from './cached-directory.js'
import type { StaticMapping } from './static-mapping.js'
import { UNKNOWN_ORG, type TenantAnswer } from './tenant.js'

export interface EnrichFailure {
  directory: string
  /** timeout | unreachable | status | bad_answer | waiting (no answer within lookupWaitMs) */
  reason: string
  records: number
}

export interface EnricherOptions {
  mapping: StaticMapping | null
  /** Asked in order; a stream goes to the first directory that has a key for it. */
  directories: CachedDirectory[]
  /** How long a batch waits for answers not cached yet. */
  waitMs: number
  onFailure: (f: EnrichFailure) => void
  /** Whether a stream's forwarder may name its tenant (collector.tenants.trustForwarderTenants); null: never. */
  trustForwarder?: ((tags: StreamTags) => boolean) | null
  /** Records whose forwarder named a tenant that was not honoured. */
  onUntrustedClaim?: (records: number) => void
}

/**
 * Fills org, space and app on each stream of a batch: the static mapping first, then what the
 * forwarder said where its deployment is trusted for that (trustForwarder), then the first
 * directory with a key for the stream. Anything else a forwarder put in org, space or app is
 * removed: the collector decides tenancy, so a forwarder cannot put its lines into another
 * org's logs and usage. A batch never waits longer than waitMs on a directory: streams still
 * unanswered then (or whose directory failed) pass with org `unknown`.
 */
export class Enricher {
  constructor (private readonly opts: EnricherOptions) {}

  get enabled (): boolean { return this.opts.mapping !== null || this.opts.directories.length > 0 }

  async enrich (batches: StreamBatch[]): Promise<StreamBatch[]> {
    let pending: Array<{ group: StreamBatch, dir: string, answer: Promise<Cached>, settled?: Cached }> | null = null
    let untrusted = 0
    for (const group of batches) {
      const tags = group.stream
      const claim = takeClaim(tags)
      const fixed = this.opts.mapping?.lookup(tags)
      if (fixed) {
        apply(tags, fixed)
        if (claim !== null) untrusted += entryCount(group)
        continue
      }
      if (claim !== null) {
        if (claim.org && this.opts.trustForwarder?.(tags) === true) {
          // A trusted forwarder's claim stands as it was made (no app is made up for it).
          tags.org = claim.org
          if (claim.space !== undefined) tags.space = claim.space
          if (claim.app !== undefined) tags.app = claim.app
          continue
        }
        untrusted += entryCount(group)
      }
      for (const d of this.opts.directories) {
        const key = d.directory.key(tags)
        if (key === null) continue
        const got = d.lookup(key)
        if (got instanceof Promise) (pending ??= []).push({ group, dir: d.directory.name, answer: got })
        else this.settle(group, d.directory.name, got)
        break
      }
    }
    if (untrusted > 0) this.opts.onUntrustedClaim?.(untrusted)
    if (pending === null) return batches
    for (const p of pending) void p.answer.then((v) => { p.settled = v })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(pending.map((p) => p.answer)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, this.opts.waitMs) })
    ])
    clearTimeout(timer)
    for (const p of pending) this.settle(p.group, p.dir, p.settled ?? { ok: false, reason: 'waiting' })
    return batches
  }

  private settle (group: StreamBatch, dir: string, got: Cached): void {
    if (got.ok) {
      if (got.answer) apply(group.stream, got.answer)
      return
    }
    group.stream.org = UNKNOWN_ORG
    group.stream.space = ''
    group.stream.app = group.stream.app ?? group.stream.job
    this.opts.onFailure({ directory: dir, reason: got.reason, records: entryCount(group) })
  }
}

/** Remove what the forwarder said of the stream's tenant; null when it said nothing. */
function takeClaim (tags: StreamTags): { org?: string | undefined, space?: string | undefined, app?: string | undefined } | null {
  if (tags.org === undefined && tags.space === undefined && tags.app === undefined) return null
  const claim = { org: tags.org, space: tags.space, app: tags.app }
  delete tags.org
  delete tags.space
  delete tags.app
  return claim
}

function apply (tags: StreamTags, a: TenantAnswer): void {
  tags.org = a.org
  tags.space = a.space
  tags.app = a.app ?? tags.job
}
