import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// A proxy in front of the test's OpenSearch node that may answer searches its own way (429,
// 503, failed shards, or not at all) and passes every other request through.

export interface EngineProxy { url: string, server: Server, close: () => void }

/** `onSearch` answers a `_search` request itself and returns true, or returns false to pass it on. */
export async function engineProxy (upstream: string, onSearch: (res: ServerResponse, req: IncomingMessage) => boolean): Promise<EngineProxy> {
  const server = createServer((req, res) => {
    if (req.url?.includes('_search') === true && onSearch(res, req)) { req.resume(); return }
    const u = new URL(req.url ?? '/', upstream)
    const up = httpRequest(u, { method: req.method, headers: req.headers }, (r) => { res.writeHead(r.statusCode ?? 502, r.headers); r.pipe(res) })
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => { server.closeAllConnections(); server.close() }
  }
}
