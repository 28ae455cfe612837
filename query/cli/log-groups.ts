import { Readable } from 'node:stream'
import type { ReadableStream } from 'node:stream/web'
import split2 from 'split2'
import type { StreamBatch } from '../../core/record.js'
import { decodeGroup } from '../../core/wire.js'

/**
 * The groups of a `/api/v1/logs` response, one at a time (the wire format of core/wire.ts).
 * Blank lines are the server's heartbeats during a follow.
 */
export async function * logGroups (body: ReadableStream<Uint8Array>): AsyncGenerator<StreamBatch> {
  const lines = Readable.fromWeb(body).pipe(split2({ maxLength: 512 * 1024 * 1024 }))
  for await (const text of lines as AsyncIterable<string>) {
    if (text.length === 0) continue
    yield decodeGroup(text)
  }
}
