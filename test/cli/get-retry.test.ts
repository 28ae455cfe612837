import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type RequestListener } from 'node:http'
import { runCliAsync } from '../helpers/query-fixture.js'

// `logs ls` as a user runs it against a query service whose store is restarting: the 503s it
// answers meanwhile (and a proxy's 502, a 429) are tried again (cli/client.ts GET_RETRY, on
// core/http-client.ts withRetry), so the command succeeds once the service is back; a service
// that stays unavailable is said after four tries, and a 504 (the query's own deadline) at once.

async function queryService (t: { after: (fn: () => unknown) => void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  t.after(() => { server.closeAllConnections(); server.close() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

/** A user's environment: none of the test runner's DAYTWO_ settings. */
function userEnv (url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const k of Object.keys(process.env)) if (k.startsWith('DAYTWO_')) env[k] = undefined
  return { ...env, DAYTWO_QUERY_URL: url, DAYTWO_TOKEN: 'a-token' }
}

const unavailable = (status: number, res: Parameters<RequestListener>[1]) => {
  res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ message: 'store unavailable: restarting' }))
}

test('logs ls: a query service answering 503, 502 and 429 while it restarts is asked again until it answers', { timeout: 30_000 }, async (t) => {
  const seen: string[] = []
  const url = await queryService(t, (req, res) => {
    seen.push(String(req.url).split('?')[0]!)
    if (seen.length === 1) return unavailable(503, res)
    if (seen.length === 2) return unavailable(502, res)
    if (seen.length === 3) return unavailable(429, res)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ instances: [] }))
  })
  const r = await runCliAsync(['ls'], userEnv(url))
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(seen, ['/api/v1/instances', '/api/v1/instances', '/api/v1/instances', '/api/v1/instances'])
})

test('logs ls: a query service that stays unavailable is said after four tries; a 504 is not tried again', { timeout: 30_000 }, async (t) => {
  let tries = 0
  let status = 503
  const url = await queryService(t, (_req, res) => { tries++; unavailable(status, res) })
  const r = await runCliAsync(['ls'], userEnv(url))
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /503 store unavailable: restarting/)
  assert.equal(tries, 4)

  tries = 0
  status = 504
  const timedOut = await runCliAsync(['ls'], userEnv(url))
  assert.notEqual(timedOut.status, 0)
  assert.equal(tries, 1)
})
