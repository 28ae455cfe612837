// node dist/bench/log-counts.bench.js — lines/s through the log-derived
// metrics observer (level detection + counting), beside a loop that only reads each line.
import { StreamHandle } from '../forwarder/shipper.js'
import type { Entry } from '../core/record.js'
import { LogCounts } from '../forwarder/node-metrics/log-counts.js'

const N = 1_000_000
const samples = [
  '{"level":"info","time":1714557600000,"msg":"request completed","status":200,"path":"/v2/apps"}',
  'ts=2024-05-01T10:00:00Z level=warn msg="slow backend" upstream=10.0.0.7:8080 ms=812',
  '2024-05-01T10:00:00.123Z ERROR [router] upstream connection refused: dial tcp 10.0.0.7:8080',
  'I0501 10:00:00.000000       1 server.go:42] served GET /healthz in 1.2ms',
  'plain text line written by an application that knows nothing about levels at all'
]
const entries: Entry[] = Array.from({ length: N }, (_, i) => [String(i), i, samples[i % samples.length]!, 'stdout'])
const handle = new StreamHandle({ id: 's', source: 'file', node: 'n', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/x.log' }, () => {})

let t = process.hrtime.bigint()
let sink = 0
for (const e of entries) sink += e[2].length
const base = Number(process.hrtime.bigint() - t) / 1e9
const counts = new LogCounts(10)
t = process.hrtime.bigint()
for (const e of entries) counts.observe(handle, e[3], e[2], e[2].length, e[4]?.severity)
const took = Number(process.hrtime.bigint() - t) / 1e9
console.log(`observer: ${Math.round(N / took).toLocaleString('en')} lines/s (${(took / N * 1e9).toFixed(0)} ns/line); read-only loop ${(base / N * 1e9).toFixed(0)} ns/line; ${sink > 0 ? '' : '!'}`)
