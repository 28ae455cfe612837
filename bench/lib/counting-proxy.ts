import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

// An HTTP proxy in front of a search engine that counts the requests passing through it, so
// the query bench can report how many engine requests each question cost daytwo.

export interface CountingProxy {
  url: string
  /** Requests forwarded so far, by path kind (_search, _bulk, other). */
  counts: { search: number, bulk: number, other: number }
  close (): Promise<void>
}

export async function startCountingProxy (target: string): Promise<CountingProxy> {
  const to = new URL(target)
  const counts = { search: 0, bulk: 0, other: 0 }
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    if (path.includes('/_search')) counts.search++
    else if (path.includes('/_bulk')) counts.bulk++
    else counts.other++
    const up = request({ host: to.hostname, port: to.port, method: req.method, path, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', (err) => { res.writeHead(502); res.end(String(err)) })
    // A client that goes away takes its upstream request with it (the engine cancels the search).
    res.on('close', () => { if (!res.writableFinished) up.destroy() })
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, counts, close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) } }
}
