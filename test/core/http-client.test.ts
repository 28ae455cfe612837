import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type RequestListener } from 'node:http'
import { HttpClient, HttpError, retryAfterMs, retryWaitMs, withRetry } from '../../core/http-client.js'
import { selfSignedServer, skipWithoutOpenssl } from '../helpers/self-signed.js'

// The one HTTP client (core/http-client.ts) against real servers: TLS verified by default and
// with a CA file, retries that honour Retry-After, the answer size limit, abort and deadline.

async function listen (t: { after: (fn: () => unknown) => void }, handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  t.after(() => { server.closeAllConnections(); server.close() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `127.0.0.1:${(server.address() as { port: number }).port}`
}

const rejects = async (p: Promise<unknown>, reason: string) => {
  await assert.rejects(p, (err: unknown) => err instanceof HttpError && err.reason === reason, `expected an HttpError for ${reason}`)
}

test('TLS: a self-signed server is refused without its CA file and accepted with it, or only when told not to verify', { skip: skipWithoutOpenssl }, async (t) => {
  let seen = 0
  const { url, ca } = await selfSignedServer(t, (_req, res) => { seen++; res.end('hello') })

  const system = new HttpClient()
  t.after(() => system.close())
  await rejects(system.request(url), 'tls')
  assert.equal(seen, 0, 'no request reached an unverified server')

  const withCa = new HttpClient({ tls: { caFile: ca } })
  t.after(() => withCa.close())
  const res = await withCa.request(url)
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'hello')

  const insecure = new HttpClient({ tls: { insecureSkipVerify: true } })
  t.after(() => insecure.close())
  assert.equal((await insecure.request(url)).status, 200)
  assert.equal(seen, 2)
  assert.throws(() => new HttpClient({ tls: { caFile: `${ca}.missing` } }), /CA file .*\.missing/)
})

test('withRetry: 503 is tried again until an answer that is not retryable; the last answer when tries run out', async (t) => {
  let n = 0
  const host = await listen(t, (req, res) => {
    n++
    if (req.url === '/always' || n < 3) { res.writeHead(503, { 'retry-after': '0' }); res.end('busy'); return }
    res.end('ok')
  })
  const c = new HttpClient()
  t.after(() => c.close())
  const backoff = { initialMs: 1, maxMs: 10 }
  const ok = await withRetry(async () => await c.request(`http://${host}/`), { attempts: 5, backoff })
  assert.equal(ok.status, 200)
  assert.equal(ok.body.toString(), 'ok')
  assert.equal(n, 3)

  n = 0
  const busy = await withRetry(async () => await c.request(`http://${host}/always`), { attempts: 2, backoff })
  assert.equal(busy.status, 503)
  assert.equal(n, 2)

  n = 0
  const notRetried = await withRetry(async () => await c.request(`http://${host}/always`), { attempts: 4, backoff, statuses: [429] })
  assert.equal(notRetried.status, 503)
  assert.equal(n, 1)

  // A server that is not there: every try fails, the last failure is thrown.
  let tries = 0
  await rejects(withRetry(async () => { tries++; return await c.request('http://127.0.0.1:1/') }, { attempts: 3, backoff }), 'unreachable')
  assert.equal(tries, 3)
})

test('the wait before a retry is the backoff, or Retry-After when longer, capped at maxMs', () => {
  const backoff = { initialMs: 100, maxMs: 5000, random: () => 1 }
  assert.equal(retryWaitMs(0, undefined, backoff), 100)
  assert.equal(retryWaitMs(0, { 'retry-after': '2' }, backoff), 2000)
  assert.equal(retryWaitMs(6, { 'retry-after': '1' }, backoff), 5000, 'the backoff is longer: 100·2^6 capped at 5000')
  assert.equal(retryWaitMs(0, { 'retry-after': '3600' }, backoff), 5000, 'Retry-After is capped too')
  const now = Date.parse('2026-12-02T10:00:00Z')
  assert.equal(retryAfterMs('Wed, 02 Dec 2026 10:00:30 GMT', now), 30_000)
  assert.equal(retryAfterMs('soon', now), 0)
  assert.equal(retryAfterMs(undefined, now), 0)
})

test('an answer past maxBodyBytes fails as too_large, or keeps its head with cut; the client stays usable', async (t) => {
  const big = Buffer.alloc(200_000, 'x')
  const host = await listen(t, (req, res) => { res.end(req.url === '/small' ? 'small' : big) })
  const c = new HttpClient({ connections: 1 })
  t.after(() => c.close())
  await rejects(c.request(`http://${host}/`, { maxBodyBytes: 1000 }), 'too_large')
  const head = await c.request(`http://${host}/`, { maxBodyBytes: 1000, cut: true })
  assert.equal(head.body.length, 1000)
  assert.equal((await c.request(`http://${host}/small`, { maxBodyBytes: 1000 })).body.toString(), 'small')
  assert.equal((await c.request(`http://${host}/`)).body.length, big.length)
})

test('a request is aborted by its signal, and fails as timeout past its deadline; a POST body arrives whole', async (t) => {
  let arrived = (): void => {}
  let posted = ''
  const host = await listen(t, (req, res) => {
    if (req.method === 'POST') {
      req.setEncoding('utf8')
      req.on('data', (s: string) => { posted += s })
      req.on('end', () => res.end('got it'))
      return
    }
    arrived() // and never answer
  })
  const c = new HttpClient()
  t.after(() => c.close())
  const ac = new AbortController()
  const waiting = new Promise<void>((resolve) => { arrived = resolve })
  const pending = c.request(`http://${host}/`, { signal: ac.signal, timeoutMs: 60_000 })
  await waiting
  ac.abort()
  await rejects(pending, 'aborted')
  await rejects(c.request(`http://${host}/`, { timeoutMs: 50 }), 'timeout')
  const res = await c.request(`http://${host}/`, { method: 'POST', body: 'a'.repeat(100_000) })
  assert.equal(res.body.toString(), 'got it')
  assert.equal(posted, 'a'.repeat(100_000))
})
