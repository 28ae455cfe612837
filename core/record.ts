// The record schema shared by every role. A record is one log line; records travel and are
// stored grouped by stream (one file generation, or one syslog sender), the stream's tags
// once and then its entries, as Loki's push API does (see docs/architecture.md "Delivery").

/**
 * Where a stream's lines came from: the forwarder's own sources (files, syslog, journald) or a
 * receiver of another agent's protocol (Loki push, OTLP, Elasticsearch _bulk, Fluent forward).
 */
export const SOURCES = ['file', 'syslog', 'journald', 'loki', 'otlp', 'elasticsearch', 'fluent'] as const
export type Source = typeof SOURCES[number]

export function isSource (s: unknown): s is Source {
  return typeof s === 'string' && (SOURCES as readonly string[]).includes(s)
}

/** The forwarder's own sources, whose offsets are positions (bytes in a file, a persisted sequence). */
const POSITIONED: readonly Source[] = ['file', 'syslog', 'journald']

/**
 * Whether a stream comes from a receiver of another agent's protocol: its lines carry record
 * keys in the offset slot, and the store gives them their offsets (store/embedded/record-keys.ts).
 */
export function isReceiverSource (s: Source): boolean {
  return !POSITIONED.includes(s)
}

/** Tags that are the same for every line of a stream. Field names follow ECS where it has one (docs/architecture.md "The record"). */
export interface StreamTags {
  /** Deterministic stream id: hash of (node, source identity). Entry ids are `${id}:${offset}`. */
  id: string
  source: Source
  /** host.name: the node the forwarder runs on. */
  node: string
  deployment: string
  job: string
  index: string
  process: string
  /** log.file.path for files; the listener (e.g. `udp://0.0.0.0:514`) for syslog. */
  path: string
  namespace?: string
  pod?: string
  container?: string
  org?: string
  space?: string
  app?: string
  /** Anything else worth keeping as a label (syslog host, kubernetes labels). */
  labels?: Record<string, string>
}

/**
 * One line: [timestamp in Unix nanoseconds as a decimal string, byte offset (or receive
 * sequence for syslog; a record key, on the way in, for a receiver's stream: isReceiverSource), message, stdio stream ('stdout' | 'stderr' | ''), and optionally the
 * line's own attributes (syslog facility, severity, msgid, structured data)].
 * A tuple rather than an object: it is what the hot path builds and what the wire carries.
 */
export type Entry = [ts: string, offset: number, message: string, stdio: string, attrs?: Attributes]

/**
 * Per-line attributes: what varies from one line of a stream to the next, so cannot be a
 * stream tag. Keys: `facility`, `severity`, `msgid` (syslog header fields, by name) and
 * `sd.<SD-ID>.<param>` (RFC 5424 structured data).
 */
export type Attributes = Record<string, string>

export const MAX_ATTRIBUTES = 64

export interface StreamBatch {
  stream: StreamTags
  entries: Entry[]
}

/** An entry's offset by name, for sorts and filters where `e[1]` would not say what it is. */
export const OFFSET = 1

/** The id of one record, deterministic across retries and restarts. */
export function recordId (streamId: string, offset: number): string {
  return `${streamId}:${offset}`
}

/**
 * A stored line's id (a search engine's document `_id`): (stream, offset), or for a receiver's
 * stream (stream, time, record key), whose time and 48-bit key together name one line.
 */
export function entryId (stream: StreamTags, e: Entry): string {
  return isReceiverSource(stream.source) ? `${stream.id}:${e[0]}:${e[1]}` : recordId(stream.id, e[1])
}

/** Identity tags that every query and every label set uses, in display order. */
export const IDENTITY_TAGS = ['deployment', 'job', 'index', 'process'] as const
