import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { gunzip } from 'node:zlib'
import { FRAMES } from '../../core/frames.js'

// Sinks that count what peers and daytwo deliver: an HTTP one that speaks daytwo's ingest
// protocol (POST /api/v1/ingest, gzip NDJSON grouped by stream, Bearer token) and a TCP one
// that counts LF-terminated lines. Both answer at once, so they measure the sender.

/** Entries in a frames body (core/frames.ts), walked by their lengths, not decoded. */
export function countFrames (b: Buffer): number {
  let n = 0
  let pos = 0
  while (pos < b.length) {
    const nl = b.indexOf(0x0a, pos)
    if (nl === -1) throw new Error(`frames: header without newline at byte ${pos}`)
    if (b[pos] === 0x53) { pos = nl + 1; continue } // S <tags>
    // E <ts> <offset> <stdio> <message bytes> <attribute bytes>
    const sp = b.lastIndexOf(0x20, nl)
    const attrLen = Number(b.toString('latin1', sp + 1, nl))
    const msgLen = Number(b.toString('latin1', b.lastIndexOf(0x20, sp - 1) + 1, sp))
    pos = nl + 1 + msgLen + attrLen + 1
    n++
  }
  return n
}

const ENTRY_STARTS = [Buffer.from('[["'), Buffer.from('],["')]

export interface Counter { count: () => number, bytes: () => number, url: string, port: number, close: () => Promise<void> }

/** Ingest protocol sink: 200 as soon as the body is in, entries counted after. */
export async function startIngestSink (token: string, atPort = 0): Promise<Counter & { unauthorized: () => number }> {
  let lines = 0
  let bytes = 0
  let unauthorized = 0
  const server: Server = createHttpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) { unauthorized++; req.resume(); res.writeHead(401).end('{}'); return }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      if (req.url !== '/api/v1/ingest') return // fleet metric reports and the like
      const body = Buffer.concat(chunks)
      bytes += body.length
      // Entries counted by their JSON punctuation, without parsing: every entry but a
      // group's first starts with `],["` and the first with `[["`, and neither can occur
      // inside a JSON string (its `"` would be escaped). Parsing would cost the machine's
      // CPU that the sender under test needs.
      const count = (raw: Buffer) => {
        for (const pattern of ENTRY_STARTS) for (let i = raw.indexOf(pattern); i !== -1; i = raw.indexOf(pattern, i + pattern.length)) lines++
      }
      const frames = req.headers['content-type'] === FRAMES
      const tally = (raw: Buffer) => { if (frames) lines += countFrames(raw); else count(raw) }
      if (req.headers['content-encoding'] === 'gzip') gunzip(body, (err, raw) => { if (err) throw err; tally(raw) })
      else tally(body)
    })
  })
  server.keepAliveTimeout = 60_000
  const port = await listenOn(server, atPort)
  return {
    count: () => lines,
    bytes: () => bytes,
    unauthorized: () => unauthorized,
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) }
  }
}

/** TCP sink counting LF bytes (one per line) over every connection. */
export async function startLineSink (): Promise<Counter> {
  let lines = 0
  let bytes = 0
  const sockets = new Set<Socket>()
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s)
    s.on('data', (d: Buffer) => {
      bytes += d.length
      let i = -1
      while ((i = d.indexOf(10, i + 1)) !== -1) lines++
    })
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  const port = await listenOn(server)
  return {
    count: () => lines,
    bytes: () => bytes,
    url: `tcp://127.0.0.1:${port}`,
    port,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) }
  }
}

async function listenOn (server: Server | TcpServer, atPort = 0): Promise<number> {
  return await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(atPort, '127.0.0.1', () => {
      const a = server.address()
      resolve(typeof a === 'object' && a ? a.port : 0)
    })
  })
}

/** Poll until `done()` or `timeoutMs`; resolves with the wall time (ms since `t0`) of the first true poll. */
export async function until (done: () => boolean | Promise<boolean>, t0: bigint, timeoutMs: number, everyMs = 20): Promise<number> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await done()) return Number(process.hrtime.bigint() - t0) / 1e6
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  throw new Error(`not done after ${timeoutMs} ms`)
}

/** Resolve once something accepts TCP connections on 127.0.0.1:port. */
export async function waitPort (port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net')
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
}
