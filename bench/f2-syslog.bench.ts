import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { freePort, startDaytwo, tempDir } from '../test/helpers/daytwo-process.js'
import { metricValue } from '../test/helpers/syslog-senders.js'
import { findSyslogNg, freshDir, hasRsyslog, loggen, startRsyslog, startSyslogNg, type Peer } from './lib/peers.js'
import { TreeSampler } from './lib/proc-stats.js'
import { fmt, log, machine, median } from './lib/report.js'
import { interleaved, ratioTable, type Figures, type System } from './lib/run.js'
import { until, waitPort } from './lib/sinks.js'

// F2 — syslog TCP ingest.
//   node dist/bench/f2-syslog.bench.js [--messages 500000] [--size 200] [--runs 3] [--connections 1]
//     [--only daytwo-forwarder,daytwo,rsyslog,syslog-ng] [--cpu-prof DIR] [--forwarder JSON]
// loggen --inet --stream --syslog-proto (octet-counted RFC 5424) sends as fast as the
// receiver takes it. Rows:
//   - daytwo-forwarder: `serve forwarder` (listener, parse, fsynced disk spool, shipper) into
//     a sink here that speaks the ingest protocol and acknowledges at once — the same path as
//     the peers, which relay to a TCP sink here;
//   - daytwo: `serve all` (the forwarder plus collector and embedded store in one process);
//     done when the store counted every record as newly stored (ids are unique);
//   - rsyslog (imtcp → omfwd) and syslog-ng (syslog() → network(), flow control) into a TCP
//     line sink.
// "Nothing lost": the sinks count distinct loggen messages (its `seq:` and `thread:` fields),
// so a duplicate cannot hide a loss. A run is done when all N distinct messages arrived. The
// figures are the receiver's (loggen's CPU is not counted); a run that lost a message is
// reported, never hidden. --cpu-prof writes V8 CPU profiles of the daytwo process to DIR;
// --forwarder '{"flushIntervalMs":20,"syslog":{"spoolFsyncIntervalMs":20}}' overrides forwarder settings.

const { values } = parseArgs({ options: { messages: { type: 'string', default: '500000' }, size: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, only: { type: 'string' }, connections: { type: 'string', default: '1' }, 'cpu-prof': { type: 'string' }, forwarder: { type: 'string', default: '{}' } } })
const N = Number(values.messages)
const RUNS = Number(values.runs)
const CONNS = Number(values.connections)
const PER_CONN = Math.floor(N / CONNS)
const TOKEN = 'bench-forwarder-token'
if (PER_CONN * CONNS !== N) throw new Error(`--messages ${N} does not split evenly over ${CONNS} connections`)
const want = (name: string) => values.only === undefined || values.only.split(',').includes(name)
const lg = loggen()
/**
 * With --cpu-prof: the V8 sampling profiler in the daytwo process, started before its main
 * module (--cpu-prof itself is not allowed in NODE_OPTIONS) and written to DIR at exit.
 */
const profEnv = (): NodeJS.ProcessEnv => {
  if (values['cpu-prof'] === undefined) return {}
  const dir = resolve(values['cpu-prof'])
  mkdirSync(dir, { recursive: true })
  const code = `import { Session } from 'node:inspector'; import { writeFileSync } from 'node:fs';
const s = new Session(); s.connect(); s.post('Profiler.enable'); s.post('Profiler.setSamplingInterval', { interval: 500 }); s.post('Profiler.start');
process.on('exit', () => s.post('Profiler.stop', (err, r) => { if (!err) writeFileSync(${JSON.stringify(dir)} + '/daytwo-' + process.pid + '.cpuprofile', JSON.stringify(r.profile)) }))`
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=data:text/javascript,${encodeURIComponent(code)}`.trim() }
}

/** loggen sends N messages (split over the connections); resolves with its output when it exits. */
async function send (port: number): Promise<string> {
  const child = spawn(lg!.bin, ['--inet', '--stream', '--syslog-proto', '--rate', '10000000', '--number', String(PER_CONN), '--active-connections', String(CONNS), '--size', values.size!, '127.0.0.1', String(port)], { env: lg!.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  await once(child, 'exit')
  return out
}

/**
 * Distinct loggen messages seen in text: each carries `seq: <10 digits>, thread: <4 digits>`
 * (seq counts per connection). Returns where an unfinished message may start (the text after
 * the last `seq: ` field that was cut), so a streaming caller can keep that tail.
 */
class Distinct {
  private readonly seen = new Uint8Array(N)
  count = 0
  total = 0
  scan (text: string): number {
    let i = 0
    for (;;) {
      const at = text.indexOf('seq: ', i)
      if (at === -1) return Math.max(i, text.length - 4)
      if (at + 29 > text.length) return at
      const seq = Number(text.slice(at + 5, at + 15))
      const thread = Number(text.slice(at + 25, at + 29))
      const k = thread * PER_CONN + seq
      this.total++
      if (k >= 0 && k < N && this.seen[k] === 0) { this.seen[k] = 1; this.count++ }
      i = at + 29
    }
  }
}

interface Sink { port: number, url: string, distinct: Distinct, close: () => Promise<void> }

/** TCP sink for the peers: counts distinct messages over every connection. */
async function lineSink (): Promise<Sink> {
  const distinct = new Distinct()
  const sockets = new Set<Socket>()
  const server = createTcpServer((s) => {
    sockets.add(s)
    let tail = ''
    s.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1')
      tail = text.slice(distinct.scan(text))
    })
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return { port, url: `tcp://127.0.0.1:${port}`, distinct, close: async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) } }
}

/** Ingest-protocol sink for `serve forwarder`: 200 once the body is in, then counts distinct messages. */
async function ingestSink (): Promise<Sink> {
  const distinct = new Distinct()
  const server = createHttpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) { req.resume(); res.writeHead(401).end('{}'); return }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      if (req.url !== '/api/v1/ingest') return
      const body = Buffer.concat(chunks)
      distinct.scan((req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('latin1'))
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return { port, url: `http://127.0.0.1:${port}`, distinct, close: async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) } }
}

async function measure (pid: number, port: number, count: () => number | Promise<number>, detail: () => string): Promise<Figures> {
  const sampler = new TreeSampler(pid)
  const t0 = process.hrtime.bigint()
  const sent = send(port)
  let got = 0
  try {
    const ms = await until(async () => (got = await count()) >= N, t0, Math.max(120_000, N / 5), 20)
      .catch(async (err: Error) => { throw new Error(`${err.message}: ${got} of ${N}; loggen said ${(await sent).slice(-400)}\n${detail().slice(-1000)}`) })
    const said = await sent
    const s = sampler.stop()
    const lgRate = /average rate = ([\d.]+)/.exec(said)?.[1]
    if (lgRate !== undefined) log(`    loggen: ${fmt(Number(lgRate))} msg/s while sending`)
    return { rate: N / (ms / 1000), secs: ms / 1000, cpuS: s.cpuS, rssMB: s.peakRssMB, delivered: await count() }
  } finally { sampler.stop() }
}

async function main (): Promise<void> {
  if (!lg) { console.log('loggen not found: bash .ci/setup.d/syslog-ng.sh'); return }
  const tmp = tempDir('daytwo-f2-')
  /** Each system's one run; the runs are interleaved (round 1 of every system, then round 2, …) so a neighbour's load falls on all alike. */
  const systems: System[] = []
  log(`F2: ${fmt(N)} messages of ${values.size} B per system; ${machine()}`)
  const extra = JSON.parse(values.forwarder!) as Record<string, unknown> & { syslog?: Record<string, unknown> }
  if (values.forwarder !== '{}') log(`forwarder settings: ${values.forwarder}`)
  const forwarderConfig = (dir: string, port: number) => ({ podLogRoot: join(dir, 'none'), containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(dir, 'none'), port: 0, ...extra, syslog: { ...extra.syslog, tcpPort: port } })

  if (want('daytwo-forwarder')) {
    systems.push({ name: 'daytwo-forwarder', once: async () => {
      const dir = freshDir(tmp.path, 'daytwo-forwarder')
      const sink = await ingestSink()
      const port = await freePort()
      try {
        const p = await startDaytwo('forwarder', { dataDir: join(dir, 'data'), logLevel: 'warn', forwarder: { ...forwarderConfig(dir, port), collectorUrl: sink.url, token: TOKEN } }, dir, profEnv())
        try {
          await waitPort(port)
          const f = await measure(p.child.pid!, port, () => sink.distinct.count, () => p.stderr())
          if (sink.distinct.total !== sink.distinct.count) log(`    ${sink.distinct.total - sink.distinct.count} messages arrived more than once`)
          return f
        } finally { await p.stop() }
      } finally { await sink.close() }
    } })
  }

  if (want('daytwo')) {
    systems.push({ name: 'daytwo', once: async () => {
      const dir = freshDir(tmp.path, 'daytwo')
      const port = await freePort()
      const p = await startDaytwo('all', { dataDir: join(dir, 'data'), logLevel: 'warn', forwarder: forwarderConfig(dir, port), collector: { port: 0 }, query: { port: 0 } }, dir, profEnv())
      try {
        await waitPort(port)
        // Records newly stored: the store writes by id, so a resent message is not counted twice.
        const count = async () => metricValue(await (await fetch(`${p.urls.collector}/metrics`)).text(), 'daytwo_collector_records_stored_total')
        return await measure(p.child.pid!, port, count, () => p.stderr())
      } finally { await p.stop() }
    } })
  }

  const peer = (name: string, start: (dir: string, inPort: number, outPort: number) => Peer): void => {
    systems.push({ name, once: async () => {
      const dir = freshDir(tmp.path, name)
      const sink = await lineSink()
      const port = await freePort()
      let p: Peer
      try { p = start(dir, port, sink.port) } catch (err) { await sink.close(); throw err }
      try {
        await waitPort(port)
        const f = await measure(p.pid, port, () => sink.distinct.count, () => p.output())
        if (sink.distinct.total !== sink.distinct.count) log(`    ${sink.distinct.total - sink.distinct.count} messages arrived more than once`)
        return f
      } finally { await p.stop(); await sink.close() }
    } })
  }

  if (want('rsyslog') && hasRsyslog()) {
    peer('rsyslog', (dir, inPort, outPort) => startRsyslog(dir, `
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
    peer('syslog-ng', (dir, inPort, outPort) => startSyslogNg(ng, dir, `
options { stats-freq(0); log-msg-size(65536); };
source s_net { syslog(ip("127.0.0.1") port(${inPort}) transport("tcp") max-connections(200) log-fetch-limit(10000) log-iw-size(1000000)); };
destination d_net { network("127.0.0.1" port(${outPort}) transport("tcp") template("\${ISODATE} \${HOST} \${PROGRAM} \${PID} \${MESSAGE}\\n") log-fifo-size(1000000)); };
log { source(s_net); destination(d_net); flags(flow-control); };`))
  }

  const rows = await interleaved(systems, RUNS)

  console.log(`\nF2 syslog TCP ingest: loggen --inet --stream --syslog-proto, ${fmt(N)} messages of ${values.size} B, ${CONNS} connection(s), median of ${RUNS} interleaved runs\n${machine()}\n`)
  console.log(ratioTable(rows, 'syslog-ng', 'msg'))
  const s = rows.find((r) => r.name === 'syslog-ng')
  for (const name of ['daytwo-forwarder', 'daytwo']) {
    const d = rows.find((r) => r.name === name)
    if (d && s && d.runs.length > 0 && s.runs.length > 0) {
      const dr = median(d.runs.map((x) => x.rate))
      const sr = median(s.runs.map((x) => x.rate))
      console.log(`target: ${name} ≥ syslog-ng's rate: ${dr >= sr ? 'met' : 'NOT met'} (${fmt(dr)} vs ${fmt(sr)} msg/s, ${fmt(dr / sr, 2)}×)`)
    }
  }
  for (const r of rows) for (const x of r.runs) if (x.delivered !== N) console.log(`note: ${r.name} delivered ${x.delivered} of ${N} in one run`)
  rmSync(tmp.path, { recursive: true, force: true })
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
