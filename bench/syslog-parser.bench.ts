// Throughput of the syslog hot path, piece by piece, on one core:
//   node dist/bench/syslog-parser.bench.js
// RFC 3164 parsing is printed beside syslog-parse (the card's library) for scale.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import syslogParse from 'syslog-parse'
import type { StreamTags } from '../core/record.js'
import { DiskSpool } from '../forwarder/spool/disk-spool.js'
import { FrameSplitter, type FrameSink } from '../forwarder/sources/syslog/octet-framing.js'
import { parseSyslog } from '../forwarder/sources/syslog/parse-syslog.js'

const N = 300_000
const m5424 = '<165>1 2026-11-23T10:00:00.123456Z web-1.example.com nginx 991 ID47 [instance@47450 director="d" deployment="cf" group="router" az="z1" id="6040e9df"] GET /index.html 200 1234 "-" "curl/8.0"'
const m3164 = '<13>Nov 23 10:00:00 web-1 nginx[991]: GET /index.html 200 1234 "-" "curl/8.0"'

function bench (name: string, n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const rate = n / s
  console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(12)} msg/s`)
  return rate
}

const opts = { zone: 'UTC', nowMs: Date.now() }
bench('parse RFC 5424 (daytwo)', N, () => { for (let i = 0; i < N; i++) parseSyslog(m5424, opts) })
const ours = bench('parse RFC 3164 (daytwo)', N, () => { for (let i = 0; i < N; i++) parseSyslog(m3164, opts) })
const theirs = bench('parse RFC 3164 (syslog-parse 2.0.0)', N, () => { for (let i = 0; i < N; i++) syslogParse(m3164) })
console.log(`  ratio daytwo / syslog-parse: ${(ours / theirs).toFixed(2)}`)

const frame = Buffer.from(`${Buffer.byteLength(m5424)} ${m5424}`)
const stream = Buffer.concat(Array.from({ length: 1000 }, () => frame))
bench('frame octet-counted TCP (64 KiB chunks)', N, () => {
  const s = new FrameSplitter(65536)
  let frames = 0
  const out: FrameSink = { frame: () => { frames++ } }
  for (let k = 0; k < N / 1000; k++) {
    for (let off = 0; off < stream.length; off += 65536) s.push(stream.subarray(off, off + 65536), out)
  }
  if (frames !== N) throw new Error(`framed ${frames} of ${N}`)
})

const dir = mkdtempSync(join(tmpdir(), 'daytwo-spool-bench-'))
try {
  const spool = new DiskSpool(dir, { maxBytes: 1 << 30, segmentBytes: 8 << 20, fsyncIntervalMs: 1_000_000 })
  const tags: StreamTags = { id: 'bench', source: 'syslog', node: 'n', deployment: 'cf', job: 'nginx', index: 'web-1', process: '991', path: 'tcp://0.0.0.0:514' }
  const msg = 'GET /index.html 200 1234 "-" "curl/8.0" ' + 'x'.repeat(60)
  bench('spool append (write, no fsync)', N, () => { for (let i = 0; i < N; i++) spool.append(tags, '1795424400123456000', msg) })
  spool.close() // fsync: everything becomes readable
  const again = new DiskSpool(dir, { maxBytes: 1 << 30, segmentBytes: 8 << 20, fsyncIntervalMs: 1_000_000 })
  let n = 0
  bench('spool read back', N, () => { again.read(() => { n++; return true }) })
  if (n !== N) throw new Error(`read ${n} of ${N}`)
  again.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
