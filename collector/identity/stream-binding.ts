import { streamId } from '../../core/ids.js'
import type { StreamBatch } from '../../core/record.js'

// A forwarder names its streams (core/ids.ts: a hash of node and file or sender) and the
// store keeps one set of tags per stream id, updating them when a write brings others. If the
// collector stored the id as sent, any token holder who learnt another forwarder's stream id
// (it is in every query answer) could re-send it with other tags and move that stream's stored
// lines to another deployment, and so to another tenant; or send a huge offset into it, after
// which every real line of the stream would look like a duplicate.
//
// So the stored id is derived from who sent it and what they called it: a hash of the token's
// identity (core/auth.ts TokenSet.identify) and the claimed id. Another token's streams are
// out of reach by construction (no lookup, no race), and a retry of the same batch by the same
// forwarder maps to the same ids, so writes stay idempotent.

/**
 * The id under which a stream claimed as `claimed` by the forwarder `forwarder` is stored. A
 * push that named its org (`X-Scope-OrgID`, collector/receivers/scope-org.ts) stores under an id
 * of that org too: the same labels pushed into two orgs are two streams, not one moved between
 * tenants by the later write.
 */
export function boundStreamId (forwarder: string, claimed: string, org?: string): string {
  return org === undefined ? streamId('forwarder', forwarder, claimed) : streamId('scoped', forwarder, org, claimed)
}

/** Rewrite each group's stream id to its bound one, in place. */
export function bindStreams (batches: StreamBatch[], forwarder: string, org?: string): void {
  for (const b of batches) b.stream.id = boundStreamId(forwarder, b.stream.id, org)
}
