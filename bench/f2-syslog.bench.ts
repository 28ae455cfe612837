import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, startDaytwo, tempDir } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { findSyslogNg, freshDir, hasRsyslog, loggen, startRsyslog, startSyslogNg, type Peer } from './lib/peers.js'
import { TreeSampler } from './lib/proc-stats.js'
import { fmt, log, machine, median } from './lib/report.js'
import { ratioTable, repeat, type Figures, type Row } from './lib/run.js'
import { startLineSink, until, waitPort } from './lib/sinks.js'

// F2 — syslog TCP ingest. node dist/bench/f2-syslog.bench.js [--messages 500000] [--size 200] [--runs 3] [--only daytwo,rsyslog,syslog-ng]
// loggen --inet --stream --syslog-proto (octet-counted RFC 5424) sends as fast as the
// receiver takes it; done when every message is stored (daytwo) or counted at the peer's
// output sink. The figures are the receiver's (loggen is not counted); a run that lost a
// message is reported, never hidden.

const { values } = parseArgs({ options: { messages: { type: 'string', default: '500000' }, size: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, only: { type: 'string' }, connections: { type: 'string', default: '1' } } })
const N = Number(values.messages)
const RUNS = Number(values.runs)
const want = (name: string) => values.only === undefined || values.only.split(',').includes(name)
const lg = loggen()

/** loggen sends N messages (split over the connections); resolves when it exits. */
async function send (port: number): Promise<string> {
  const conns = Number(values.connections)
  const child = spawn(lg!.bin, ['--inet', '--stream', '--syslog-proto', '--rate', '10000000', '--number', String(N / conns), '--active-connections', String(conns), '--size', values.size!, '127.0.0.1', String(port)], { env: lg!.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  await once(child, 'exit')
  return out
}

async function measure (pid: number, port: number, count: () => number | Promise<number>, detail: () => string): Promise<Figures> {
  const sampler = new TreeSampler(pid)
  const t0 = process.hrtime.bigint()
  const sent = send(port)
  let got = 0
  try {
    const ms = await until(async () => (got = await count()) >= N, t0, Math.max(120_000, N / 5), 50)
      .catch(async (err: Error) => { throw new Error(`${err.message}: ${got} of ${N}; loggen said ${(await sent).slice(-400)}\n${detail().slice(-1000)}`) })
    await sent
    const s = sampler.stop()
    return { rate: N / (ms / 1000), secs: ms / 1000, cpuS: s.cpuS, rssMB: s.peakRssMB, delivered: await count() }
  } finally { sampler.stop() }
}

async function main (): Promise<void> {
  if (!lg) { console.log('loggen not found: bash .ci/setup.d/syslog-ng.sh'); return }
  const tmp = tempDir('daytwo-f2-')
  const rows: Row[] = []
  log(`F2: ${fmt(N)} messages of ${values.size} B per system; ${machine()}`)

  if (want('daytwo')) {
    rows.push({ name: 'daytwo', runs: await repeat('daytwo', RUNS, async () => {
      const dir = freshDir(tmp.path, 'daytwo')
      const port = await freePort()
      const none = join(dir, 'none')
      const p = await startDaytwo('all', {
        dataDir: join(dir, 'data'),
        logLevel: 'warn',
        forwarder: { podLogRoot: none, containerLogRoot: '', boshLogRoot: '', boshSpecFile: none, port: 0, syslog: { tcpPort: port } },
        collector: { port: 0 },
        query: { port: 0 }
      }, dir)
      try {
        await waitPort(port)
        const count = async () => metricValue(await (await fetch(`${p.urls.collector}/metrics`)).text(), 'daytwo_collector_records_stored_total')
        return await measure(p.child.pid!, port, count, () => p.stderr())
      } finally { await p.stop() }
    }) })
  }

  const peer = async (name: string, start: (dir: string, inPort: number, outPort: number) => Peer): Promise<void> => {
    rows.push({ name, runs: await repeat(name, RUNS, async () => {
      const dir = freshDir(tmp.path, name)
      const sink = await startLineSink()
      const port = await freePort()
      let p: Peer
      try { p = start(dir, port, sink.port) } catch (err) { await sink.close(); throw err }
      try {
        await waitPort(port)
        return await measure(p.pid, port, () => sink.count(), () => p.output())
      } finally { await p.stop(); await sink.close() }
    }) })
  }

  if (want('rsyslog') && hasRsyslog()) {
    await peer('rsyslog', (dir, inPort, outPort) => startRsyslog(dir, `
module(load="imtcp" MaxSessions="200")
template(name="line" type="string" string="%timereported:::date-rfc3339% %hostname% %app-name% %procid% %msg%")
input(type="imtcp" address="127.0.0.1" port="${inPort}" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${outPort}" protocol="tcp" template="line"
         queue.type="LinkedList" queue.size="1000000" queue.dequeueBatchSize="4096" action.resumeRetryCount="-1")
}`))
  }
  const ng = findSyslogNg()
  if (want('syslog-ng') && ng) {
    await peer('syslog-ng', (dir, inPort, outPort) => startSyslogNg(ng, dir, `
options { stats-freq(0); log-msg-size(65536); };
source s_net { syslog(ip("127.0.0.1") port(${inPort}) transport("tcp") max-connections(200) log-fetch-limit(10000) log-iw-size(1000000)); };
destination d_net { network("127.0.0.1" port(${outPort}) transport("tcp") template("\${ISODATE} \${HOST} \${PROGRAM} \${PID} \${MESSAGE}\\n") log-fifo-size(1000000)); };
log { source(s_net); destination(d_net); flags(flow-control); };`))
  }

  console.log(`\nF2 syslog TCP ingest: loggen --inet --stream --syslog-proto, ${fmt(N)} messages of ${values.size} B, ${values.connections} connection(s), median of ${RUNS} runs\n${machine()}\n`)
  console.log(ratioTable(rows, 'syslog-ng', 'msg'))
  const d = rows.find((r) => r.name === 'daytwo')
  const s = rows.find((r) => r.name === 'syslog-ng')
  if (d && s && d.runs.length > 0 && s.runs.length > 0) {
    const dr = median(d.runs.map((x) => x.rate))
    const sr = median(s.runs.map((x) => x.rate))
    console.log(`\ntarget: daytwo ≥ syslog-ng's rate: ${dr >= sr ? 'met' : 'NOT met'} (${fmt(dr)} vs ${fmt(sr)} msg/s)`)
  }
  for (const r of rows) for (const x of r.runs) if (x.delivered !== N) console.log(`note: ${r.name} delivered ${x.delivered} of ${N} in one run`)
  rmSync(tmp.path, { recursive: true, force: true })
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
