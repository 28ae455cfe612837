import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, waitFor } from '../../test/helpers/daytwo-process.js'
import { repoRoot } from '../../test/helpers/repo.js'
import { httpGet, httpPost, qs } from './http-get.js'
import { levelOf, type Manifest } from './query-corpus.js'

// VictoriaLogs, the peer a user would pick instead: built from its Go module into the
// repository's .cache/bench/go (ignored by git, never committed), started on 127.0.0.1 with a
// private data directory, fed the corpus's lines through its JSON lines endpoint with the same
// times and labels (namespace, pod, container as stream fields; stream and level as fields, as a
// shipper that parses the line would send them).

export const VL_MODULES = ['github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@latest', 'github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-logs@latest']

/** The binary (built once and cached), or why there is none. */
export function victoriaLogsBinary (log: (m: string) => void): { bin: string } | { why: string } {
  const gobin = join(repoRoot(), '.cache', 'bench', 'go')
  const bin = join(gobin, 'victoria-logs')
  if (existsSync(bin)) return { bin }
  const go = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (go.status !== 0) return { why: `no Go toolchain (go version: ${go.error?.message ?? go.stderr.trim()}); see DEVELOPERS.md` }
  mkdirSync(gobin, { recursive: true })
  const errors: string[] = []
  for (const mod of VL_MODULES) {
    log(`building VictoriaLogs: go install ${mod} (${go.stdout.trim()})…`)
    const r = spawnSync('go', ['install', mod], { encoding: 'utf8', env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod -buildvcs=false' }, timeout: 1_800_000 })
    if (r.status === 0 && existsSync(bin)) return { bin }
    errors.push(`${mod}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' / ')}`)
  }
  return { why: `go install failed: ${errors.join('; ')}` }
}

export function victoriaLogsVersion (bin: string): string {
  const r = spawnSync('go', ['version', '-m', bin], { encoding: 'utf8' })
  return /\bmod\s+\S+\s+(v\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown version'
}

export interface VictoriaLogs { url: string, child: ChildProcess, stop: () => Promise<void>, output: () => string }

export async function startVictoriaLogs (bin: string, dataDir: string): Promise<VictoriaLogs> {
  const port = await freePort()
  const args = [`-storageDataPath=${dataDir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=WARN',
    '-search.maxQueryDuration=30m'] // a slow answer is measured, not cut off
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const url = `http://127.0.0.1:${port}`
  const up = await waitFor(async () => {
    try { return (await httpGet(`${url}/health`)).status === 200 } catch { return false }
  }, 20_000, 100)
  if (!up) { child.kill('SIGKILL'); throw new Error(`VictoriaLogs did not start:\n${out}`) }
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await once(child, 'exit')
      clearTimeout(timer)
    }
  }
}

const INSERT = '/insert/jsonline?' + qs({ _stream_fields: 'namespace,pod,container', _time_field: '_time', _msg_field: '_msg' })
const CHUNK = 8 << 20

/**
 * The corpus as VictoriaLogs' JSON lines, written once beside the corpus (`vl.jsonl`), so that
 * its ingest is timed on sending, not on this process converting lines on the same two cores.
 */
export function writeVictoriaLogsLines (m: Manifest, path: string): void {
  if (existsSync(path) && statSync(path).mtimeMs > statSync(join(m.root, '..', 'corpus.json')).mtimeMs) return
  const fd = openSync(path + '.tmp', 'w')
  const buf = Buffer.allocUnsafe(CHUNK + (1 << 20))
  let used = 0
  for (const f of m.files) {
    const text = readFileSync(f.path, 'latin1') // the corpus is ASCII
    const tail = `,"namespace":"${f.namespace}","pod":"${f.pod}","container":"${f.container}","stream":"`
    for (let pos = 0; pos < text.length;) {
      const nl = text.indexOf('\n', pos)
      const end = nl === -1 ? text.length : nl
      const line = text.slice(pos, end)
      pos = end + 1
      if (line.length === 0) continue
      const sp1 = line.indexOf(' ')
      const sp2 = line.indexOf(' ', sp1 + 1)
      const msg = line.slice(sp2 + 3)
      used += buf.write(`{"_time":"${line.slice(0, sp1)}","_msg":${JSON.stringify(msg)}${tail}${line.slice(sp1 + 1, sp2)}","level":"${levelOf(msg)}"}\n`, used, 'latin1')
      if (used >= CHUNK) { writeSync(fd, buf, 0, used); used = 0 }
    }
  }
  writeSync(fd, buf, 0, used)
  closeSync(fd)
  renameSync(path + '.tmp', path)
}

/** POST the JSON lines file in ~8 MB requests cut at line ends, two in flight. */
export async function feedVictoriaLogs (vl: VictoriaLogs, path: string): Promise<void> {
  const inFlight = new Set<Promise<void>>()
  let failure: Error | null = null
  const post = (body: Buffer) => {
    const p: Promise<void> = httpPost(vl.url + INSERT, body, { 'content-type': 'application/stream+json' }).then((r) => {
      if (r.status !== 200 && r.status !== 204) failure ??= new Error(`VictoriaLogs ingest answered ${r.status}: ${r.text.slice(0, 300)}`)
    }, (err: Error) => { failure ??= err }).finally(() => inFlight.delete(p))
    inFlight.add(p)
  }
  const fd = openSync(path, 'r')
  let carry = Buffer.alloc(0)
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK)
      const n = readSync(fd, chunk, 0, CHUNK, null)
      if (n === 0) break
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n)
      const cut = data.lastIndexOf(0x0a) + 1
      carry = Buffer.from(data.subarray(cut))
      if (cut === 0) continue
      if (inFlight.size >= 2) await Promise.race(inFlight)
      if (failure) throw failure
      post(data.subarray(0, cut))
    }
    if (carry.length > 0) post(carry)
    await Promise.all([...inFlight])
    if (failure) throw failure
  } finally { closeSync(fd) }
}

/** VictoriaLogs' RFC 3339 time (any number of fraction digits) as ns since the epoch. */
export function vlTimeNs (t: string): string {
  const dot = t.indexOf('.')
  if (dot === -1) return String(BigInt(Date.parse(t)) * 1_000_000n)
  const z = t.indexOf('Z', dot)
  return String(BigInt(Date.parse(t.slice(0, dot) + 'Z')) * 1_000_000n + BigInt(t.slice(dot + 1, z).padEnd(9, '0')))
}

/** RFC 3339 with nine fraction digits, as VictoriaLogs takes start and end. */
export function rfc3339Ns (ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19) + '.' + (ns % 1_000_000_000n).toString().padStart(9, '0') + 'Z'
}
