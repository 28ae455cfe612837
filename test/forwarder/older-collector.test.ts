import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdirSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { FRAMES } from '../../core/frames.js'
import { NDJSON, decodeBatch } from '../../core/wire.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'

// A rolling upgrade: forwarders updated before the collectors. A collector that predates the
// frames format answers 415 (fastify: no parser for the type); the forwarder then sends the
// same batches as NDJSON, and every line arrives once.

test('a collector that answers 415 to frames gets NDJSON, every line once', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('daytwo-oldcoll-')
  t.after(() => tmp.cleanup())
  const seen: string[] = []
  const types: string[] = []
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.url !== '/api/v1/ingest') { res.writeHead(200).end('{}'); return }
      const type = String(req.headers['content-type'])
      types.push(type)
      if (type !== NDJSON) {
        res.writeHead(415, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: `Unsupported Media Type: ${type}` }))
        return
      }
      for (const g of decodeBatch(Buffer.concat(chunks).toString('utf8'))) for (const e of g.entries) seen.push(e[2])
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  t.after(() => { sink.closeAllConnections(); sink.close() })

  const logDir = join(tmp.path, 'bosh', 'api')
  mkdirSync(logDir, { recursive: true })
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} "quoted" ✓`)
  writeFileSync(join(logDir, 'api.log'), lines.join('\n') + '\n')
  const d = await startDaytwo('forwarder', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: join(tmp.path, 'bosh'), boshSpecFile: join(tmp.path, 'none'), port: 0, collectorUrl: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, token: 't', retryMaxMs: 100 }
  }, tmp.path)
  t.after(() => d.stop())

  assert.ok(await waitFor(() => seen.length >= lines.length, 20_000), `every line arrives (${seen.length})`)
  assert.deepEqual(seen, lines, 'once each, in order')
  assert.equal(types[0], FRAMES, 'frames first')
  assert.ok(types.slice(1).every((x) => x === NDJSON), 'NDJSON once the collector refused frames')
  assert.match(d.stderr(), /does not take the frames format/)
})
