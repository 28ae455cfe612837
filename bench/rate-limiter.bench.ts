// node dist/bench/rate-limiter.bench.js — cost of the rate limiter per line, next to
// what it is added to (decoding the same batch from the wire format).
import type { Entry, StreamBatch } from '../core/record.js'
import { decodeBatch, encodeBatch } from '../core/wire.js'
import { RateLimiter } from '../collector/limits/rate-limiter.js'
import { LimitRules } from '../collector/limits/rules.js'

const STREAMS = 100
const LINES = 1000
const LINE = 'x'.repeat(100)

function batch (round: number): StreamBatch[] {
  return Array.from({ length: STREAMS }, (_, s) => ({
    stream: { id: `s${s}`, source: 'file' as const, node: 'n', deployment: 'cf', job: 'web', index: '0', process: 'app', path: `/p/${s}`, org: `org${s % 10}`, app: `app${s}` },
    entries: Array.from({ length: LINES }, (_, i): Entry => [String(1_795_428_000_000_000_000n + BigInt(i)), (round * LINES + i) * 101, LINE, 'stdout'])
  }))
}

function rate (label: string, lines: number, fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const r = lines / s
  console.log(`${label.padEnd(46)} ${(r / 1e6).toFixed(2)} M lines/s`)
  return r
}

const rounds = 10
const batches = Array.from({ length: rounds }, (_, r) => batch(r))
const wire = batches.map((b) => encodeBatch(b))
const total = rounds * STREAMS * LINES
const decode = rate('decodeBatch (for scale)', total, () => { for (const w of wire) decodeBatch(w) })
const limiter = new RateLimiter(new LimitRules(['*/*=1G'], ['*=10G']), { episodeMs: 60000 })
const first = rate('limiter, first sight (charged, admitted)', total, () => { for (const b of batches) limiter.apply(b) })
const retry = rate('limiter, retry (decisions replayed)', total, () => { for (const b of batches) limiter.apply(b) })
const tight = new RateLimiter(new LimitRules(['*/*=1K'], []), { episodeMs: 60000 })
rate('limiter, flooding (almost all dropped)', total, () => { for (const b of batches) tight.apply(b) })
console.log(`limiter first sight costs ${(100 * decode / first).toFixed(0)}% of decoding; a retry ${(100 * decode / retry).toFixed(0)}%`)
