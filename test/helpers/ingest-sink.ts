import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { decodeFrames } from '../../core/frames.js'
import type { StreamBatch } from '../../core/record.js'

/** A stand-in collector: what a forwarder sends to /api/v1/ingest, decoded, in arrival order. */
export interface IngestSink {
  url: string
  batches: StreamBatch[]
  /** The content types the bodies came with. */
  contentTypes: Set<string>
}

/** Starts an IngestSink on a free port of 127.0.0.1, closed after the test. */
export async function startIngestSink (t: { after: (fn: () => unknown) => void }): Promise<IngestSink> {
  const batches: StreamBatch[] = []
  const contentTypes = new Set<string>()
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url === '/api/v1/ingest') {
        contentTypes.add(String(req.headers['content-type']))
        let body = Buffer.concat(chunks)
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
        batches.push(...decodeFrames(body))
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  t.after(() => { sink.closeAllConnections(); sink.close() })
  return { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, batches, contentTypes }
}
