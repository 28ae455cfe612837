import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

// A realistic log corpus for end-to-end tests: CRI and Docker json-file container logs in
// the kubelet's layout, and BOSH job logs, with the exact bytes each bundle must give back.

export interface CorpusFile {
  /** Where the file is written, relative to the log root. */
  path: string
  /** deployment/job of the instance it belongs to, and its folder and file in a bundle. */
  deployment: string
  job: string
  bundlePath: string
  format: 'cri' | 'docker' | 'plain'
  /** The messages, in order, as `logs fetch` must return them. */
  messages: string[]
}

export interface Roots { pods: string, containers: string, bosh: string }

export function roots (base: string): Roots {
  const r = { pods: join(base, 'pods'), containers: join(base, 'containers'), bosh: join(base, 'bosh') }
  for (const d of Object.values(r)) mkdirSync(d, { recursive: true })
  return r
}

const WORDS = ['GET', '/v2/apps', '200', 'ERROR', 'timeout', 'ünïcödé', '✓', 'tab\there', '"quoted"', 'back\\slash', '{"json":true}', 'level=warn']

function message (file: number, i: number): string {
  if (i % 97 === 13) return '' // empty lines are lines too
  let s = `f${file} line ${i}`
  const n = (i * 7 + file) % 9
  for (let k = 0; k < n; k++) s += ' ' + WORDS[(i + k * 3) % WORDS.length]
  if (i % 501 === 7) s += ' ' + 'x'.repeat(3000) // a long one
  return s
}

/** The corpus layout: 3 CRI pods (one with partial lines), a Docker pod, 2 BOSH jobs' files. */
export function corpusFiles (linesPerFile: number): CorpusFile[] {
  const files: CorpusFile[] = [
    { path: 'pods/shop_web-7d9f8b6c5-x2k4z_u1/app/0.log', deployment: 'shop', job: 'web', bundlePath: 'web.x2k4z/app/0.log', format: 'cri', messages: [] },
    { path: 'pods/shop_web-7d9f8b6c5-q8r5t_u2/app/0.log', deployment: 'shop', job: 'web', bundlePath: 'web.q8r5t/app/0.log', format: 'cri', messages: [] },
    { path: 'pods/shop_db-0_u3/postgres/0.log', deployment: 'shop', job: 'db', bundlePath: 'db.0/postgres/0.log', format: 'cri', messages: [] },
    { path: 'pods/kube-system_dns-x2k4z_u4/coredns/0.log', deployment: 'kube-system', job: 'dns', bundlePath: 'dns.x2k4z/coredns/0.log', format: 'docker', messages: [] },
    { path: 'bosh/gorouter/gorouter.stdout.log', deployment: 'cf', job: 'router', bundlePath: 'router.0/gorouter/gorouter.stdout.log', format: 'plain', messages: [] },
    { path: 'bosh/gorouter/access.log', deployment: 'cf', job: 'router', bundlePath: 'router.0/gorouter/access.log', format: 'plain', messages: [] },
    { path: 'bosh/route_registrar/route_registrar.log', deployment: 'cf', job: 'router', bundlePath: 'router.0/route_registrar/route_registrar.log', format: 'plain', messages: [] }
  ]
  files.forEach((f, n) => { for (let i = 0; i < linesPerFile; i++) f.messages.push(message(n, i)) })
  return files
}

const BASE_MS = Date.UTC(2026, 10, 23, 10, 0, 0)

function ts (i: number): string {
  const ms = BASE_MS + i
  return new Date(ms).toISOString().slice(0, 19) + '.' + String((ms % 1000) * 1_000_000 + (i % 1_000_000)).padStart(9, '0') + 'Z'
}

/** The bytes of lines `from`..`to` of a file in its on-disk format. */
export function render (f: CorpusFile, from: number, to: number): string {
  let out = ''
  for (let i = from; i < to; i++) {
    const m = f.messages[i]!
    if (f.format === 'plain') out += m + '\n'
    else if (f.format === 'docker') out += JSON.stringify({ log: m + '\n', stream: i % 5 === 0 ? 'stderr' : 'stdout', time: ts(i) }) + '\n'
    else if (i % 50 === 3 && m.length > 8) {
      // The kubelet splits long lines into P parts and a final F part.
      const cut = Math.floor(m.length / 2)
      out += `${ts(i)} stdout P ${m.slice(0, cut)}\n${ts(i)} stdout F ${m.slice(cut)}\n`
    } else out += `${ts(i)} ${i % 5 === 0 ? 'stderr' : 'stdout'} F ${m}\n`
  }
  return out
}

export function append (root: string, f: CorpusFile, from: number, to: number): void {
  const p = join(root, f.path)
  mkdirSync(dirname(p), { recursive: true })
  appendFileSync(p, render(f, from, to))
}

/** What a bundle must hold for a file. */
export function expected (f: CorpusFile, upto = f.messages.length): string {
  return f.messages.slice(0, upto).map((m) => m + '\n').join('')
}

/** A `serve all` config reading the corpus roots under `base`, with fast scans for tests. */
export function e2eConfig (base: string): Record<string, unknown> {
  const r = roots(base)
  return {
    dataDir: join(base, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: r.pods, containerLogRoot: r.containers, boshLogRoot: r.bosh, boshSpecFile: join(base, 'no-spec.json'), deployment: 'cf', job: 'router', index: '0', port: 0, scanIntervalMs: 200, pollIntervalMs: 50 },
    collector: { port: 0 },
    query: { port: 0 }
  }
}
