import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { httpGet, qs } from './lib/http-get.js'
import { difference, fromLogsQL, fromLoki, grepCount, grepLines, newestLines, runGrep, type Answer } from './lib/query-answers.js'
import { COMMON, DEFAULT_SPEC, readManifest, writeQueryCorpus, type CorpusSpec, type Manifest } from './lib/query-corpus.js'
import { fmt, log, machine, median, table } from './lib/report.js'
import { startOpenSearch, type OpenSearchNode } from '../test/opensearch/node.js'
import { startCountingProxy, type CountingProxy } from './lib/counting-proxy.js'
import { loadResult, saveResult } from './lib/run.js'
import { feedVictoriaLogs, rfc3339Ns, startVictoriaLogs, victoriaLogsBinary, victoriaLogsVersion, writeVictoriaLogsLines, type VictoriaLogs } from './lib/victoria-logs.js'

// Query cost. node dist/bench/query.bench.js [--lines 10000000] [--runs 3] [--dir DIR] [--seed 20] [--hours 2] [--no-peer] [--keep] [--store opensearch]
// A CRI corpus of 40 pods in 5 namespaces (bench/lib/query-corpus.ts) is ingested by
// `logs serve all` (forwarder → collector → embedded store) and by VictoriaLogs, then each
// question Grafana asks is put to daytwo's Loki API and to VictoriaLogs' LogsQL API, side by
// side with grep over the raw files of the same selection, in the same run: a warm-up round
// (page cache warm, answers checked), then `--runs` rounds, each question asked of every system
// in turn. Every answer is checked against the one taken from the raw files (grep, tail, or the
// generator's own tally of levels); a mismatch is printed loudly. Figures are medians.
// --store opensearch: a second `logs serve all` with store.kind opensearch (a real OpenSearch
// 2.19.6 node, test/opensearch/node.ts) ingests the same files and gets the same questions,
// side by side with the embedded store; a counting proxy in front of the node gives the engine
// requests each question cost (bench/lib/counting-proxy.ts).

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: String(DEFAULT_SPEC.lines) }, runs: { type: 'string', default: '3' }, dir: { type: 'string' },
    seed: { type: 'string', default: String(DEFAULT_SPEC.seed) }, hours: { type: 'string', default: String(DEFAULT_SPEC.spanMs / 3600_000) },
    'no-peer': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, store: { type: 'string', default: 'embedded' }
  }
})
const SPEC: CorpusSpec = { ...DEFAULT_SPEC, lines: Number(values.lines), seed: Number(values.seed), spanMs: Number(values.hours) * 3600_000 }
const N = SPEC.lines
const RUNS = Number(values.runs)
if (values.store !== 'embedded' && values.store !== 'opensearch') throw new Error(`--store ${values.store}: use opensearch (the embedded store always runs)`)
const WITH_OS = values.store === 'opensearch'
const TOKEN = 'bench-query-operator-token'
const S = 1_000_000_000n
const LOKI_HEADERS = { authorization: `Bearer ${TOKEN}`, 'x-query-tags': 'Source=grafana', 'user-agent': 'Grafana/11.3.0' }

interface Question {
  name: string
  kind: Answer['kind']
  loki: { path: string, params: Record<string, string> }
  logsql: { path: string, params: Record<string, string> }
  /** The reference grep and its label in the table; its output gives the expected answer unless `expected` does. */
  grep: { label: string, args: string[] }
  expect: (grepOut: Buffer) => Answer
  /** The target for daytwo ÷ grep, when it sets one. */
  target?: number
}

function questions (m: Manifest): Question[] {
  const shop = m.files.filter((f) => f.namespace === 'shop').map((f) => f.path)
  const all = m.files.map((f) => f.path)
  const start = BigInt(m.spec.startMs) * 1_000_000n
  const end = start + BigInt(m.spec.spanMs) * 1_000_000n
  const spanS = m.spec.spanMs / 1000
  // Grafana's step for a log query over the range (it sends one with every query_range).
  const logStep = String(Math.max(1, Math.ceil(spanS / 1000)))
  const range = (from: bigint, to: bigint) => ({ start: String(from), end: String(to) })
  const vlRange = (from: bigint, to: bigint) => ({ start: rfc3339Ns(from), end: rfc3339Ns(to) })
  const logQuery = (query: string, limit: number, from = start, to = end) => ({ path: 'query_range', params: { query, ...range(from, to), limit: String(limit), direction: 'backward', step: logStep } })
  const firstPage = newestLines(shop, 1000)
  // A job that stopped: its newest line is 6 h older than the range's end (the last 24 h).
  const stoppedEnd = BigInt(m.lastNs) + 6n * 3600n * S
  const stoppedStart = stoppedEnd - 24n * 3600n * S
  // Logs volume: Grafana's step for the range (1 m for 2 h), the window as long as the step ($__auto).
  const volStep = Math.max(60, Math.ceil(spanS / 120 / 60) * 60)
  const hours = Math.ceil(spanS / 3600)
  const levels = Object.keys(m.levels).filter((l) => m.levels[l]! > 0)
  const levelCounts: Record<string, number> = {}
  for (const l of levels) levelCounts[l] = m.levels[l]!
  return [
    {
      name: 'Explore\'s first page: `{namespace="shop"}` backward, limit 1000',
      kind: 'lines',
      loki: logQuery('{namespace="shop"}', 1000),
      logsql: { path: 'query', params: { query: '{namespace="shop"}', limit: '1000', ...vlRange(start, end) } },
      grep: { label: "grep -c '' (shop)", args: ['-ch', '', ...shop] },
      expect: () => firstPage,
      target: 0.5
    },
    {
      name: 'the same, newest line 6 h before the end of a 24 h range (a stopped job)',
      kind: 'lines',
      loki: logQuery('{namespace="shop"}', 1000, stoppedStart, stoppedEnd),
      logsql: { path: 'query', params: { query: '{namespace="shop"}', limit: '1000', ...vlRange(stoppedStart, stoppedEnd) } },
      grep: { label: "grep -c '' (shop)", args: ['-ch', '', ...shop] },
      expect: () => firstPage
    },
    {
      name: `\`{namespace="shop"} |= "${COMMON}"\`, limit 1000`,
      kind: 'lines',
      loki: logQuery(`{namespace="shop"} |= "${COMMON}"`, 1000),
      logsql: { path: 'query', params: { query: `{namespace="shop"} "${COMMON}"`, limit: '1000', ...vlRange(start, end) } },
      grep: { label: 'grep -F (shop)', args: ['-hF', COMMON, ...shop] },
      expect: (out) => grepLines(out, 1000)
    },
    {
      name: `\`sum(count_over_time({namespace="shop"} |= "${COMMON}" [1h]))\``,
      kind: 'count',
      loki: { path: 'query_range', params: { query: `sum(count_over_time({namespace="shop"} |= "${COMMON}" [1h]))`, ...range(start + 3600n * S, start + BigInt(hours) * 3600n * S), step: '3600' } },
      logsql: { path: 'query', params: { query: `{namespace="shop"} "${COMMON}" | stats count() hits`, ...vlRange(start, end) } },
      grep: { label: 'grep -cF (shop)', args: ['-chF', COMMON, ...shop] },
      expect: (out) => ({ kind: 'count', n: grepCount(out) }),
      target: 1
    },
    {
      name: `a rare string over every namespace: \`{namespace=~".+"} |= "${m.rare}"\`, limit 100`,
      kind: 'lines',
      loki: logQuery(`{namespace=~".+"} |= "${m.rare}"`, 100),
      logsql: { path: 'query', params: { query: `"${m.rare}"`, limit: '100', ...vlRange(start, end) } },
      grep: { label: 'grep -F (all)', args: ['-hF', m.rare, ...all] },
      expect: (out) => grepLines(out, 100),
      target: 1
    },
    {
      name: `logs volume: \`sum by (level) (count_over_time({namespace=~".+"}[${volStep / 60}m]))\`, step ${volStep} s`,
      kind: 'levels',
      loki: { path: 'query_range', params: { query: `sum by (level) (count_over_time({namespace=~".+"}[${volStep / 60}m]))`, ...range(start, end), step: String(volStep) } },
      logsql: { path: 'stats_query_range', params: { query: '* | stats by (level) count() hits', ...vlRange(start, end), step: `${volStep}s` } },
      grep: { label: "grep -c '' (all)", args: ['-ch', '', ...all] },
      expect: () => ({ kind: 'levels', counts: levelCounts }),
      target: 0.2
    },
    {
      name: '`label/level/values` (Grafana\'s label browser)',
      kind: 'values',
      loki: { path: 'label/level/values', params: range(start, end) },
      logsql: { path: 'field_values', params: { query: '*', field: 'level', ...vlRange(start, end) } },
      grep: { label: "grep -c '' (all)", args: ['-ch', '', ...all] },
      expect: () => ({ kind: 'values', values: levels })
    }
  ]
}

interface Cell { secs: number[], mismatches: string[], errors: string[] }
const cell = (): Cell => ({ secs: [], mismatches: [], errors: [] })

async function askDaytwo (url: string, q: Question): Promise<{ secs: number, answer: Answer }> {
  const r = await httpGet(`${url}/loki/api/v1/${q.loki.path}?${qs(q.loki.params)}`, LOKI_HEADERS)
  if (r.status !== 200) throw new Error(`daytwo answered ${r.status}: ${r.text.slice(0, 300)}`)
  return { secs: r.secs, answer: fromLoki(r.text, q.kind) }
}

async function askVictoriaLogs (vl: VictoriaLogs, q: Question): Promise<{ secs: number, answer: Answer }> {
  const r = await httpGet(`${vl.url}/select/logsql/${q.logsql.path}?${qs(q.logsql.params)}`)
  if (r.status !== 200) throw new Error(`VictoriaLogs answered ${r.status}: ${r.text.slice(0, 300)}`)
  return { secs: r.secs, answer: fromLogsQL(r.text, q.kind) }
}

async function ingestDaytwo (m: Manifest, work: string, store: Record<string, unknown> = {}, name = 'daytwo'): Promise<{ p: DaytwoProcess, rate: number, secs: number }> {
  const config = {
    node: 'node-1',
    dataDir: join(work, name),
    logLevel: 'warn',
    forwarder: { podLogRoot: m.root, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(work, 'none'), port: 0 },
    collector: { port: 0 },
    query: { port: 0, tokens: [TOKEN] },
    store: { retentionDays: 0, ...store } // the corpus's times are fixed, and older than the default 7 days may be
  }
  const t0 = Date.now()
  const p = await startDaytwo('all', config, work)
  let stored = 0
  const done = await waitFor(async () => {
    stored = metricValue(await (await fetch(`${p.urls.collector}/metrics`)).text(), 'daytwo_collector_records_stored_total')
    return stored >= N
  }, Math.max(600_000, N / 5), 500)
  if (!done) { await p.kill(); throw new Error(`daytwo stored ${stored} of ${N} lines\n${p.stderr().slice(-2000)}`) }
  const secs = (Date.now() - t0) / 1000
  return { p, rate: N / secs, secs }
}

async function ingestVictoriaLogs (m: Manifest, corpusDir: string, work: string): Promise<{ vl: VictoriaLogs, rate: number, secs: number, version: string } | { why: string }> {
  const b = victoriaLogsBinary(log)
  if ('why' in b) return b
  const jsonl = join(corpusDir, 'vl.jsonl')
  log('writing the corpus as VictoriaLogs JSON lines (once per corpus)…')
  writeVictoriaLogsLines(m, jsonl)
  const vl = await startVictoriaLogs(b.bin, join(work, 'victoria-logs'))
  const start = BigInt(m.spec.startMs) * 1_000_000n
  const countQuery = `${vl.url}/select/logsql/query?${qs({ query: '* | stats count() hits', start: rfc3339Ns(start), end: rfc3339Ns(start + BigInt(m.spec.spanMs) * 1_000_000n) })}`
  const t0 = Date.now()
  let n = 0
  let done = false
  try {
    await feedVictoriaLogs(vl, jsonl)
    done = await waitFor(async () => {
      const a = fromLogsQL((await httpGet(countQuery)).text, 'count')
      n = a.kind === 'count' ? a.n : 0
      return n >= N
    }, 120_000, 250)
  } catch (err) { await vl.stop(); throw err }
  if (!done) { await vl.stop(); return { why: `VictoriaLogs holds ${n} of ${N} lines after ingest\n${vl.output().slice(-2000)}` } }
  const secs = (Date.now() - t0) / 1000
  return { vl, rate: N / secs, secs, version: victoriaLogsVersion(b.bin) }
}

async function main (): Promise<void> {
  const atStart = machine()
  log(`query bench: ${fmt(N)} lines; ${atStart}`)
  const work = tempDir('daytwo-query-bench-')
  const corpusDir = values.dir ?? join(work.path, 'corpus')
  let m = readManifest(corpusDir, SPEC)
  if (m) log(`reusing the corpus in ${corpusDir}`)
  else {
    log(`generating ${fmt(N)} CRI lines over ${SPEC.pods} pods in ${corpusDir}…`)
    const t0 = Date.now()
    m = writeQueryCorpus(corpusDir, SPEC)
    log(`  ${fmt(m.bytes / 2 ** 20)} MiB in ${fmt((Date.now() - t0) / 1000, 1)} s`)
  }
  const asks = questions(m)
  const shopLines = m.files.filter((f) => f.namespace === 'shop').reduce((n, f) => n + f.lines, 0)

  let vl: VictoriaLogs | null = null
  log('ingesting into daytwo (serve all)…')
  const d = await ingestDaytwo(m, work.path)
  // Should the bench fail half-way (it exits at once), its servers do not outlive it.
  process.once('exit', () => { d.p.child.kill('SIGKILL'); vl?.child.kill('SIGKILL') })
  log(`  daytwo: ${fmt(d.rate)} lines/s (${fmt(d.secs, 1)} s from start to every line stored)`)
  let peer = 'VictoriaLogs: not run (--no-peer)'
  if (!values['no-peer']) {
    log('ingesting into VictoriaLogs…')
    const v = await ingestVictoriaLogs(m, corpusDir, work.path).catch((err: Error) => ({ why: err.message }))
    if ('why' in v) { peer = `VictoriaLogs: not measured: ${v.why}`; log(peer) } else {
      vl = v.vl
      peer = `VictoriaLogs ${v.version}: ${fmt(v.rate)} lines/s ingest (${fmt(v.secs, 1)} s from the first POST of JSON lines to every line counted)`
      log(`  ${peer}`)
    }
  }

  let os: { node: OpenSearchNode, proxy: CountingProxy, d: Awaited<ReturnType<typeof ingestDaytwo>> } | null = null
  if (WITH_OS) {
    log('starting OpenSearch, then ingesting into a daytwo with store.kind opensearch…')
    const node = await startOpenSearch()
    process.once('exit', () => { void node.stop() })
    const proxy = await startCountingProxy(node.url)
    const od = await ingestDaytwo(m, work.path, { kind: 'opensearch', opensearch: { url: proxy.url, ismPolicy: '' } }, 'daytwo-opensearch')
    process.once('exit', () => { od.p.child.kill('SIGKILL') })
    // Every stored line visible to searches before the first question.
    await fetch(`${node.url}/_refresh`, { method: 'POST' })
    os = { node, proxy, d: od }
    log(`  daytwo on OpenSearch: ${fmt(od.rate)} lines/s (${fmt(od.secs, 1)} s from start to every line stored)`)
  }

  const cells = asks.map(() => ({ daytwo: cell(), grep: cell(), vl: cell(), os: cell(), osRequests: [] as number[] }))
  const expected: Answer[] = []
  const round = async (timed: boolean) => {
    for (let i = 0; i < asks.length; i++) {
      const q = asks[i]!
      const c = cells[i]!
      try {
        const g = await runGrep(q.grep.args)
        if (!timed) expected[i] = q.expect(g.stdout)
        else c.grep.secs.push(g.secs)
      } catch (err) { c.grep.errors.push((err as Error).message) }
      const systems: Array<[Cell, () => Promise<{ secs: number, answer: Answer }>]> = [[c.daytwo, async () => await askDaytwo(d.p.urls.query!, q)]]
      if (vl) systems.push([c.vl, async () => await askVictoriaLogs(vl!, q)])
      if (os) {
        const o = os
        systems.push([c.os, async () => {
          const before = o.proxy.counts.search
          const r = await askDaytwo(o.d.p.urls.query!, q)
          c.osRequests.push(o.proxy.counts.search - before)
          return r
        }])
      }
      for (const [x, ask] of systems) {
        try {
          const r = await ask()
          if (timed) x.secs.push(r.secs)
          const diff = expected[i] ? difference(expected[i]!, r.answer) : 'no expected answer (grep failed)'
          if (diff) x.mismatches.push(diff)
        } catch (err) { x.errors.push((err as Error).message) }
      }
    }
  }
  log('warm-up round (page cache, answers)…')
  await round(false)
  for (let r = 1; r <= RUNS; r++) {
    log(`round ${r}/${RUNS}…`)
    await round(true)
  }

  const med = (x: Cell) => median(x.secs)
  const ratio = (a: number, b: number) => Number.isFinite(a) && Number.isFinite(b) && b > 0 ? fmt(a / b, 2) + '×' : '–'
  const eq = (x: Cell, ran: boolean) => !ran ? '–' : x.errors.length > 0 ? 'ERROR' : x.mismatches.length > 0 ? 'NO' : 'yes'
  const rows = asks.map((q, i) => {
    const c = cells[i]!
    const dt = med(c.daytwo)
    const g = med(c.grep)
    const v = med(c.vl)
    // A pipe in a Markdown table's cell must be escaped, even inside a code span.
    return [q.name.replaceAll('|', '\\|'), fmt(dt, 3), q.grep.label, fmt(g, 3), vl ? fmt(v, 3) : '–', ratio(dt, g), ratio(v, g), ratio(dt, v),
      q.target === undefined ? '–' : `≤ ${q.target}× ${Number.isFinite(dt / g) ? (dt / g <= q.target ? 'met' : 'NOT met') : ''}`,
      eq(c.daytwo, true), eq(c.vl, vl !== null)]
  })
  console.log(`\nQuery cost: ${fmt(N)} CRI lines (${fmt(m.bytes / 2 ** 20)} MiB) of ${m.files.length} pods in 5 namespaces over ${values.hours} h (shop: ${fmt(shopLines)} lines), median of ${RUNS} runs, page cache warm`)
  console.log(`machine at start: ${atStart}; ${cpus().length} cores`)
  console.log(`machine at end: ${machine()}`)
  console.log(`ingest: daytwo serve all ${fmt(d.rate)} lines/s (${fmt(d.secs, 1)} s); ${peer}\n`)
  console.log(table(['question (what Grafana sends)', 'daytwo s', 'reference', 'grep s', 'VictoriaLogs s', 'daytwo ÷ grep', 'VL ÷ grep', 'daytwo ÷ VL', 'target daytwo ÷ grep', 'daytwo answer =', 'VL answer ='], rows))
  if (os) {
    console.log(`\nThe same questions on daytwo with store.kind opensearch (OpenSearch 2.19.6, one node, 512 MiB heap; ingest ${fmt(os.d.rate)} lines/s, ${fmt(os.d.secs, 1)} s), median of ${RUNS} runs:\n`)
    console.log(table(['question', 'embedded s', 'OpenSearch s', 'OpenSearch ÷ embedded', 'engine searches per question', 'OpenSearch answer ='], asks.map((q, i) => {
      const c = cells[i]!
      const reqs = [...new Set(c.osRequests)].join(' / ')
      return [q.name.replaceAll('|', '\\|'), fmt(med(c.daytwo), 3), fmt(med(c.os), 3), ratio(med(c.os), med(c.daytwo)), reqs, eq(c.os, true)]
    })))
  }

  let bad = 0
  for (let i = 0; i < asks.length; i++) {
    for (const [who, x] of [['daytwo', cells[i]!.daytwo], ['VictoriaLogs', cells[i]!.vl], ['grep', cells[i]!.grep], ['daytwo on OpenSearch', cells[i]!.os]] as Array<[string, Cell]>) {
      for (const e of new Set(x.errors)) { bad++; console.log(`\n!!! ERROR ${who}, ${asks[i]!.name}: ${e}`) }
      for (const e of new Set(x.mismatches)) { bad++; console.log(`\n!!! MISMATCH ${who}, ${asks[i]!.name}: ${e}`) }
    }
  }
  if (bad === 0) console.log(`\nevery answer equals the raw files' (grep, tail, or the generator's count of lines per level)${vl ? ', for daytwo and VictoriaLogs' : ''}`)

  // "The same time at 1 M and 10 M lines": each scale's first-page time is kept for the other's run.
  const first = med(cells[0]!.daytwo)
  saveResult(`query-${N}`, { lines: N, firstPageS: first, at: new Date().toISOString() })
  for (const other of [1_000_000, 10_000_000, 30_000_000].filter((x) => x !== N)) {
    const o = loadResult<{ lines: number, firstPageS: number, at: string }>(`query-${other}`)
    if (o) console.log(`Explore's first page: ${fmt(first, 3)} s at ${fmt(N)} lines, ${fmt(o.firstPageS, 3)} s at ${fmt(o.lines)} lines (run at ${o.at}): ${ratio(first, o.firstPageS)}`)
  }

  await d.p.stop()
  if (vl) await vl.stop()
  if (os) { await os.d.p.stop(); await os.proxy.close(); await os.node.stop() }
  if (values.keep) log(`kept ${work.path}`)
  else work.cleanup()
  if (bad > 0) process.exitCode = 2
}

main().then(() => process.exit(process.exitCode ?? 0), (err) => { console.error(err); process.exit(1) })
