import protobuf from 'protobufjs'
import { DaytwoError } from '../../../core/errors.js'
import { MAX_ATTRIBUTES, type Attributes } from '../../../core/record.js'
import { parseLabelSet } from './label-set.js'
import type { PushStream } from './push-json.js'

// Loki's protobuf push body (what Promtail, Alloy, Vector's loki sink and winston-loki send),
// after snappy (push-snappy.ts). The schema is Loki's `pkg/push/push.proto` reduced to the
// fields a push carries; protobufjs reads it from this text at start (no generated code to keep
// in step). The `hash` field of a stream is not read: Loki recomputes it too.
const SCHEMA = `
syntax = "proto3";
package logproto;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message LabelPairAdapter { string name = 1; string value = 2; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
`
const PushRequest = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('logproto.PushRequest')

interface Decoded {
  streams?: Array<{
    labels?: string
    entries?: Array<{ timestamp?: { seconds?: string, nanos?: number }, line?: string, structuredMetadata?: Array<{ name?: string, value?: string }> }>
  }>
}

const MAX_NS = 10n ** 19n

/** A decompressed protobuf push body → push streams; a bad body is a 400 naming what was wrong. */
export function decodePushProtobuf (body: Buffer): PushStream[] {
  let doc: Decoded
  try {
    // longs as decimal strings: seconds × 1e9 passes 2^53, so never through a JS number.
    doc = PushRequest.toObject(PushRequest.decode(body), { longs: String, defaults: false }) as Decoded
  } catch (err) {
    throw bad(`body is not a Loki PushRequest: ${(err as Error).message}`)
  }
  return (doc.streams ?? []).map((s, i) => {
    let labels: Record<string, string>
    try { labels = parseLabelSet(s.labels ?? '') } catch (err) { throw bad(`streams[${i}].labels: ${(err as Error).message}`) }
    return {
      labels,
      values: (s.entries ?? []).map((e, j) => {
        const ns = BigInt(e.timestamp?.seconds ?? '0') * 1_000_000_000n + BigInt(e.timestamp?.nanos ?? 0)
        if (ns < 0n || ns >= MAX_NS || (e.timestamp?.nanos ?? 0) < 0) throw bad(`streams[${i}].entries[${j}].timestamp is out of range`)
        return [String(ns), e.line ?? '', metadata(e.structuredMetadata, `streams[${i}].entries[${j}]`)]
      })
    }
  })
}

function metadata (pairs: Array<{ name?: string, value?: string }> | undefined, where: string): Attributes | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined
  if (pairs.length > MAX_ATTRIBUTES) throw bad(`${where} has ${pairs.length} structured metadata keys, more than ${MAX_ATTRIBUTES}`)
  const out: Attributes = {}
  for (const p of pairs) out[p.name ?? ''] = p.value ?? ''
  return out
}

function bad (msg: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', msg)
}
