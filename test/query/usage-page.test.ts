import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { OPERATOR, TENANTS, startQueryFixture, type QueryFixture } from '../helpers/query-fixture.js'
import { seedUsage } from '../helpers/query-usage.js'

// The /usage page in real headless Chromium: it renders, its chart (Chart.js, served by the
// query service itself) has data points, and its totals match the API's.

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
let fx: QueryFixture
let browser: Browser

before(async () => {
  if (!existsSync(CHROMIUM)) return
  fx = await startQueryFixture(10, { usage: { pricePerGiB: 1000, currency: 'USD' } })
  await seedUsage(fx)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
})
after(async () => {
  if (browser) await browser.close()
  if (fx) await fx.stop()
})

interface Totals { bytes: number, lines: number, cost: number }

async function api (query: string, token: string): Promise<{ totals: Totals, rows: Array<{ org: string, app?: string, bytes: number }> }> {
  const res = await fetch(`${fx.daytwo.urls.query}/api/v1/usage?${query}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(res.status, 200)
  return await res.json() as { totals: Totals, rows: Array<{ org: string, app?: string, bytes: number }> }
}

async function open (query: string): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`))
  await page.goto(`${fx.daytwo.urls.query}/usage?${query}`)
  await page.waitForFunction(() => (window as unknown as { daytwoUsage?: { ready: boolean } }).daytwoUsage?.ready === true, null, { timeout: 15000 })
  return { page, errors }
}

test('the page renders a chart with data points whose sum and totals match the API', async (t) => {
  if (!browser) { t.skip('chromium not installed (Debian package chromium)'); return }
  const { page, errors } = await open(`token=${OPERATOR}&by=app&from=2h`)
  t.after(() => page.close())
  const want = await api('by=app&from=2h', OPERATOR)
  assert.ok(want.totals.bytes > 0)
  const chart = await page.evaluate(() => {
    const c = (window as unknown as { daytwoUsage: { chart: { data: { datasets: Array<{ label: string, data: number[] }> } } } }).daytwoUsage.chart
    return c.data.datasets.map((d) => ({ label: d.label, points: d.data.length, sum: d.data.reduce((a, b) => a + b, 0) }))
  })
  assert.deepEqual(chart.map((d) => d.label).sort(), ['(none)', 'acme/web', 'acme/worker', 'globex/api'])
  assert.ok(chart.every((d) => d.points > 0 && d.sum > 0), JSON.stringify(chart))
  assert.equal(chart.reduce((n, d) => n + d.sum, 0), want.totals.bytes)
  assert.equal(Number(await page.getAttribute('#total-bytes', 'data-value')), want.totals.bytes)
  assert.equal(Number(await page.getAttribute('#total-lines', 'data-value')), want.totals.lines)
  assert.equal(Number(await page.getAttribute('#total-cost', 'data-value')), want.totals.cost)
  // Top talkers: the API's rows in the same order; drops by reason from the usage rows.
  const talkers = await page.$$eval('#talkers tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.bytes)))
  assert.deepEqual(talkers, want.rows.map((r) => r.bytes))
  assert.match(await page.innerText('#drops tbody'), /rate_limited\s+7\s+700 B/)
  // The token left the address bar (it lives in sessionStorage).
  assert.doesNotMatch(page.url(), /token=/)
  assert.deepEqual(errors, [])
})

test('a tenant sees its own org; asking for another shows the 403', async (t) => {
  if (!browser) { t.skip('chromium not installed (Debian package chromium)'); return }
  const { page } = await open(`token=${TENANTS.acme}&by=app&from=2h`)
  t.after(() => page.close())
  const labels = await page.evaluate(() => (window as unknown as { daytwoUsage: { chart: { data: { datasets: Array<{ label: string }> } } } }).daytwoUsage.chart.data.datasets.map((d) => d.label).sort())
  assert.deepEqual(labels, ['acme/web', 'acme/worker'])
  assert.equal(Number(await page.getAttribute('#total-bytes', 'data-value')), (await api('from=2h', TENANTS.acme)).totals.bytes)
  // The form: ask for another org with the stored token.
  await page.fill('#org', 'globex')
  await page.evaluate(() => { (window as unknown as { daytwoUsage: { ready: boolean } }).daytwoUsage.ready = false })
  await page.click('button[type=submit]')
  await page.waitForFunction(() => (window as unknown as { daytwoUsage: { ready: boolean } }).daytwoUsage.ready, null, { timeout: 15000 })
  assert.match(await page.innerText('#error'), /this token reads org acme only \[DAYTWO_ERR_FORBIDDEN\]/)
})
