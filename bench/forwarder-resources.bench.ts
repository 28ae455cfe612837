import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { criLines, podDir } from './lib/cri-corpus.js'
import { freshDir } from './lib/peers.js'
import { cpuSeconds, rssMB, TreeSampler } from './lib/proc-stats.js'
import { fmt, log, machine, median, table } from './lib/report.js'
import { startIngestSink, until } from './lib/sinks.js'

// Forwarder resources. node dist/bench/forwarder-resources.bench.js [--files 1000] [--seconds 30] [--mb 200] [--runs 3] [--only idle,backpressure]
// (1) idle: `files` CRI files with a few lines each; once they are shipped and 5 s have
//     passed, the forwarder's CPU over `seconds`, with watch on (inotify) and off (polling).
// (2) backpressure: collectorUrl at a closed port while `mb` MB of lines are appended; the
//     forwarder's RSS is sampled every 100 ms during the writes and 10 s after; then a sink
//     comes up on that port and the time until every line arrived is measured.

const { values } = parseArgs({ options: { files: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '30' }, mb: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, only: { type: 'string' } } })
const FILES = Number(values.files)
const SECS = Number(values.seconds)
const RUNS = Number(values.runs)
const TOKEN = 'bench-forwarder-token'
const want = (name: string) => values.only === undefined || values.only.split(',').includes(name)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function forwarderConfig (dir: string, podRoot: string, collectorUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { dataDir: join(dir, 'data'), logLevel: 'error', forwarder: { podLogRoot: podRoot, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(dir, 'none'), port: 0, collectorUrl, token: TOKEN, ...extra } }
}

async function idle (base: string): Promise<string[][]> {
  const podRoot = join(base, 'idle-pods')
  for (let f = 0; f < FILES; f++) {
    const dir = join(podDir(podRoot, f), 'app')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, '0.log'), criLines(f * 3, 3))
  }
  const rows: string[][] = []
  for (const watch of [true, false]) {
    const runs: Array<{ cpuPct: number, rss: number, fds: number }> = []
    for (let r = 1; r <= RUNS; r++) {
      const dir = freshDir(base, `idle-${watch}`)
      const sink = await startIngestSink(TOKEN)
      const p = await startDaytwo('forwarder', forwarderConfig(dir, podRoot, sink.url, { watch }), dir)
      try {
        const t0 = process.hrtime.bigint()
        await until(() => sink.count() >= FILES * 3, t0, 120_000, 100)
          .catch((err: Error) => { throw new Error(`${err.message}: the sink has ${sink.count()} of ${FILES * 3} lines\n${p.stderr().slice(-2000)}`) })
        log(`  idle watch=${watch} run ${r}/${RUNS}: the first line of each of ${FILES} files shipped after ${fmt(Number(process.hrtime.bigint() - t0) / 1e9, 1)} s`)
        await sleep(5000)
        const pid = p.child.pid!
        const c0 = cpuSeconds(pid)
        await sleep(SECS * 1000)
        const cpuPct = (cpuSeconds(pid) - c0) / SECS * 100
        const fds = readdirSync(`/proc/${pid}/fd`).length
        runs.push({ cpuPct, rss: rssMB(pid), fds })
        log(`  idle watch=${watch} run ${r}/${RUNS}: CPU ${fmt(cpuPct, 2)} %, RSS ${fmt(rssMB(pid), 1)} MB, ${fds} fds`)
      } finally { await p.stop(); await sink.close() }
    }
    rows.push([`watch: ${watch}`, fmt(median(runs.map((x) => x.cpuPct)), 2), fmt(median(runs.map((x) => x.rss)), 1), fmt(median(runs.map((x) => x.fds))), String(runs.length)])
  }
  return rows
}

async function backpressure (base: string): Promise<string[][]> {
  const rows: string[][] = []
  const bytes = Number(values.mb) * 2 ** 20
  for (let r = 1; r <= RUNS; r++) {
    const dir = freshDir(base, 'backpressure')
    const podRoot = join(dir, 'pods')
    const files: string[] = []
    for (let f = 0; f < 20; f++) {
      const d = join(podDir(podRoot, f), 'app')
      mkdirSync(d, { recursive: true })
      files.push(join(d, '0.log'))
      writeFileSync(files[f]!, '')
    }
    const port = await freePort() // nothing listens there until the end
    const p: DaytwoProcess = await startDaytwo('forwarder', forwarderConfig(dir, podRoot, `http://127.0.0.1:${port}`, { retryMaxMs: 1000 }), dir)
    const pid = p.child.pid!
    let sink: Awaited<ReturnType<typeof startIngestSink>> | undefined
    try {
      await sleep(2000)
      const baseline = rssMB(pid)
      const sampler = new TreeSampler(pid)
      let written = 0
      let lines = 0
      while (written < bytes) {
        for (const f of files) {
          const chunk = criLines(lines, 2000)
          appendFileSync(f, chunk)
          written += chunk.length
          lines += 2000
        }
      }
      await sleep(10_000)
      const page = await (await fetch(`${p.urls.forwarder}/metrics`)).text()
      const queued = metricValue(page, 'daytwo_forwarder_queued_bytes')
      const s = sampler.stop()
      log(`  backpressure run ${r}/${RUNS}: ${fmt(written / 2 ** 20)} MiB (${fmt(lines)} lines) written; RSS ${fmt(baseline, 1)} MB before, peak ${fmt(s.peakRssMB, 1)} MB; queued ${fmt(queued / 2 ** 20, 2)} MiB`)
      sink = await startIngestSink(TOKEN, port)
      const t0 = process.hrtime.bigint()
      const ms = await until(() => sink!.count() >= lines, t0, 600_000, 100)
      log(`    collector back: all ${fmt(lines)} lines delivered in ${fmt(ms / 1000, 1)} s`)
      rows.push([String(r), fmt(written / 2 ** 20), fmt(baseline, 1), fmt(s.peakRssMB, 1), fmt(s.peakRssMB - baseline, 1), fmt(queued / 2 ** 20, 2), fmt(ms / 1000, 1), fmt(sink.count())])
    } finally { await p.stop(); await sink?.close() }
  }
  return rows
}

async function main (): Promise<void> {
  const tmp = tempDir('daytwo-fres-')
  console.log(`Forwarder resources, ${machine()}`)
  if (want('idle')) {
    const rows = await idle(tmp.path)
    console.log(`\n(1) ${FILES} idle CRI files: forwarder CPU over ${SECS} s after startup settled (median of ${RUNS} runs)\n`)
    console.log(table(['mode', 'CPU %', 'RSS MB', 'open fds', 'runs'], rows))
  }
  if (want('backpressure')) {
    const rows = await backpressure(tmp.path)
    console.log(`\n(2) backpressure: collector down while ${values.mb} MB of CRI lines are appended to 20 files; defaults maxQueuedBatches 2 × batchMaxBytes 1 MiB\n`)
    console.log(table(['run', 'MiB written', 'RSS before MB', 'peak RSS MB', 'growth MB', 'queued MiB (metric)', 'drain s', 'lines delivered'], rows))
  }
  tmp.cleanup()
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
