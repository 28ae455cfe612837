import { spawn } from 'node:child_process'
import { createWriteStream, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { mkdirSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDaytwo, tempDir, waitFor } from '../test/helpers/daytwo-process.js'
import { cliPath } from '../test/helpers/repo.js'

// `logs fetch` against `tar czf` of the same files, in the same run:
//   node dist/bench/fetch.bench.js [--size MB] [--runs N] [--keep]   (default 1024 MB, 1 run)
// Generates BOSH job logs, lets `logs serve all` ingest them, then times both (N runs each,
// taking turns; the median is reported) and reports throughput (MB of log files per second),
// the ratio, and peak RSS of the CLI (the highest of the runs) and of the server.

const { values } = parseArgs({ options: { size: { type: 'string', default: '1024' }, runs: { type: 'string', default: '1' }, keep: { type: 'boolean' } } })
const SIZE = Number(values.size) * 1024 * 1024
const RUNS = Math.max(1, Number(values.runs))
const TOKEN = 'bench-operator'
const FILES = [['gorouter', 'access.log'], ['gorouter', 'gorouter.stdout.log'], ['gorouter', 'gorouter.stderr.log'], ['route_registrar', 'route_registrar.log'], ['loggregator_agent', 'agent.log'], ['bosh-dns', 'bosh_dns.stdout.log']]

let seed = 42
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
const PATHS = ['/v2/apps', '/v3/processes', '/healthz', '/v2/info', '/internal/metrics', '/login']

function line (i: number): string {
  const t = new Date(1795000000000 + i * 3).toISOString()
  return `${t} 10.0.${rnd() % 256}.${rnd() % 256} "GET ${PATHS[rnd() % PATHS.length]}/${(rnd() % 100000).toString(16)} HTTP/1.1" ${[200, 200, 200, 404, 500][rnd() % 5]} ${rnd() % 50000} vcap_request_id:${rnd().toString(16)}-${rnd().toString(16)} response_time:${(rnd() % 5000) / 1000}`
}

async function generate (root: string): Promise<{ bytes: number, lines: number }> {
  let bytes = 0
  let lines = 0
  const per = SIZE / FILES.length
  for (const [proc, name] of FILES) {
    mkdirSync(join(root, proc!), { recursive: true })
    const out = createWriteStream(join(root, proc!, name!))
    let written = 0
    while (written < per) {
      let chunk = ''
      for (let k = 0; k < 2000; k++) chunk += line(lines++) + '\n'
      written += Buffer.byteLength(chunk)
      if (!out.write(chunk)) await once(out, 'drain')
    }
    out.end()
    await once(out, 'close')
    bytes += written
  }
  return { bytes, lines }
}

/** Run a command under /usr/bin/time; wall seconds and peak RSS (MB). */
async function timed (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, onPid?: (pid: number) => void): Promise<{ secs: number, rssMB: number }> {
  const start = process.hrtime.bigint()
  const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  if (onPid && child.pid) onPid(child.pid)
  const [code] = await once(child, 'exit') as [number]
  const secs = Number(process.hrtime.bigint() - start) / 1e9
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}\n${err}`)
  const kb = Number(/MAXRSS (\d+)/.exec(err)?.[1] ?? NaN)
  return { secs, rssMB: kb / 1024 }
}

/**
 * VmRSS, and RssAnon: the process's own memory. The rest of its RSS is pages of files it maps
 * (the store's readers map the file, store/embedded/schema.ts): the page cache, shared and
 * reclaimed under pressure, counted in RSS once touched.
 */
function rssMB (pid: number, key: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

async function main (): Promise<void> {
  const tmp = tempDir('daytwo-fetch-bench-')
  const logRoot = join(tmp.path, 'bosh')
  process.stderr.write(`generating ${values.size} MB of BOSH job logs…\n`)
  const gen = await generate(logRoot)
  const cfg = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: logRoot, boshSpecFile: join(tmp.path, 'none'), deployment: 'cf', job: 'router', index: '0', port: 0 },
    collector: { port: 0 },
    query: { port: 0, tokens: [TOKEN] }
  }
  const daytwo = await startDaytwo('all', cfg, tmp.path)
  try {
    const url = daytwo.urls.query!
    const stored = async () => {
      const r = await fetch(`${url}/api/v1/instances?deployment=cf`, { headers: { authorization: `Bearer ${TOKEN}` } })
      const b = await r.json() as { instances?: Array<{ files: Array<{ lines: number }> }> }
      return (b.instances ?? []).reduce((n, i) => n + i.files.reduce((m, f) => m + f.lines, 0), 0)
    }
    const t0 = Date.now()
    process.stderr.write(`ingesting ${gen.lines.toLocaleString('en')} lines…\n`)
    if (!await waitFor(async () => await stored() >= gen.lines, 3_600_000, 1000)) throw new Error('ingest did not finish')
    process.stderr.write(`ingested in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)

    const outDir = join(tmp.path, 'out')
    mkdirSync(outDir, { recursive: true })
    // tar czf and logs fetch take turns, `--runs` times each; the median run of each is reported.
    const serverPid = daytwo.child.pid!
    let serverPeak = rssMB(serverPid)
    let serverAnonPeak = rssMB(serverPid, 'RssAnon')
    const env = { ...process.env, DAYTWO_QUERY_URL: url, DAYTWO_TOKEN: TOKEN }
    const tars: Array<{ secs: number, rssMB: number }> = []
    const clis: Array<{ secs: number, rssMB: number }> = []
    for (let run = 0; run < RUNS; run++) {
      for (const n of readdirSync(outDir)) rmSync(join(outDir, n), { force: true })
      tars.push(await timed('tar', ['czf', join(outDir, 'tar.tgz'), '-C', logRoot, '.']))
      const sampler = setInterval(() => {
        serverPeak = Math.max(serverPeak, rssMB(serverPid))
        serverAnonPeak = Math.max(serverAnonPeak, rssMB(serverPid, 'RssAnon'))
      }, 50)
      clis.push(await timed(process.execPath, [cliPath(), 'fetch', 'cf/router', '--dir', outDir], env))
      clearInterval(sampler)
      process.stderr.write(`run ${run + 1}: tar czf ${tars[run]!.secs.toFixed(1)} s, logs fetch ${clis[run]!.secs.toFixed(1)} s (${clis[run]!.rssMB.toFixed(0)} MB)\n`)
    }
    const median = (xs: Array<{ secs: number, rssMB: number }>) => [...xs].sort((a, b) => a.secs - b.secs)[(xs.length - 1) >> 1]!
    const tar = median(tars)
    const cli = { secs: median(clis).secs, rssMB: Math.max(...clis.map((c) => c.rssMB)) }
    // Where the time goes: the server alone (curl to /dev/null) in the bundle's file frames and
    // in NDJSON (text, follow, other clients), and the CLI printing text.
    const logsUrl = `${url}/api/v1/logs?deployment=cf&job=router`
    const frames = await timed('curl', ['-sfo', '/dev/null', '-H', `authorization: Bearer ${TOKEN}`, '-H', 'accept: application/vnd.daytwo.file-frames.v1', logsUrl])
    const curl = await timed('curl', ['-sfo', '/dev/null', '-H', `authorization: Bearer ${TOKEN}`, logsUrl])
    const text = await timed('sh', ['-c', `"${process.execPath}" "${cliPath()}" fetch cf/router --format text --no-prefix > /dev/null`], env)
    const bundle = readdirSync(outDir).find((n) => n.startsWith('cf.router-'))!
    // The bundle holds every byte that was generated (sizes from the listing).
    const listing = await new Promise<string>((resolve, reject) => {
      const t = spawn('tar', ['tzvf', join(outDir, bundle)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      t.stdout.on('data', (d: Buffer) => { out += d.toString() })
      t.once('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`tar tzvf exited ${code}`)))
    })
    const inBundle = listing.split('\n').filter((l) => l.startsWith('-')).reduce((n, l) => n + Number(l.split(/\s+/)[2]), 0)
    if (inBundle !== gen.bytes) throw new Error(`the bundle holds ${inBundle} bytes of files; ${gen.bytes} were generated`)
    const mb = gen.bytes / 1024 / 1024
    const rows = [
      ['', 'seconds', 'MB/s', 'peak RSS', 'output'],
      ['tar czf (gzip -6)', tar.secs.toFixed(1), (mb / tar.secs).toFixed(1), `${tar.rssMB.toFixed(0)} MB`, `${(statSync(join(outDir, 'tar.tgz')).size / 1048576).toFixed(1)} MB`],
      ['logs fetch (CLI, zlib level 6)', cli.secs.toFixed(1), (mb / cli.secs).toFixed(1), `${cli.rssMB.toFixed(0)} MB`, `${(statSync(join(outDir, bundle)).size / 1048576).toFixed(1)} MB`],
      ['query server (during fetch)', '', '', `${serverPeak.toFixed(0)} MB`, ''],
      ['  of which its own (RssAnon)', '', '', `${serverAnonPeak.toFixed(0)} MB`, ''],
      ['(server → curl, file frames)', frames.secs.toFixed(1), (mb / frames.secs).toFixed(1), '', ''],
      ['(server → curl, NDJSON)', curl.secs.toFixed(1), (mb / curl.secs).toFixed(1), '', ''],
      ['(logs fetch --format text)', text.secs.toFixed(1), (mb / text.secs).toFixed(1), '', '']
    ]
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    process.stdout.write(`\n${mb.toFixed(0)} MB of logs, ${gen.lines.toLocaleString('en')} lines in ${FILES.length} files\n\n`)
    for (const r of rows) process.stdout.write(r.map((c, i) => i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join('  ') + '\n')
    process.stdout.write(`\nlogs fetch / tar czf throughput: ${(tar.secs / cli.secs).toFixed(2)}× (target ≥ 0.8×); CLI peak RSS ${cli.rssMB.toFixed(0)} MB (target < 150 MB)\n`)
  } finally {
    await daytwo.stop()
    if (!values.keep) tmp.cleanup()
  }
}

await main()
