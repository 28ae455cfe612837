import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { OPERATOR, TENANTS, runCliAsync, startQueryFixture, type QueryFixture } from '../helpers/query-fixture.js'
import { DROPS, TENANT_APPS, corpusBytes, seedUsage } from '../helpers/query-usage.js'

// Usage reports end to end: tenant batches through the real collector, drops in the store,
// `logs usage` as a child process and GET /api/v1/usage, as operator and as tenants.

const PRICE = 0.5
let fx: QueryFixture

before(async () => {
  fx = await startQueryFixture(20, { usage: { pricePerGiB: PRICE, currency: 'EUR' } })
  await seedUsage(fx)
})
after(async () => { if (fx) await fx.stop() })

interface Row { org: string, app?: string, day?: string, lines: number, bytes: number, droppedLines: number, droppedBytes: number, cost: number }
interface Report { by: string, currency: string, pricePerGiB: number, rows: Row[], totals: Row, drops: Array<{ reason: string, lines: number, bytes: number }>, series: { keys: Array<{ key: string, bytes: number[] }> } }

const cost = (bytes: number) => Math.round(bytes / 1024 ** 3 * PRICE * 1e6) / 1e6
const appBytes = (org: string, app?: string) => TENANT_APPS.filter((t) => t.org === org && (app === undefined || t.app === app)).reduce((n, t) => n + t.lines * t.lineBytes, 0)
const appLines = (org: string) => TENANT_APPS.filter((t) => t.org === org).reduce((n, t) => n + t.lines, 0)

async function usageJson (args: string[], token = OPERATOR): Promise<Report> {
  const r = await runCliAsync(['usage', '--format', 'json', ...args], { ...fx.env, DAYTWO_TOKEN: token })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Report
}

test('operator, by org: every org with lines, bytes, drops and cost; totals add up', async () => {
  const r = await usageJson([])
  const corpus = corpusBytes(fx)
  assert.deepEqual(r.rows.map((x) => [x.org, x.lines, x.bytes, x.droppedLines, x.droppedBytes, x.cost]), [
    ['', corpus.lines, corpus.bytes, 0, 0, cost(corpus.bytes)],
    ['acme', appLines('acme'), appBytes('acme'), DROPS.lines, DROPS.bytes, cost(appBytes('acme'))],
    ['globex', appLines('globex'), appBytes('globex'), 0, 0, cost(appBytes('globex'))]
  ].sort((a, b) => (b[2] as number) - (a[2] as number)))
  assert.equal(r.totals.bytes, corpus.bytes + appBytes('acme') + appBytes('globex'))
  assert.equal(r.totals.droppedLines, DROPS.lines)
  assert.deepEqual(r.drops, [{ reason: 'rate_limited', lines: DROPS.lines, bytes: DROPS.bytes }])
  assert.equal(r.currency, 'EUR')
  assert.equal(r.series.keys.reduce((n, k) => n + k.bytes.reduce((a, b) => a + b, 0), 0), r.totals.bytes)
})

test('--by app --format csv: one RFC 4180 row per org and app', async () => {
  const r = await runCliAsync(['usage', '--by', 'app', '--org', 'acme', '--format', 'csv'], fx.env)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, [
    'org,app,lines,bytes,dropped_lines,dropped_bytes,cost_eur',
    `acme,web,120,6000,${DROPS.lines},${DROPS.bytes},${cost(6000)}`,
    `acme,worker,40,1000,0,0,${cost(1000)}`,
    ''
  ].join('\r\n'))
})

test('--by day table: today, per org, a TOTAL row and the drops by reason', async () => {
  const r = await runCliAsync(['usage', '--by', 'day'], fx.env)
  assert.equal(r.status, 0, r.stderr)
  const today = new Date().toISOString().slice(0, 10)
  assert.match(r.stdout, new RegExp(`^${today}\\s+acme\\s+160\\s+6\\.8 KiB\\s+7\\s+700 B\\s+0\\.00$`, 'm'))
  assert.match(r.stdout, /^TOTAL\s+/m)
  assert.match(r.stdout, /rate_limited: 7 lines, 700 B/)
  assert.match(r.stdout, /at 0\.5 EUR\/GiB/)
})

test('--from/--to bound the report', async () => {
  const old = await usageJson(['--from', '30d', '--to', '1h'])
  assert.deepEqual(old.rows, [])
  assert.equal(old.totals.bytes, 0)
})

test('a tenant token sees its own org only; naming another org is 403', async () => {
  const own = await usageJson(['--by', 'app'], TENANTS.acme)
  assert.deepEqual(own.rows.map((x) => `${x.org}/${x.app}`).sort(), ['acme/web', 'acme/worker'])
  assert.equal(own.totals.bytes, appBytes('acme'))
  const other = await runCliAsync(['usage', '--org', 'globex'], { ...fx.env, DAYTWO_TOKEN: TENANTS.acme })
  assert.equal(other.status, 1)
  assert.match(other.stderr, /this token reads org acme only \[DAYTWO_ERR_FORBIDDEN\]/)
  const http = await fetch(`${fx.daytwo.urls.query}/api/v1/usage?org=globex`, { headers: { authorization: `Bearer ${TENANTS.acme}` } })
  assert.equal(http.status, 403)
  assert.equal(((await http.json()) as { code: string }).code, 'DAYTWO_ERR_FORBIDDEN')
  const globex = await fetch(`${fx.daytwo.urls.query}/api/v1/usage?org=globex&format=csv`, { headers: { authorization: `Bearer ${TENANTS.globex}` } })
  assert.equal(globex.status, 200)
  assert.match(globex.headers.get('content-type') ?? '', /^text\/csv/)
  assert.equal(await globex.text(), `org,lines,bytes,dropped_lines,dropped_bytes,cost_eur\r\nglobex,200,6000,0,0,${cost(6000)}\r\n`)
  const anon = await fetch(`${fx.daytwo.urls.query}/api/v1/usage`)
  assert.equal(anon.status, 401)
})

test('bad parameters are refused with the reason', async () => {
  for (const [args, re] of [
    [['--by', 'week'], /--by week: use org, app or day/],
    [['--format', 'xml'], /--format xml: use table, csv or json/],
    [['--from', 'last tuesday'], /--from last tuesday: give RFC 3339/],
    [['--from', '1h', '--to', '2h'], /from is not before to/],
    [['--nope'], /Unknown option '--nope'.*see `logs usage --help`/]
  ] as Array<[string[], RegExp]>) {
    const r = await runCliAsync(['usage', ...args], fx.env)
    assert.equal(r.status, 1, args.join(' '))
    assert.match(r.stderr, re)
  }
  const http = await fetch(`${fx.daytwo.urls.query}/api/v1/usage?by=week`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  assert.equal(http.status, 400)
  const help = await runCliAsync(['usage', '--help'], fx.env)
  for (const s of ['--org', '--from', '--to', '--by', '--format', '/api/v1/usage', '/usage', 'Examples:']) assert.ok(help.stdout.includes(s), s)
})
