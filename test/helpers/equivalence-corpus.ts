import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'

// A seeded corpus for comparing the query engine with a brute-force evaluation: container
// (CRI) streams with stdout/stderr, BOSH job streams and syslog streams with a `severity`
// attribute, across deployments, jobs, namespaces and orgs; JSON, logfmt and plain lines with
// levels; unicode; and many lines that share a timestamp, across streams and within one.

/** A small, fast, seeded PRNG (mulberry32), so a failing run can be replayed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const MS = 1_000_000n
export const S = 1_000_000_000n
/** 2026-11-23T10:00:00Z: fixed, so every run stores the same lines (the store keeps them: retention off). */
export const T0 = BigInt(Date.UTC(2026, 10, 23, 10, 0, 0)) * MS
/** Lines fall on a 250 ms grid (plus a few odd nanoseconds) over this long. */
export const SPAN = 30n * 60n * S
export const TICK = 250n * MS

type Kind = 'cri' | 'bosh' | 'syslog'

/** `active`: the part of SPAN (as fractions) a stream writes in: a job that stopped, one that started late. */
interface StreamSpec { tags: StreamTags, kind: Kind, weight: number, active?: [number, number] }

function cri (id: string, ns: string, pod: string, container: string, node: string, tenant: Partial<StreamTags>, weight: number): StreamSpec {
  return {
    kind: 'cri',
    weight,
    tags: { id, source: 'file', node, deployment: ns, job: pod.replace(/-[a-z0-9]+$/, ''), index: pod.slice(pod.lastIndexOf('-') + 1), process: container, path: `/var/log/pods/${ns}_${pod}_u/${container}/0.log`, namespace: ns, pod, container, ...tenant }
  }
}

function bosh (id: string, deployment: string, job: string, index: string, process: string, tenant: Partial<StreamTags>, weight: number): StreamSpec {
  return { kind: 'bosh', weight, tags: { id, source: 'file', node: `${job}-${index}`, deployment, job, index, process, path: `/var/vcap/sys/log/${process}/${process}.log`, ...tenant } }
}

function syslog (id: string, host: string, app: string, weight: number): StreamSpec {
  return { kind: 'syslog', weight, tags: { id, source: 'syslog', node: 'lb-1', deployment: 'edge', job: app, index: host, process: app, path: 'udp://0.0.0.0:514' } }
}

export const STREAMS: StreamSpec[] = [
  cri('s-web-a', 'shop', 'web-a1b2c', 'app', 'node-1', { org: 'acme', space: 'prod', app: 'web' }, 5),
  cri('s-web-b', 'shop', 'web-d3e4f', 'app', 'node-2', { org: 'acme', space: 'prod', app: 'web' }, 4),
  cri('s-db', 'shop', 'db-0', 'postgres', 'node-2', { org: 'acme', space: 'prod', app: 'db' }, 2),
  cri('s-dns', 'kube-system', 'coredns-x9y8z', 'coredns', 'node-1', {}, 2),
  cri('s-pay-api', 'payments', 'api-0', 'api', 'node-3', { org: 'globex', space: 'dev', app: 'api' }, 3),
  cri('s-pay-worker', 'payments', 'worker-7k8l9', 'worker', 'node-3', { org: 'globex', space: 'dev', app: 'worker' }, 2),
  bosh('s-router-0', 'cf', 'router', '0', 'gorouter', { org: 'system', space: 'routing', app: 'gorouter' }, 4),
  bosh('s-router-1', 'cf', 'router', '1', 'gorouter', { org: 'system', space: 'routing', app: 'gorouter' }, 3),
  bosh('s-uaa', 'cf', 'uaa', '0', 'uaa', { org: 'system', space: 'auth' }, 2),
  syslog('s-haproxy', 'lb-1', 'haproxy', 2),
  syslog('s-sshd', 'lb-2', 'sshd', 1),
  { ...cri('s-migrate', 'jobs', 'migrate-q1w2e', 'migrate', 'node-1', { org: 'globex', space: 'ops', app: 'migrate' }, 3), active: [0, 0.12] },
  { ...bosh('s-nats', 'cf', 'nats', '0', 'nats', { org: 'system', space: 'messaging', app: 'nats' }, 3), active: [0.85, 1] }
]

const LEVELS = ['info', 'info', 'info', 'debug', 'warn', 'error', 'ERROR', 'Warning', 'fatal', 'trace']
const PATHS = ['/v2/apps', '/v2/info', '/checkout', '/api/ünïcödé', '/health', '/payments/✓']
const WORDS = ['upstream timeout', 'retry scheduled', 'cache miss', 'connection reset', 'slow request', 'ok ✓', 'grüße aus Köln', '日本語のログ']
const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']

function pick<T> (r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!
}

/** One line of a stream; `n` makes every line unique (Loki merges identical entries). */
function message (r: () => number, s: StreamSpec, n: number): { text: string, stdio: string, attrs?: Record<string, string> } {
  const id = `${s.tags.id}-${n}`
  if (s.kind === 'syslog') {
    const severity = pick(r, SEVERITIES)
    // A syslog line's level comes from its severity, even when its text says otherwise.
    const text = r() < 0.2 ? `ERROR in ${id} but severity says ${severity}` : `${pick(r, WORDS)} from 10.0.${n % 7}.${n % 250} req=${id}`
    return { text, stdio: '', attrs: { facility: 'daemon', severity } }
  }
  const stdio = s.kind === 'cri' ? (r() < 0.25 ? 'stderr' : 'stdout') : ''
  const lvl = pick(r, LEVELS)
  const status = pick(r, [200, 200, 200, 201, 302, 404, 500, 503])
  const ms = Math.floor(r() * 3000)
  const form = r()
  let text: string
  if (form < 0.35) {
    const levelKey = pick(r, ['level', 'level', 'lvl', 'severity'])
    const user = r() < 0.5 ? `,"user":{"id":"u${n % 13}","name":"${pick(r, ['ünïcödé', 'ann', 'bob'])}"}` : ''
    text = `{"${levelKey}":"${lvl}","msg":"${pick(r, WORDS)}","status":${status},"path":"${pick(r, PATHS)}","duration_ms":${ms}${user},"req":"${id}"}`
  } else if (form < 0.6) {
    text = `ts=2026-11-23T10:00:00Z level=${lvl} msg="${pick(r, WORDS)} \\"${n % 5}\\"" status=${status} duration_ms=${ms} req=${id}`
  } else if (form < 0.95) {
    const shape = Math.floor(r() * 5)
    text = shape === 0 ? `${lvl.toUpperCase()} ${pick(r, WORDS)} after ${ms}ms req=${id}`
      : shape === 1 ? `[${lvl.toUpperCase()}] ${pick(r, WORDS)} on ${pick(r, PATHS)} (${id})`
        : shape === 2 ? `2026-11-23 10:00:00.123 ${lvl.toUpperCase()} started in ${ms}ms ${id}`
          : shape === 3 ? `GET ${pick(r, PATHS)} ${status} ${ms}ms ${id}`
            : `panic: ${pick(r, WORDS)} ${id}`
  } else {
    text = r() < 0.5 ? '' : `  ${id}`
  }
  return { text, stdio }
}

export interface Corpus {
  /** Per stream, its entries in offset order, exactly as sent. */
  streams: Array<{ tags: StreamTags, entries: Entry[] }>
  lines: number
}

/**
 * About `total` lines over SPAN. Time advances in ticks; at each tick a few streams write a
 * burst of lines with the same timestamp; now and then a line comes a few seconds late (a
 * stream's lines are not always in time order by offset).
 */
export function makeCorpus (seed: number, total: number): Corpus {
  const r = prng(seed)
  const streams = STREAMS.map((s) => ({ spec: s, tags: s.tags, entries: [] as Entry[], offset: 0 }))
  const weights = STREAMS.reduce((n, s) => n + s.weight, 0)
  const ticks = Number(SPAN / TICK)
  const perTick = total / ticks
  let made = 0
  for (let k = 0; k < ticks && made < total; k++) {
    let base = T0 + BigInt(k) * TICK
    if (r() < 0.1) base += BigInt(Math.floor(r() * 1000)) // an odd nanosecond now and then
    let budget = Math.round(perTick * 2 * r())
    while (budget > 0) {
      let w = r() * weights
      const st = streams.find((x) => (w -= x.spec.weight) < 0) ?? streams[0]!
      const [from, to] = st.spec.active ?? [0, 1]
      if (k < from * ticks || k >= to * ticks) continue
      const burst = Math.min(budget, 1 + Math.floor(r() * 4))
      for (let b = 0; b < burst; b++) {
        const m = message(r, st.spec, st.entries.length)
        let ts = base
        if (r() < 0.01 && k > 40) ts -= BigInt(1 + Math.floor(r() * 20)) * TICK // late
        st.offset += 1 + Buffer.byteLength(m.text)
        const e: Entry = [ts.toString(), st.offset, m.text, m.stdio]
        if (m.attrs) e.push(m.attrs)
        st.entries.push(e)
        made++
      }
      budget -= burst
    }
  }
  return { streams: streams.map((s) => ({ tags: s.tags, entries: s.entries })), lines: made }
}

/** The corpus as ingest batches of about `size` lines, each holding a time slice of every stream. */
export function batches (c: Corpus, size: number): StreamBatch[][] {
  const out: StreamBatch[][] = []
  const cursor = c.streams.map(() => 0)
  const slices = Math.ceil(c.lines / size)
  for (let i = 1; i <= slices; i++) {
    const batch: StreamBatch[] = []
    c.streams.forEach((s, j) => {
      const upto = Math.round(s.entries.length * i / slices)
      if (upto > cursor[j]!) batch.push({ stream: { ...s.tags }, entries: s.entries.slice(cursor[j], upto) })
      cursor[j] = upto
    })
    out.push(batch)
  }
  return out
}
