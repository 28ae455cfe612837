import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { alertProblems, unansweredPanels } from '../alerts/expressions.js'
import { freePort, startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { prometheusMissing, promtoolCheckMetrics, startPrometheus, type VectorResult } from '../helpers/prometheus.js'
import { operatorToken } from '../helpers/query-api.js'

// daytwo `serve all` on temp log roots, a real Prometheus scraping the collector's
// /fleet/metrics every second, and a corpus of CRI and BOSH lines with known counts per job
// and level. Everything asserted is read back through Prometheus's HTTP API. The same
// Prometheus scrapes every role's /metrics too, and at the end every dashboard expression
// must return data and every alert expression evaluate on series that exist
// (test/alerts/expressions.ts): tenants, a log-rate limit and syslog are on for that.

const TS = '2026-01-02T03:04:05.123456789Z'
const cri = (stdio: string, msg: string) => `${TS} ${stdio} F ${msg}\n`

interface JobCorpus { lines: number, error: number, warn: number }

function writeCorpus (root: string): Record<string, JobCorpus> {
  const pods = join(root, 'pods')
  const bosh = join(root, 'bosh')
  // cf/router/0 (StatefulSet pod router-0): JSON and logfmt levels, stdout and stderr.
  const router = join(pods, 'cf_router-0_0f0f0f0f', 'router')
  mkdirSync(router, { recursive: true })
  let text = ''
  for (let i = 0; i < 5; i++) text += cri('stderr', JSON.stringify({ level: 'error', msg: `upstream failed ${i}` }))
  for (let i = 0; i < 4; i++) text += cri('stdout', `ts=2026-01-02T03:04:05Z level=warn msg="slow backend" n=${i}`)
  for (let i = 0; i < 21; i++) text += cri('stdout', JSON.stringify({ level: 'info', msg: `request ${i}`, status: 200 }))
  writeFileSync(join(router, '0.log'), text)
  // cf/api/x2x4z (Deployment pod): klog and plain ERROR prefixes.
  const api = join(pods, 'cf_api-7d9f8b6c5-x2x4z_1a1a1a1a', 'api')
  mkdirSync(api, { recursive: true })
  text = ''
  for (let i = 0; i < 3; i++) text += cri('stderr', `ERROR could not reach database (attempt ${i})`)
  for (let i = 0; i < 2; i++) text += cri('stderr', `W0102 03:04:05.123456       1 cache.go:42] stale entry ${i}`)
  for (let i = 0; i < 15; i++) text += cri('stdout', `I0102 03:04:05.123456       1 server.go:7] served ${i}`)
  writeFileSync(join(api, '0.log'), text)
  // The BOSH VM's own job logs: deployment cf, instance group uaa, index 0.
  mkdirSync(join(bosh, 'uaa'), { recursive: true })
  text = ''
  for (let i = 0; i < 2; i++) text += `[2026-01-02 03:04:05.123] ERROR --- token store unavailable ${i}\n`
  text += JSON.stringify({ level: 50, msg: 'pino error' }) + '\n'
  for (let i = 0; i < 3; i++) text += `2026-01-02T03:04:05Z WARN  slow query ${i}\n`
  for (let i = 0; i < 6; i++) text += `plain line without a level ${i}\n`
  writeFileSync(join(bosh, 'uaa', 'uaa.stdout.log'), text)
  // cf/quiet/0 writes one line and stops.
  const quiet = join(pods, 'cf_quiet-0_2b2b2b2b', 'quiet')
  mkdirSync(quiet, { recursive: true })
  writeFileSync(join(quiet, '0.log'), cri('stdout', 'INFO started, nothing more to say'))
  return { router: { lines: 30, error: 5, warn: 4 }, api: { lines: 20, error: 3, warn: 2 }, uaa: { lines: 12, error: 3, warn: 3 }, quiet: { lines: 1, error: 0, warn: 0 } }
}

function byJob (r: VectorResult[]): Record<string, number> {
  return Object.fromEntries(r.map((s) => [s.metric.job ?? '', Number(s.value[1])]))
}

test('one Prometheus scrape of the collector covers node, job and log-derived metrics of the fleet', { timeout: 120_000 }, async (t) => {
  const missing = prometheusMissing()
  if (missing) { t.skip(missing); return }
  const dir = tempDir('daytwo-fleet-')
  // One after-hook, in order: stop writers and processes first, the temp dir last.
  const cleanups: Array<() => unknown> = []
  t.after(async () => {
    for (const c of cleanups.reverse()) { try { await c() } catch { /* keep cleaning */ } }
    dir.cleanup()
  })
  const expected = writeCorpus(dir.path)

  // A chatty instance keeps logging for the whole test: it must not be reported silent.
  const chatty = join(dir.path, 'pods', 'cf_chatty-0_3c3c3c3c', 'chatty')
  mkdirSync(chatty, { recursive: true })
  writeFileSync(join(chatty, '0.log'), cri('stdout', 'INFO hello'))
  const talker = setInterval(() => appendFileSync(join(chatty, '0.log'), cri('stdout', 'INFO still here')), 300)
  cleanups.push(() => clearInterval(talker))

  // A BOSH job process: a pid file naming a real, running process.
  const run = join(dir.path, 'run', 'uaa')
  mkdirSync(run, { recursive: true })
  const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' })
  cleanups.push(() => sleeper.kill('SIGKILL'))
  writeFileSync(join(run, 'uaa.pid'), `${sleeper.pid}\n`)

  // Org shop, app web: over its 1 KiB/s log-rate limit from the first batch.
  const shop = join(dir.path, 'pods', 'shop_web-0_4d4d4d4d', 'web')
  mkdirSync(shop, { recursive: true })
  writeFileSync(join(shop, '0.log'), Array.from({ length: 300 }, (_, i) => cri('stdout', `GET /cart/${i} 200 ${'x'.repeat(60)}`)).join(''))
  const mapping = join(dir.path, 'tenants.json')
  writeFileSync(mapping, JSON.stringify({ rules: [{ match: { namespace: 'shop' }, org: 'shop', app: 'web' }] }))

  const daytwo = await startDaytwo('all', {
    node: 'node-a',
    dataDir: join(dir.path, 'data'),
    logLevel: 'warn',
    forwarder: {
      port: 0,
      podLogRoot: join(dir.path, 'pods'),
      containerLogRoot: '',
      boshLogRoot: join(dir.path, 'bosh'),
      deployment: 'cf',
      job: 'uaa',
      index: '0',
      scanIntervalMs: 200,
      pollIntervalMs: 100,
      metrics: { intervalMs: 500, boshRunRoot: join(dir.path, 'run') },
      syslog: { udpPort: await freePort() }
    },
    collector: {
      port: 0,
      fleet: { silentAfterMs: 3000, heartbeatTimeoutMs: 5000, graceMs: 60000 },
      tenants: { mappingFile: mapping, appLogRateLimits: ['shop/web=1K'] }
    },
    query: { port: 0 }
  }, dir.path)
  cleanups.push(async () => await daytwo.stop())
  const fleetUrl = `${daytwo.urls.collector!}/fleet/metrics`

  const roleTargets = Object.entries(daytwo.urls).map(([role, url]) => ({ job: `daytwo-${role}`, url: `${url}/metrics` }))
  const prom = await startPrometheus([{ job: 'daytwo-fleet', url: fleetUrl }, ...roleTargets], dir.path)
  cleanups.push(async () => await prom.stop())

  const jobs = Object.keys(expected)
  let lines: Record<string, number> = {}
  const counted = await waitFor(async () => {
    lines = byJob(await prom.query('sum by (job) (daytwo_log_lines_total{deployment="cf",node="node-a"})'))
    return jobs.every((j) => lines[j] === expected[j]!.lines)
  }, 40000, 500)
  assert.ok(counted, `line counts per job in Prometheus ${JSON.stringify(lines)}, expected ${JSON.stringify(expected)}\nstderr:\n${daytwo.stderr().slice(-3000)}`)

  const errors = byJob(await prom.query('sum by (job) (daytwo_log_lines_by_level_total{level="error"})'))
  const warns = byJob(await prom.query('sum by (job) (daytwo_log_lines_by_level_total{level="warn"})'))
  for (const j of jobs) {
    assert.equal(errors[j] ?? 0, expected[j]!.error, `error lines of ${j}`)
    assert.equal(warns[j] ?? 0, expected[j]!.warn, `warn lines of ${j}`)
  }
  // Every level of a stream adds up to its lines.
  const levels = byJob(await prom.query('sum by (job) (daytwo_log_lines_by_level_total{deployment="cf"})'))
  for (const j of jobs) assert.equal(levels[j], expected[j]!.lines, `lines by level of ${j} sum to its lines`)

  // Rates exist for every job; the chatty one is above zero.
  let rates: Record<string, number> = {}
  const rated = await waitFor(async () => {
    rates = byJob(await prom.query('sum by (job) (rate(daytwo_log_lines_total{deployment="cf"}[15s]))'))
    return [...jobs, 'chatty'].every((j) => j in rates)
  }, 20000, 500)
  assert.ok(rated, `a line rate for every job: ${JSON.stringify(rates)}`)
  assert.ok(rates.chatty! > 0, `chatty logs continuously: ${JSON.stringify(rates)}`)

  // Node resources of this very machine, tagged with the node's instance.
  const cpu = await prom.query('daytwo_node_cpu_seconds_total{node="node-a",deployment="cf",job="uaa",index="0"}')
  assert.deepEqual(new Set(cpu.map((s) => s.metric.mode)), new Set(['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal']))
  const mem = await prom.query('daytwo_node_memory_total_bytes{node="node-a"}')
  assert.equal(mem.length, 1)
  assert.equal(Number(mem[0]!.value[1]), totalmem(), 'MemTotal from /proc/meminfo')
  const avail = await prom.query('daytwo_node_memory_available_bytes{node="node-a"}')
  assert.ok(avail.length === 1 && Number(avail[0]!.value[1]) > 0)
  const dataDisk = await prom.query('daytwo_node_path_avail_bytes{use="data_dir"}')
  assert.equal(dataDisk.length, 1)
  assert.ok(Number(dataDisk[0]!.value[1]) > 0)

  // The BOSH job process from its pid file.
  const procUp = await prom.query('daytwo_job_process_up{process="uaa",pidfile="uaa"}')
  assert.equal(procUp.length, 1)
  assert.equal(procUp[0]!.value[1], '1')
  const rss = await prom.query('daytwo_job_process_resident_memory_bytes{process="uaa"}')
  assert.ok(rss.length === 1 && Number(rss[0]!.value[1]) > 0)

  // quiet stopped writing: silent; chatty is not; both are up (their forwarder reports them).
  let silent: Record<string, number> = {}
  const quietSilent = await waitFor(async () => {
    silent = byJob(await prom.query('daytwo_instance_silent{deployment="cf"}'))
    return silent.quiet === 1
  }, 20000, 500)
  assert.ok(quietSilent, `quiet reported silent: ${JSON.stringify(silent)}`)
  assert.equal(silent.chatty, 0, 'chatty is not silent')
  const up = byJob(await prom.query('daytwo_instance_up{deployment="cf"}'))
  for (const j of [...jobs, 'chatty']) assert.equal(up[j], 1, `${j} up`)
  const events = await prom.query('daytwo_fleet_events_total{job="quiet",event="instance_silent"}')
  assert.equal(events.length, 1, 'the silence is an event')

  const health = await prom.targets()
  assert.deepEqual(health.map((h) => [h.job, h.health, h.lastError]).sort(), [['daytwo-collector', 'up', ''], ['daytwo-fleet', 'up', ''], ['daytwo-forwarder', 'up', ''], ['daytwo-query', 'up', '']])

  // A query answered, so the query panels have series.
  const instances = await fetch(`${daytwo.urls.query!}/api/v1/instances`, { headers: { authorization: `Bearer ${operatorToken(join(dir.path, 'data'))}` } })
  assert.equal(instances.status, 200)
  // Every dashboard panel's query returns data, and every alert evaluates on series that exist.
  let unanswered: string[] = []
  const answered = await waitFor(async () => { unanswered = await unansweredPanels(prom); return unanswered.length === 0 }, 30000, 1000)
  assert.ok(answered, `dashboard queries without data:\n${unanswered.join('\n')}`)
  assert.deepEqual(await alertProblems(prom), [])

  // The aggregated endpoint and every role's own /metrics pass promtool's lint.
  for (const [name, url] of [['fleet', fleetUrl], ...Object.entries(daytwo.urls).map(([r, u]) => [r, `${u}/metrics`])] as Array<[string, string]>) {
    const text = await (await fetch(url)).text()
    const check = await promtoolCheckMetrics(text)
    assert.equal(check.code, 0, `promtool check metrics on ${name} (${url}):\n${check.output}`)
    assert.equal(check.output.trim(), '', `promtool lint findings on ${name}:\n${check.output}`)
  }
})
