import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import split2 from 'split2'
import type { StreamBatch } from '../core/record.js'
import { decodeGroup } from '../core/wire.js'

/**
 * The groups of a `/api/v1/logs` NDJSON response, one at a time (the wire format of
 * core/wire.ts). Blank lines are the server's heartbeats during a follow. A body that fails
 * (the connection dropped) fails the iteration.
 */
export async function * logGroups (body: Readable): AsyncGenerator<StreamBatch> {
  const lines = pipeline(body, split2({ maxLength: 512 * 1024 * 1024 }), () => {})
  for await (const text of lines as AsyncIterable<string>) {
    if (text.length === 0) continue
    yield decodeGroup(text)
  }
}
