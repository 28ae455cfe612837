import { once } from 'node:events'
import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'

// A realistic container log corpus in the kubelet's layout,
// `<root>/pods/<ns>_<pod>_<uid>/<container>/0.log`: CRI lines (RFC 3339 nano time, stream,
// F tag) carrying JSON application logs, access logs and klog lines, ~200 bytes each.

let seed = 7
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
const hex = (n: number) => { let s = ''; while (s.length < n) s += rnd().toString(16); return s.slice(0, n) }
const PATHS = ['/api/v1/orders', '/api/v1/carts', '/healthz', '/api/v2/users', '/metrics', '/login', '/static/app.js']
const MSGS = ['request served', 'cache miss', 'upstream timeout, retrying', 'order committed', 'session refreshed']
const NS = ['shop', 'payments', 'kube-system', 'monitoring', 'auth']
const WORKLOADS = ['web-7d9f8b6c5', 'api-5c8d7f9b4', 'worker-6b7c8d9f1', 'db']

function message (i: number): string {
  const k = rnd() % 10
  if (k < 5) return `{"level":"${['info', 'info', 'warn', 'error', 'debug'][rnd() % 5]}","ts":${1795000000 + i / 1000},"caller":"server/handler.go:${rnd() % 900}","msg":"${MSGS[rnd() % MSGS.length]}","method":"GET","path":"${PATHS[rnd() % PATHS.length]}/${rnd() % 100000}","status":${[200, 200, 201, 404, 500][rnd() % 5]},"trace_id":"${hex(32)}"}`
  if (k < 8) return `10.${rnd() % 256}.${rnd() % 256}.${rnd() % 256} - - [23/Nov/2026:10:00:00 +0000] "GET ${PATHS[rnd() % PATHS.length]}/${rnd() % 100000} HTTP/1.1" ${[200, 304, 404][rnd() % 3]} ${rnd() % 50000} "-" "Mozilla/5.0 (X11; Linux x86_64) kube-probe/1.29"`
  return `I1123 10:00:00.${String(rnd() % 1000000).padStart(6, '0')}       1 reconciler.go:${rnd() % 400}] "Reconciled object" controller="deployment" namespace="shop" name="web-${hex(6)}" reconcileID="${hex(8)}-${hex(4)}-${hex(4)}"`
}

function ts (i: number): string {
  const ms = Date.UTC(2026, 10, 23, 10, 0, 0) + Math.floor(i / 10)
  return new Date(ms).toISOString().slice(0, 19) + '.' + String((ms % 1000) * 1e6 + (i % 10) * 1000 + (rnd() % 1000)).padStart(9, '0') + 'Z'
}

export interface Corpus { files: string[], lines: number, bytes: number }

const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789' // what the API server uses for pod name suffixes

/** Pod `n`'s directory: unique per n, named as the kubelet names it. */
export function podDir (root: string, n: number): string {
  let x = n * 7919 + 104729
  let suffix = ''
  for (let i = 0; i < 5; i++) { suffix += K8S_ALPHABET[x % 27]; x = Math.floor(x / 27) }
  const uid = `${(n + 0x10000000).toString(16)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`
  const workload = WORKLOADS[(n >> 2) % WORKLOADS.length]!
  const pod = workload === 'db' ? `db-${n}` : `${workload}-${suffix}`
  return join(root, `${NS[n % NS.length]}_${pod}_${uid}`)
}

/** Write `lines` CRI lines spread over `files` pods under `<root>/pods`. */
export async function writeCriCorpus (podRoot: string, lines: number, files = 20): Promise<Corpus> {
  seed = 7
  const out: Corpus = { files: [], lines: 0, bytes: 0 }
  for (let f = 0; f < files; f++) {
    const dir = join(podDir(podRoot, f), f % 3 === 0 ? 'sidecar' : 'app')
    mkdirSync(dir, { recursive: true })
    const path = join(dir, '0.log')
    const w = createWriteStream(path)
    const n = Math.floor(lines / files) + (f < lines % files ? 1 : 0)
    for (let i = 0; i < n;) {
      let chunk = ''
      for (let k = 0; k < 2000 && i < n; k++, i++) chunk += `${ts(out.lines + i)} ${rnd() % 10 === 0 ? 'stderr' : 'stdout'} F ${message(i)}\n`
      out.bytes += Buffer.byteLength(chunk)
      if (!w.write(chunk)) await once(w, 'drain')
    }
    w.end()
    await once(w, 'close')
    out.lines += n
    out.files.push(path)
  }
  return out
}

/** Append `n` CRI lines to `path` (for files the forwarder already watches). */
export function criLines (from: number, n: number): string {
  let s = ''
  for (let i = from; i < from + n; i++) s += `${ts(i)} stdout F ${message(i)}\n`
  return s
}
