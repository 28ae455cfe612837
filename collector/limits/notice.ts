import { createHash } from 'node:crypto'
import type { StreamBatch, StreamTags } from '../../core/record.js'

// The line a rate-limited app finds in its own logs, once per episode, as Cloud Foundry writes
// "app instance exceeded log rate limit (N bytes/sec)". Its id is deterministic — one stream
// per app, the offset is the episode's start in Unix ms — so sending it again (until a write
// that carries it commits) never stores it twice.

export function noticeStreamId (org: string, app: string): string {
  return 'daytwo-rate-limit-' + createHash('sha256').update(org + '\0' + app).digest('hex').slice(0, 24)
}

export function noticeMessage (scope: 'app' | 'org', tags: StreamTags, bytesPerSecond: number): string {
  return scope === 'app'
    ? `daytwo: app ${tags.app} exceeded log rate limit (${bytesPerSecond} bytes/sec); lines over the limit are dropped until it is under it again`
    : `daytwo: org ${tags.org} exceeded log rate quota (${bytesPerSecond} bytes/sec); lines of app ${tags.app} over the quota are dropped until the org is under it again`
}

export function noticeBatch (from: StreamTags, message: string, episodeStartMs: number): StreamBatch {
  const org = from.org ?? ''
  const app = from.app ?? ''
  const stream: StreamTags = {
    id: noticeStreamId(org, app),
    source: 'file',
    node: from.node,
    deployment: from.deployment,
    job: from.job,
    index: from.index,
    process: 'daytwo',
    path: 'daytwo://rate-limit',
    org,
    space: from.space ?? '',
    app
  }
  return { stream, entries: [[(BigInt(episodeStartMs) * 1_000_000n).toString(), episodeStartMs, message, 'stderr']] }
}
