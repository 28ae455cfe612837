import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDaytwo, tempDir } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { writeCriCorpus } from './lib/cri-corpus.js'
import { findSyslogNg, freshDir, hasRsyslog, startRsyslog, startSyslogNg, type Peer } from './lib/peers.js'
import { TreeSampler } from './lib/proc-stats.js'
import { fmt, log, machine, median } from './lib/report.js'
import { interleaved, ratioTable, saveResult, timeCommand, type Figures, type System } from './lib/run.js'
import { startIngestSink, startLineSink, until } from './lib/sinks.js'

// F1 — tail → network. node dist/bench/f1-tail.bench.js [--lines 1000000] [--files 20] [--runs 3] [--only daytwo-forwarder,rsyslog,…]
// One CRI corpus in the kubelet layout, read from the head by each system in turn, with
// fresh state every run; done when the sink (or daytwo's store) has every line. Wall time
// counts from spawning the process, so startup is included for everyone.

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, files: { type: 'string', default: '20' }, runs: { type: 'string', default: '3' }, only: { type: 'string' }, keep: { type: 'boolean' }, forwarder: { type: 'string', default: '{}' } } })
// --forwarder '{"pollIntervalMs":20}': extra forwarder config for experiments (printed with the table).
const EXTRA = JSON.parse(values.forwarder!) as Record<string, unknown>
const N = Number(values.lines)
const RUNS = Number(values.runs)
const TOKEN = 'bench-forwarder-token'
const TIMEOUT = Math.max(120_000, N / 2) // ms
const want = (name: string) => values.only === undefined || values.only.split(',').includes(name)

function result (doneMs: number, s: { cpuS: number, peakRssMB: number }, delivered: number): Figures {
  return { rate: N / (doneMs / 1000), secs: doneMs / 1000, cpuS: s.cpuS, rssMB: s.peakRssMB, delivered }
}

async function main (): Promise<void> {
  const tmp = tempDir('daytwo-f1-')
  const podRoot = join(tmp.path, 'pods')
  log(`F1: generating ${fmt(N)} CRI lines in ${values.files} pods under ${podRoot}…`)
  const corpus = await writeCriCorpus(podRoot, N, Number(values.files))
  log(`F1: ${fmt(corpus.bytes / 2 ** 20, 1)} MiB, ${fmt(corpus.bytes / N)} B/line; ${machine()}`)
  // Each system's one run; run interleaved (round 1 of every system, then round 2, …).
  const systems: System[] = []

  if (want('wc')) {
    systems.push({ name: 'wc -l', once: async () => {
      const t = await timeCommand('wc', ['-l', ...corpus.files])
      const total = Number(/(\d+) total/.exec(t.stdout)?.[1] ?? t.stdout.trim().split(/\s+/)[0])
      return { rate: N / t.secs, secs: t.secs, cpuS: t.cpuS, rssMB: t.rssMB, delivered: total }
    } })
  }

  const daytwoConfig = (dir: string, collectorUrl?: string) => ({
    dataDir: join(dir, 'data'),
    logLevel: 'warn',
    forwarder: {
      podLogRoot: podRoot, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(dir, 'none'), port: 0,
      ...(collectorUrl ? { collectorUrl, token: TOKEN } : {}),
      ...EXTRA
    },
    collector: { port: 0 },
    query: { port: 0 }
  })

  if (want('daytwo-forwarder')) {
    systems.push({ name: 'daytwo-forwarder', once: async () => {
      const dir = freshDir(tmp.path, 'daytwo-forwarder')
      const sink = await startIngestSink(TOKEN)
      const t0 = process.hrtime.bigint()
      const p = await startDaytwo('forwarder', daytwoConfig(dir, sink.url), dir)
      const sampler = new TreeSampler(p.child.pid!)
      try {
        const ms = await until(() => sink.count() >= N, t0, TIMEOUT)
        return result(ms, sampler.stop(), sink.count())
      } finally {
        sampler.stop()
        await p.stop()
        await sink.close()
        if (sink.unauthorized() > 0) log(`  sink refused ${sink.unauthorized()} requests`)
      }
    } })
  }

  if (want('daytwo-all')) {
    systems.push({ name: 'daytwo-all', once: async () => {
      const dir = freshDir(tmp.path, 'daytwo-all')
      const t0 = process.hrtime.bigint()
      const p = await startDaytwo('all', daytwoConfig(dir), dir)
      const sampler = new TreeSampler(p.child.pid!)
      let stored = 0
      try {
        const ms = await until(async () => {
          stored = metricValue(await (await fetch(`${p.urls.collector}/metrics`)).text(), 'daytwo_collector_records_stored_total')
          return stored >= N
        }, t0, TIMEOUT, 100)
        return result(ms, sampler.stop(), stored)
      } finally {
        sampler.stop()
        await p.stop()
      }
    } })
  }

  const peer = (name: string, start: (dir: string, port: number) => Peer): void => {
    systems.push({ name, once: async () => {
      const dir = freshDir(tmp.path, name) // no imfile-state / persist file from the last run
      const sink = await startLineSink()
      const t0 = process.hrtime.bigint()
      let p: Peer
      try { p = start(dir, sink.port) } catch (err) { await sink.close(); throw err }
      const sampler = new TreeSampler(p.pid)
      try {
        const ms = await until(() => sink.count() >= N, t0, TIMEOUT).catch((err: Error) => { throw new Error(`${err.message}; sink has ${sink.count()}\n${p.output()}`) })
        return result(ms, sampler.stop(), sink.count())
      } finally {
        sampler.stop()
        await p.stop()
        await sink.close()
      }
    } })
  }

  if (want('rsyslog') && hasRsyslog()) {
    peer('rsyslog', (dir, port) => startRsyslog(dir, `
module(load="imfile" mode="inotify")
template(name="raw" type="string" string="%rawmsg%")
input(type="imfile" File="${podRoot}/*/*/0.log" Tag="k8s" ruleset="fwd" addMetadata="off" freshStartTail="off")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" template="raw"
         queue.type="LinkedList" queue.size="1000000" queue.dequeueBatchSize="4096" action.resumeRetryCount="-1")
}`))
  } else if (want('rsyslog')) log('rsyslog: /usr/sbin/rsyslogd not found (apt-get install rsyslog)')

  const ng = findSyslogNg()
  if (want('syslog-ng') && ng) {
    peer('syslog-ng', (dir, port) => startSyslogNg(ng, dir, `
options { stats-freq(0); log-msg-size(65536); };
source s_pods { wildcard-file(base-dir("${podRoot}") filename-pattern("0.log") recursive(yes) flags(no-parse)
  max-files(1000) log-fetch-limit(10000) log-iw-size(10000000) follow-freq(1)); };
destination d_net { network("127.0.0.1" port(${port}) transport("tcp") template("\${MESSAGE}\\n") log-fifo-size(1000000) flush-lines(1000)); };
log { source(s_pods); destination(d_net); flags(flow-control); };`))
  } else if (want('syslog-ng')) log('syslog-ng: not unpacked (bash .ci/setup.d/syslog-ng.sh)')

  const rows = await interleaved(systems, RUNS)
  console.log(`\nF1 tail → network: ${fmt(N)} CRI lines (${fmt(corpus.bytes / 2 ** 20, 1)} MiB, ${corpus.files.length} files), median of ${RUNS} interleaved runs${values.forwarder !== '{}' ? `, forwarder config ${values.forwarder}` : ''}\n${machine()}\n`)
  console.log(ratioTable(rows, 'rsyslog', 'lines'))
  const f = rows.find((r) => r.name === 'daytwo-forwarder')
  const rs = rows.find((r) => r.name === 'rsyslog')
  if (f && f.runs.length > 0) {
    const rate = median(f.runs.map((x) => x.rate))
    const rss = median(f.runs.map((x) => x.rssMB))
    const rsRate = rs ? median(rs.runs.map((x) => x.rate)) : NaN
    console.log(`\ntargets: forwarder ≥ rsyslog's rate: ${Number.isFinite(rsRate) ? (rate >= rsRate ? 'met' : 'NOT met') + ` (${fmt(rate)} vs ${fmt(rsRate)} lines/s)` : 'rsyslog not measured'}; peak RSS < 100 MB: ${rss < 100 ? 'met' : 'NOT met'} (${fmt(rss, 1)} MB)`)
    if (values.forwarder === '{}') saveResult('f1', { lines: N, forwarderRate: rate, at: new Date().toISOString() })
  }
  for (const r of rows) for (const x of r.runs) if (x.delivered !== N) console.log(`note: ${r.name} delivered ${x.delivered} of ${N} lines in one run`)
  if (!values.keep) rmSync(tmp.path, { recursive: true, force: true })
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
