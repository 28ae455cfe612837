import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

// The query benchmark's corpus: container logs in the kubelet's layout,
// `<root>/pods/<ns>_<pod>_<uid>/<container>/0.log`, CRI lines `<RFC3339Nano> stdout|stderr F <msg>`.
// Every pod writes across the whole time range (line i of the corpus is at start + i × span / lines,
// and goes to a pod drawn by weight), so a time window holds lines of every pod, as on a real node.
// Messages are JSON (zap style), logfmt, plain text with a level word, or klog (its severity
// letter is its level), with two needles: COMMON ("upstream timeout") in ~7 % of shop's lines (0.5 % of
// the others'), and a rare one in exactly `rareLines` lines over all namespaces. Everything
// follows from the seed; the manifest (corpus.json) records what was written and the true
// answers that grep cannot give (lines per level).

export const NAMESPACES = ['shop', 'payments', 'kube-system', 'monitoring', 'auth'] as const
export const COMMON = 'upstream timeout'
export const LEVELS = ['debug', 'info', 'warn', 'error', 'unknown'] as const
export type Level = typeof LEVELS[number]

export interface CorpusSpec { lines: number, pods: number, seed: number, startMs: number, spanMs: number, rareLines: number }

export interface CorpusFile { path: string, namespace: string, pod: string, container: string, lines: number }

export interface Manifest {
  spec: CorpusSpec
  root: string
  rare: string
  files: CorpusFile[]
  bytes: number
  /** Lines per level, as daytwo's detection names them (the generator knows each line's). */
  levels: Record<string, number>
  firstNs: string
  lastNs: string
}

export const DEFAULT_SPEC: CorpusSpec = { lines: 10_000_000, pods: 40, seed: 20, startMs: Date.UTC(2026, 10, 23, 10, 0, 0), spanMs: 2 * 3600_000, rareLines: 20 }

/** xorshift32: fast and deterministic. */
function rng (seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x }
}

const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
// Per namespace: workloads as [name, container, style]; style picks the usual message format.
type Style = 'json' | 'logfmt' | 'plain' | 'klog'
const WORKLOADS: Record<string, Array<[string, string, Style]>> = {
  shop: [['frontend', 'web', 'json'], ['cart', 'cart', 'logfmt'], ['checkout', 'app', 'plain'], ['catalog', 'catalog', 'json']],
  payments: [['ledger', 'ledger', 'plain'], ['gateway', 'gateway', 'json'], ['fraud', 'scorer', 'logfmt'], ['payouts', 'worker', 'json']],
  'kube-system': [['coredns', 'coredns', 'plain'], ['kube-proxy', 'kube-proxy', 'klog'], ['metrics-server', 'metrics-server', 'klog'], ['cilium', 'cilium-agent', 'logfmt']],
  monitoring: [['prometheus', 'prometheus', 'logfmt'], ['alertmanager', 'alertmanager', 'logfmt'], ['grafana', 'grafana', 'logfmt'], ['node-exporter', 'node-exporter', 'logfmt']],
  auth: [['keycloak', 'keycloak', 'plain'], ['oauth2-proxy', 'oauth2-proxy', 'plain'], ['dex', 'dex', 'json'], ['session', 'redis', 'plain']]
}
const NS_WEIGHT: Record<string, number> = { shop: 0.3, payments: 0.2, 'kube-system': 0.15, monitoring: 0.2, auth: 0.15 }

const PATHS = ['/api/v1/orders', '/api/v1/carts', '/api/v2/users', '/api/v1/products', '/checkout', '/login', '/static/app.js', '/healthz']
const UPSTREAMS = ['cart:8080', 'payments-gateway:9000', 'catalog:8080', 'redis:6379', 'ledger:7000']
const WORDS = ['request served', 'cache miss', 'order committed', 'session refreshed', 'connection pool resized', 'retry scheduled', 'config reloaded', 'token validated', 'query planned', 'batch flushed']
const THREADS = ['main', 'http-nio-8080-exec-3', 'grpc-pool-7', 'scheduler-1', 'worker-12']
const CLASSES = ['c.e.shop.OrderController', 'c.e.pay.LedgerService', 'o.k.auth.TokenFilter', 'c.e.shop.CheckoutClient', 'io.netty.Pool']
const KLOG = ['"Reconciled object"', '"Syncing iptables rules"', '"Scraped node"', '"Updated endpoints"', '"Lease renewed"']

/** A level drawn as production logs have them: mostly info, some debug, warn and error. */
function drawLevel (r: number): Exclude<Level, 'unknown'> {
  const k = r % 100
  return k < 68 ? 'info' : k < 80 ? 'debug' : k < 92 ? 'warn' : 'error'
}

const UPPER: Record<string, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' }

/**
 * The level daytwo's detection gives a message of this corpus (a JSON `level`, a logfmt
 * `level=`, a level word among the first tokens, klog's severity letter). It only knows the
 * formats written here; the generator checks it agrees with what it wrote (see the test).
 */
export function levelOf (msg: string): Level {
  let m: RegExpExecArray | null
  if (msg.charCodeAt(0) === 0x7b) m = /^\{"level":"([a-z]+)"/.exec(msg)
  else if (msg.startsWith('ts=')) m = /^ts=\S+ level=([a-z]+) /.exec(msg)
  else if (/^[IWE]\d{4} /.test(msg)) return msg[0] === 'I' ? 'info' : msg[0] === 'W' ? 'warn' : 'error'
  else m = /^\S+ \S+ (DEBUG|INFO|WARN|ERROR) /.exec(msg)
  return m === null ? 'unknown' : m[1]!.toLowerCase() as Level
}

const BUF_BYTES = 1 << 21

interface Pod { dir: string, namespace: string, pod: string, container: string, style: Style, fd: number, buf: Buffer, pos: number, lines: number }

function makePods (root: string, spec: CorpusSpec, rnd: () => number): Pod[] {
  const pods: Pod[] = []
  const hex = (n: number) => { let s = ''; while (s.length < n) s += rnd().toString(16).padStart(8, '0'); return s.slice(0, n) }
  const suffix = (n: number) => { let s = ''; for (let i = 0; i < n; i++) s += K8S_ALPHABET[rnd() % 27]; return s }
  for (let p = 0; p < spec.pods; p++) {
    const namespace = NAMESPACES[p % NAMESPACES.length]!
    const ws = WORKLOADS[namespace]!
    const [work, container, style] = ws[Math.floor(p / NAMESPACES.length) % ws.length]!
    const pod = work === 'node-exporter' || work === 'kube-proxy' || work === 'cilium' ? `${work}-${suffix(5)}` : `${work}-${hex(9).replace(/^0/, '7')}-${suffix(5)}`
    const uid = `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`
    const dir = join(root, `${namespace}_${pod}_${uid}`, container)
    pods.push({ dir, namespace, pod, container, style, fd: -1, buf: Buffer.allocUnsafe(BUF_BYTES), pos: 0, lines: 0 })
  }
  return pods
}

/** A table of 4096 pod indices, each pod as often as its namespace's share over its pods. */
function podTable (pods: Pod[], rnd: () => number): Uint16Array {
  const weights = pods.map(() => 0.5 + (rnd() % 1000) / 666) // pods of a namespace differ up to 4×
  const nsSum: Record<string, number> = {}
  pods.forEach((p, i) => { nsSum[p.namespace] = (nsSum[p.namespace] ?? 0) + weights[i]! })
  const share = pods.map((p, i) => NS_WEIGHT[p.namespace]! * weights[i]! / nsSum[p.namespace]!)
  const total = share.reduce((a, b) => a + b, 0)
  const t = new Uint16Array(4096)
  let acc = 0
  let k = 0
  for (let i = 0; i < pods.length; i++) {
    acc += share[i]! / total
    const until = i === pods.length - 1 ? 4096 : Math.round(acc * 4096)
    for (; k < until; k++) t[k] = i
  }
  return t
}

/** The manifest of a corpus in `dir`, or null when there is none or it was made from another spec. */
export function readManifest (dir: string, spec?: CorpusSpec): Manifest | null {
  const file = join(dir, 'corpus.json')
  if (!existsSync(file)) return null
  const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest
  if (spec && JSON.stringify(m.spec) !== JSON.stringify(spec)) return null
  return m
}

/** Write the corpus under `<dir>/pods` (replacing what was there) and its manifest. */
export function writeQueryCorpus (dir: string, spec: CorpusSpec): Manifest {
  const root = join(dir, 'pods')
  rmSync(root, { recursive: true, force: true })
  rmSync(join(dir, 'corpus.json'), { force: true })
  const rnd = rng(spec.seed)
  const pods = makePods(root, spec, rnd)
  for (const p of pods) { mkdirSync(p.dir, { recursive: true }); p.fd = openSync(join(p.dir, '0.log'), 'w') }
  const table = podTable(pods, rnd)
  const rare = `ledger-skew-${(rnd() % 46656).toString(36).toUpperCase().padStart(3, 'Q')}X`
  // The rare needle's lines: `rareLines` distinct line numbers drawn over the whole corpus.
  const rareAt = new Set<number>()
  while (rareAt.size < Math.min(spec.rareLines, spec.lines)) rareAt.add(rnd() % spec.lines)
  const levels: Record<string, number> = {}
  for (const l of LEVELS) levels[l] = 0
  const startNs = BigInt(spec.startMs) * 1_000_000n
  const stepNs = spec.spanMs * 1e6 / spec.lines
  let bytes = 0
  let sec = -1
  let secIso = ''
  let secPlain = ''
  let klogSec = ''
  let firstOff = 0
  let lastOff = 0
  const flush = (p: Pod) => { if (p.pos > 0) { bytes += writeSync(p.fd, p.buf, 0, p.pos); p.pos = 0 } }
  for (let i = 0; i < spec.lines; i++) {
    // Strictly after start, strictly increasing, each line inside its own slot of the span.
    const offNs = Math.floor((i + 0.5 + (rnd() % 1000) / 2001) * stepNs)
    const s = Math.floor(offNs / 1e9)
    if (s !== sec) {
      sec = s
      const iso = new Date(spec.startMs + s * 1000).toISOString()
      secIso = iso.slice(0, 19)
      secPlain = iso.slice(0, 10) + ' ' + iso.slice(11, 19)
      klogSec = iso.slice(5, 7) + iso.slice(8, 10) + ' ' + iso.slice(11, 19)
    }
    const nanos = String(offNs - s * 1e9).padStart(9, '0')
    const p = pods[table[rnd() & 4095]!]!
    const r = rnd()
    const common = (r % 1000) < (p.namespace === 'shop' ? 70 : 5)
    let level: Level = drawLevel(rnd())
    if (common && (level === 'info' || level === 'debug')) level = 'warn'
    const ms = nanos.slice(0, 3)
    let text = common ? `${COMMON} calling ${UPSTREAMS[rnd() % UPSTREAMS.length]} after ${1000 + rnd() % 9000} ms` : WORDS[rnd() % WORDS.length]!
    if (rareAt.has(i)) text = `checksum mismatch ${rare} on shard ${rnd() % 64}`
    // The format: mostly the workload's own, some lines from libraries that log otherwise.
    const style: Style = r % 10 < 8 ? p.style : (['json', 'logfmt', 'plain', 'klog'] as Style[])[rnd() % 4]!
    let msg: string
    if (style === 'json') {
      msg = `{"level":"${level}","ts":"${secIso}.${ms}Z","caller":"server/handler.go:${rnd() % 900}","msg":"${text}","method":"GET","path":"${PATHS[rnd() % PATHS.length]}/${rnd() % 100000}","status":${[200, 200, 201, 404, 500][rnd() % 5]},"trace_id":"${(rnd() >>> 0).toString(16).padStart(8, '0')}${(rnd() >>> 0).toString(16).padStart(8, '0')}"}`
    } else if (style === 'logfmt') {
      msg = `ts=${secIso}.${ms}Z level=${level} caller=main.go:${rnd() % 400} msg="${text}" component=${p.container} duration_ms=${rnd() % 3000} peer=10.${rnd() % 256}.${rnd() % 256}.${rnd() % 256}`
    } else if (style === 'plain') {
      msg = `${secPlain}.${ms} ${UPPER[level]} [${THREADS[rnd() % THREADS.length]}] ${CLASSES[rnd() % CLASSES.length]} - ${text} (user ${rnd() % 100000}, ${rnd() % 2000} ms)`
    } else {
      // klog's severity letter is the line's level (core/level.ts reads it); stdio as before.
      const letter = 'IWE'[rnd() % 3]!
      level = letter === 'I' ? 'info' : letter === 'W' ? 'warn' : 'error'
      msg = `${letter}${klogSec}.${nanos.slice(0, 6)}       1 controller.go:${rnd() % 400}] ${KLOG[rnd() % KLOG.length]} detail="${text}" node="node-${rnd() % 12}"`
    }
    levels[level]!++
    const stdio = style !== 'klog' && (level === 'error' || level === 'warn') && (r & 0x100) !== 0 ? 'stderr' : 'stdout'
    // Written into the pod's buffer at once (appending to a string per pod makes ropes that cost
    // more in garbage collection than the generating does); every byte is ASCII.
    p.pos += p.buf.write(`${secIso}.${nanos}Z ${stdio} F ${msg}\n`, p.pos, 'latin1')
    p.lines++
    if (p.pos > BUF_BYTES - 65536) flush(p)
    if (i === 0) firstOff = offNs
    lastOff = offNs
  }
  for (const p of pods) { flush(p); closeSync(p.fd) }
  const m: Manifest = {
    spec, root, rare, bytes, levels, firstNs: String(startNs + BigInt(firstOff)), lastNs: String(startNs + BigInt(lastOff)),
    files: pods.map((p) => ({ path: join(p.dir, '0.log'), namespace: p.namespace, pod: p.pod, container: p.container, lines: p.lines }))
  }
  writeFileSync(join(dir, 'corpus.json'), JSON.stringify(m, null, 1))
  return m
}

/** A CRI line's time as ns since the epoch (RFC 3339 with nine fraction digits, Z). */
export function criNs (line: string): bigint {
  const dot = line.indexOf('.')
  return BigInt(Date.parse(line.slice(0, dot) + 'Z')) * 1_000_000n + BigInt(line.slice(dot + 1, dot + 10))
}

/** [ns, message] of a CRI line: what a Loki API returns for it. */
export function criEntry (line: string): [string, string] {
  const f = line.indexOf(' F ')
  return [String(criNs(line)), line.slice(f + 3)]
}
