import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { extract } from '../helpers/bundle.js'
import { append, expected, type CorpusFile } from '../helpers/corpus.js'
import { waitFor } from '../helpers/daytwo-process.js'
import { cliPath } from '../helpers/repo.js'
import { runCliAsync, startQueryFixture, type QueryFixture } from '../helpers/query-fixture.js'

// `logs fetch` end to end: a real `logs serve all` over CRI, Docker and BOSH files, the real
// CLI as a child process, every flag checked on the bytes it outputs.

const N = 300
let fx: QueryFixture

before(async () => { fx = await startQueryFixture(N) })
after(async () => { if (fx) await fx.stop() })

const file = (bundlePath: string): CorpusFile => fx.files.find((f) => f.bundlePath === bundlePath)!
const lines = (f: CorpusFile, from: number, to: number) => f.messages.slice(from, to).map((m) => m + '\n').join('')
const run = async (args: string[]) => await runCliAsync(args, fx.env)

async function bundle (args: string[], sub: string): Promise<Map<string, string>> {
  const dir = join(fx.root, 'out', sub)
  const r = await run(['fetch', ...args, '--dir', dir])
  assert.equal(r.status, 0, r.stderr)
  const got = extract(r.stdout.trim(), join(dir, 'x'))
  return new Map([...got].map(([k, v]) => [k, v.toString('utf8')]))
}

test('tgz: one folder per instance, parent folders listed, every file byte for byte', async () => {
  const dir = join(fx.root, 'out', 'full')
  const r = await run(['fetch', 'cf/router', '--dir', dir])
  assert.equal(r.status, 0, r.stderr)
  const tgz = r.stdout.trim()
  assert.match(tgz, /\/cf\.router-\d{8}-\d{6}\.tgz$/)
  assert.match(r.stderr, /900 lines .* from 3 files in 1 instances/)
  const listing = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).trim().split('\n')
  assert.deepEqual(listing, ['router.0/', 'router.0/gorouter/', 'router.0/gorouter/access.log', 'router.0/gorouter/gorouter.stdout.log', 'router.0/route_registrar/', 'router.0/route_registrar/route_registrar.log'])
  const got = extract(tgz, join(dir, 'x'))
  for (const f of fx.files.filter((x) => x.deployment === 'cf')) assert.equal(got.get(f.bundlePath)!.toString(), expected(f), f.bundlePath)
})

test('--num N: the last N lines of each file', async () => {
  const got = await bundle(['shop/web', '--num', '7'], 'num')
  assert.deepEqual([...got.keys()].sort(), ['web.q8r5t/app/0.log', 'web.x2k4z/app/0.log'])
  for (const [k, v] of got) assert.equal(v, lines(file(k), N - 7, N), k)
})

test('--only GLOB (repeatable) selects files by name, or by process/name with a slash', async () => {
  const got = await bundle(['cf/router', '--only', '*.stdout.log', '--only', 'route_registrar/*'], 'only')
  assert.deepEqual([...got.keys()].sort(), ['router.0/gorouter/gorouter.stdout.log', 'router.0/route_registrar/route_registrar.log'])
  const one = await bundle(['cf/router', '--only', 'access.log', '-n', '2'], 'only1')
  assert.deepEqual([...one], [['router.0/gorouter/access.log', lines(file('router.0/gorouter/access.log'), N - 2, N)]])
})

test('--since/--until keep the lines whose original timestamp is in the range (RFC 3339, ns precise)', async () => {
  // Corpus line i is stamped 2026-11-23T10:00:00Z + i ms (+ i ns).
  const got = await bundle(['shop/db', '--since', '2026-11-23T10:00:00.100000100Z', '--until', '2026-11-23T10:00:00.199000199Z'], 'range')
  assert.equal(got.get('db.0/postgres/0.log'), lines(file('db.0/postgres/0.log'), 100, 200))
  const after1 = await bundle(['shop/db', '--since', '2026-11-23T10:00:00.100000101Z', '--num', '1000'], 'range2')
  assert.equal(after1.get('db.0/postgres/0.log'), lines(file('db.0/postgres/0.log'), 101, N))
})

test('--format text: prefixed lines on stdout; --no-prefix: the lines exactly', async () => {
  const f = file('db.0/postgres/0.log')
  const r = await run(['fetch', 'shop/db/0', '--format', 'text', '-n', '3'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, f.messages.slice(N - 3).map((m) => `db/0 postgres/0.log: ${m}\n`).join(''))
  const raw = await run(['fetch', 'shop/db', '--format', 'text', '--no-prefix'])
  assert.equal(raw.stdout, expected(f))
})

test('--follow: the history, then new lines as they are stored, none lost or repeated at the seam', async (t) => {
  const f = file('router.0/gorouter/access.log')
  const child = spawn(process.execPath, [cliPath(), 'fetch', 'cf/router/0', '--only', 'access.log', '-f', '--no-prefix'], { env: { ...process.env, ...fx.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  assert.ok(await waitFor(() => out === expected(f), 15000), `history: got ${out.length} bytes\n${err}`)
  // Lines written in three bursts, the first right away: some land while the poll runs.
  for (const [from, to] of [[N, N + 40], [N + 40, N + 41], [N + 41, N + 120]] as const) {
    f.messages.length = Math.max(f.messages.length, to)
    for (let i = from; i < to; i++) f.messages[i] = `follow ${i} ` + 'y'.repeat(i % 13)
    append(fx.root, f, from, to)
    await new Promise((resolve) => setTimeout(resolve, 120))
  }
  const want = expected(f)
  assert.ok(await waitFor(() => out.length >= want.length, 15000), `follow: got ${out.length} of ${want.length} bytes\n${err}`)
  await new Promise((resolve) => setTimeout(resolve, 600)) // anything extra would show up now
  assert.equal(out, want)
  assert.equal(child.exitCode, null, 'still following')
})

test('unknown deployment, job or index: the error lists what exists', async () => {
  const dep = await run(['fetch', 'nope/router'])
  assert.equal(dep.status, 1)
  assert.match(dep.stderr, /no logs for nope\/router: no deployment 'nope'\. Known jobs:\n {2}cf\/router\n {2}kube-system\/dns\n {2}shop\/db\n {2}shop\/web \[DAYTWO_ERR_NOT_FOUND\]/)
  const job = await run(['fetch', 'shop/nope'])
  assert.match(job.stderr, /no job 'nope' in deployment 'shop'/)
  const idx = await run(['fetch', 'shop/web/zzzzz'])
  assert.match(idx.stderr, /no instance with index 'zzzzz'\. Instances of shop\/web:\n {2}shop\/web\/q8r5t\n {2}shop\/web\/x2k4z/)
  const only = await run(['fetch', 'cf/router', '--only', '*.err'])
  assert.match(only.stderr, /no file of cf\/router matches \*\.err\. Its files:\n {2}gorouter\/access\.log\n {2}gorouter\/gorouter\.stdout\.log\n {2}route_registrar\/route_registrar\.log/)
})

test('an unreachable query service, a bad time, bad flags: clear errors, nothing written', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['fetch', 'cf/router', '--url', 'http://127.0.0.1:1'], /cannot reach the query service at http:\/\/127\.0\.0\.1:1: .*DAYTWO_ERR_UNREACHABLE/],
    [['fetch', 'cf/router', '--since', 'yesterday'], /--since yesterday: give RFC 3339 .*see `logs fetch --help`/],
    [['fetch', 'cf/router', '--since', '1h', '--until', '2h'], /--since 1h is after --until 2h/],
    [['fetch', 'cf/router', '--num', '0'], /--num 0: give a whole number of lines from 1/],
    [['fetch', 'cf/router', '--bogus'], /Unknown option '--bogus'.*DAYTWO_ERR_USAGE/],
    [['fetch', 'cf/router', '--follow', '--format', 'tgz'], /--follow streams lines to stdout/],
    [['fetch', 'cf/router', '--format', 'zip'], /--format zip: use tgz or text/],
    [['fetch', 'cf//router'], /'cf\/\/router' is not <deployment>\[\/<job>\[\/<index>\]\]/],
    [['fetch'], /name what to fetch/]
  ]
  for (const [args, re] of cases) {
    const r = await runCliAsync(args, { ...fx.env }, fx.root)
    assert.equal(r.status, 1, args.join(' '))
    assert.match(r.stderr, re, args.join(' '))
    assert.equal(r.stdout, '', args.join(' '))
  }
  assert.deepEqual(execFileSync('ls', ['-A', fx.root], { encoding: 'utf8' }).split('\n').filter((n) => n.endsWith('.tgz')), [])
})

test('--help teaches every flag with examples', async () => {
  const r = await run(['fetch', '--help'])
  assert.equal(r.status, 0)
  for (const flag of ['--since', '--until', '--num', '--only', '--format', '--no-prefix', '--dir', '--follow', '--url', '--token', 'Examples:']) assert.ok(r.stdout.includes(flag), flag)
})

test('a tenant token fetches only its own org', async () => {
  const r = await runCliAsync(['fetch', 'cf/router'], { ...fx.env, DAYTWO_TOKEN: 'acme-secret' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /no logs for cf\/router: no deployment 'cf'\. Known jobs:\n {2}\(none yet/)
})

/**
 * A proxy in front of the query service, as a load balancer or an older server would behave:
 * it records what the CLI asked for and got, can drop the Accept header, and can end or cut
 * the response after `cutAfter` body bytes.
 */
async function proxy (opts: { dropAccept?: boolean, cutAfter?: number, cut?: 'end' | 'reset' } = {}): Promise<{ url: string, seen: Array<{ url: string, accept: string | undefined, contentType: string | undefined }>, close: () => Promise<void> }> {
  const target = new URL(fx.env.DAYTWO_QUERY_URL!)
  const seen: Array<{ url: string, accept: string | undefined, contentType: string | undefined }> = []
  const server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers, host: target.host }
    if (opts.dropAccept) delete headers.accept
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (upRes) => {
      seen.push({ url: req.url!, accept: req.headers.accept, contentType: upRes.headers['content-type'] })
      res.writeHead(upRes.statusCode!, upRes.headers)
      let sent = 0
      upRes.on('data', (d: Buffer) => {
        if (sent === Infinity) return
        if (opts.cutAfter === undefined || sent + d.length <= opts.cutAfter) { sent += d.length; res.write(d); return }
        const part = d.subarray(0, Math.max(0, opts.cutAfter - sent))
        sent = Infinity
        upRes.destroy()
        // reset: the connection drops once the part is on the wire, with no final chunk.
        if (opts.cut === 'reset') res.write(part, () => res.socket?.destroy())
        else res.end(part)
      })
      upRes.on('end', () => { if (sent !== Infinity) res.end() })
      upRes.on('error', () => {})
    })
    up.on('error', () => res.destroy())
    up.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, seen, close: async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) } }
}

test('tgz asks for file frames; a server that answers NDJSON instead gives the same bundle', async (t) => {
  const direct = await proxy()
  const old = await proxy({ dropAccept: true })
  t.after(async () => { await direct.close(); await old.close() })
  for (const [p, sub, contentType] of [[direct, 'frames', 'application/vnd.daytwo.file-frames.v1'], [old, 'ndjson', 'application/x-ndjson']] as const) {
    const dir = join(fx.root, 'out', sub)
    const r = await runCliAsync(['fetch', 'cf/router', '--dir', dir, '--url', p.url], fx.env)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /lines .* from 3 files in 1 instances/)
    const logs = p.seen.filter((s) => s.url.startsWith('/api/v1/logs'))
    assert.equal(logs.length, 1)
    assert.equal(logs[0]!.accept, 'application/vnd.daytwo.file-frames.v1')
    assert.equal(logs[0]!.contentType, contentType)
    const listing = execFileSync('tar', ['tzf', r.stdout.trim()], { encoding: 'utf8' }).trim().split('\n')
    assert.deepEqual(listing, ['router.0/', 'router.0/gorouter/', 'router.0/gorouter/access.log', 'router.0/gorouter/gorouter.stdout.log', 'router.0/route_registrar/', 'router.0/route_registrar/route_registrar.log'])
    const got = extract(r.stdout.trim(), join(dir, 'x'))
    for (const f of fx.files.filter((x) => x.deployment === 'cf')) assert.equal(got.get(f.bundlePath)!.toString(), expected(f), `${sub}: ${f.bundlePath}`)
  }
})

test('GET /api/v1/logs with Accept file-frames: each file\'s bytes in frames, then the totals; follow and other clients get NDJSON', async () => {
  const base = `${fx.env.DAYTWO_QUERY_URL}/api/v1/logs?deployment=shop&job=web`
  const auth = { authorization: `Bearer ${fx.env.DAYTWO_TOKEN}` }
  const res = await fetch(base + '&num=50', { headers: { ...auth, accept: 'application/vnd.daytwo.file-frames.v1' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/vnd.daytwo.file-frames.v1')
  // Decoded here by hand, not with the CLI's reader: header line, then exactly `bytes` bytes.
  const buf = Buffer.from(await res.arrayBuffer())
  const files = new Map<string, string>()
  let pos = 0
  let end: { lines: number, bytes: number } | undefined
  let total = 0
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos)
    const h = JSON.parse(buf.toString('utf8', pos, nl)) as { stream?: { job: string, index: string, process: string, path: string }, lines: number, bytes: number, end?: { lines: number, bytes: number } }
    pos = nl + 1
    if (h.end) { end = h.end; assert.equal(pos, buf.length, 'the end frame is last'); break }
    const payload = buf.subarray(pos, pos + h.bytes)
    assert.equal(payload.length, h.bytes)
    assert.equal(payload.toString().split('\n').length - 1, h.lines)
    const key = `${h.stream!.job}.${h.stream!.index}/${h.stream!.process}/${h.stream!.path.split('/').pop()}`
    files.set(key, (files.get(key) ?? '') + payload.toString())
    total += h.lines
    pos += h.bytes
  }
  assert.deepEqual([...files.keys()].sort(), ['web.q8r5t/app/0.log', 'web.x2k4z/app/0.log'])
  for (const [k, v] of files) assert.equal(v, lines(file(k), N - 50, N), k)
  assert.deepEqual(end, { lines: total, bytes: [...files.values()].reduce((n, v) => n + Buffer.byteLength(v), 0) })

  const plain = await fetch(base + '&num=1', { headers: auth })
  assert.equal(plain.headers.get('content-type'), 'application/x-ndjson')
  assert.match(await plain.text(), /^\{"stream":/)
  const ac = new AbortController()
  const follow = await fetch(base + '&num=1&follow=1', { headers: { ...auth, accept: 'application/vnd.daytwo.file-frames.v1' }, signal: ac.signal })
  assert.equal(follow.headers.get('content-type'), 'application/x-ndjson')
  ac.abort()
})

test('a response that ends or is cut before its end frame fails the fetch and leaves no bundle', async (t) => {
  for (const cut of ['end', 'reset'] as const) {
    // (A reset before any body byte is a reset before the response: "cannot reach", tested elsewhere.)
    for (const cutAfter of cut === 'end' ? [0, 700, 20_000] : [1, 700, 20_000]) {
      const p = await proxy({ cutAfter, cut })
      t.after(async () => { await p.close() })
      const dir = join(fx.root, 'out', `cut-${cut}-${cutAfter}`)
      const r = await runCliAsync(['fetch', 'cf/router', '--dir', dir, '--url', p.url], fx.env)
      const what = `${cut} after ${cutAfter} bytes`
      assert.equal(r.status, 1, what)
      assert.match(r.stderr, /logs: malformed batch: the query service's response: .*(ended|connection was cut).* \[DAYTWO_ERR_BAD_BATCH\]/, what)
      assert.equal(r.stdout, '', what)
      assert.deepEqual(readdirSync(dir), [], `${what}: nothing left in --dir`)
    }
  }
})
