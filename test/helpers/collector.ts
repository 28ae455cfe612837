import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createHash } from 'node:crypto'
import { start } from '../../collector/role.js'
import { boundStreamId } from '../../collector/identity/stream-binding.js'
import { loadConfig } from '../../core/config.js'
import { silentLogger } from '../../core/logger.js'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { encodeBatch, NDJSON } from '../../core/wire.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import type { LogStore } from '../../store/log-store.js'
import { tempDir } from './daytwo-process.js'

// Helpers for the collector's tests: an in-process collector on a real embedded store, an
// ingest client speaking the wire format, and fake directory servers on 127.0.0.1.

export const TOKEN = 'forwarder-token-1'

/** The id the collector stores a stream under when `token` sent it as `id` (collector/identity/stream-binding.ts). */
export function storedId (id: string, token = TOKEN): string {
  return boundStreamId(createHash('sha256').update(token).digest('hex'), id)
}

type After = { after: (fn: () => Promise<void> | void) => void }

export interface InProcessCollector {
  url: string
  store: EmbeddedStore
  dir: string
  summary: string
  stop: () => Promise<void>
}

/**
 * The collector role started in this process with `collector` config overrides; `wrapStore`
 * can put a failure injector between the collector and the real store.
 */
export async function startCollector (t: After, collector: Record<string, unknown> = {}, wrapStore?: (s: LogStore) => LogStore): Promise<InProcessCollector> {
  const tmp = tempDir('daytwo-collector-')
  const store = await EmbeddedStore.open(join(tmp.path, 'store'))
  // These tests are about what follows tenancy: their forwarder names its streams' tenants
  // (test/collector/ingest-identity.test.ts tests who may).
  const tenants = { trustForwarderTenants: ['*'], ...(collector.tenants as Record<string, unknown> | undefined) }
  const config = loadConfig({ env: {}, overrides: { dataDir: tmp.path, logLevel: 'silent', collector: { port: 0, tokens: [TOKEN], ...collector, tenants } } })
  let role
  try {
    role = await start({ config, log: silentLogger, store: async () => wrapStore ? wrapStore(store) : store })
  } catch (err) {
    await store.close()
    tmp.cleanup()
    throw err
  }
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await role.stop()
    await store.close()
  }
  t.after(async () => { await stop(); tmp.cleanup() })
  return { url: role.url, store, dir: tmp.path, summary: role.summary, stop }
}

export function tags (id: string, extra: Partial<StreamTags> = {}): StreamTags {
  return { id, source: 'file', node: 'node-1', deployment: 'cf', job: 'web', index: '0', process: 'app', path: `/var/log/${id}.log`, ...extra }
}

/** `n` entries from offset `from` (offsets step by 100), each message `size` bytes. */
export function entries (from: number, n: number, size = 50, prefix = 'line'): Entry[] {
  const out: Entry[] = []
  for (let i = 0; i < n; i++) {
    const head = `${prefix} ${from + i} `
    out.push([String(1_795_428_000_000_000_000n + BigInt(from + i)), (from + i) * 100, head + 'x'.repeat(Math.max(0, size - head.length)), 'stdout'])
  }
  return out
}

export function bytesOf (batches: StreamBatch[]): number {
  let n = 0
  for (const b of batches) for (const e of b.entries) n += Buffer.byteLength(e[2])
  return n
}

export interface Reply { status: number, body: Record<string, unknown> }

export interface TlsClient { ca?: Buffer, cert?: Buffer, key?: Buffer }

/** POST a batch the way the forwarder does: NDJSON, gzip, Bearer token. */
export async function ingest (url: string, batches: StreamBatch[], opts: { token?: string, tls?: TlsClient } = {}): Promise<Reply> {
  const body = gzipSync(encodeBatch(batches))
  const u = new URL('/api/v1/ingest', url)
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send(u, {
      method: 'POST',
      headers: { 'content-type': NDJSON, 'content-encoding': 'gzip', authorization: `Bearer ${opts.token ?? TOKEN}`, 'content-length': body.length },
      ...(opts.tls ?? {})
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: Record<string, unknown> = {}
        try { parsed = JSON.parse(text) as Record<string, unknown> } catch { parsed = { text } }
        resolve({ status: res.statusCode ?? 0, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** GET /metrics and return the value of one sample (0 when absent). */
export async function metric (url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await metricsText(url)
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

export async function metricsText (url: string, tls?: TlsClient): Promise<string> {
  const u = new URL('/metrics', url)
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    send(u, { ...(tls ?? {}) }, (res) => {
      let s = ''
      res.on('data', (c: Buffer) => { s += c.toString() })
      res.on('end', () => resolve(s))
    }).on('error', reject).end()
  })
}

/** Total usage bytes/lines and drops over all rows of the store. */
export async function usageTotals (store: LogStore, org?: string): Promise<{ lines: number, bytes: number, droppedLines: number, droppedBytes: number }> {
  const rows = await store.usage({ fromMs: 0, toMs: Date.now() + 120_000, ...(org !== undefined ? { org } : {}) })
  const t = { lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0 }
  for (const r of rows) { t.lines += r.lines; t.bytes += r.bytes; t.droppedLines += r.droppedLines; t.droppedBytes += r.droppedBytes }
  return t
}

export interface FakeDirectory {
  url: string
  /** Requests received, by path (including the query string). */
  requests: Array<{ path: string, headers: IncomingMessage['headers'] }>
  count: (path: string) => number
}

/** A real HTTP server on 127.0.0.1 answering recorded directory responses. */
export async function fakeDirectory (t: After, handler: (path: string, res: ServerResponse, req: IncomingMessage) => void | Promise<void>): Promise<FakeDirectory> {
  const requests: FakeDirectory['requests'] = []
  const server: Server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers })
    void handler(req.url ?? '', res, req)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${port}`, requests, count: (path) => requests.filter((r) => r.path === path).length }
}

export function json (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
