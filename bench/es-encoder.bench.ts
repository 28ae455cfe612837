// node dist/bench/es-encoder.bench.js — records/s through the bulk encoder,
// against the object-then-JSON.stringify way it replaces.
import type { Entry, StreamTags } from '../core/record.js'
import { encodeRecord, streamTail } from '../store/elasticsearch/encoder.js'
import { nsToIso } from '../store/elasticsearch/timestamp.js'

const N = 500_000
const tags: StreamTags = { id: 'c0ffee', source: 'file', node: 'node-1', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/var/vcap/sys/log/gorouter/access.log', org: 'acme', space: 'prod', app: 'shop' }
const entries: Entry[] = []
for (let i = 0; i < N; i++) entries.push([(1763892900000000000n + BigInt(i) * 1_000_000n).toString(), i * 100, `10.0.0.${i % 255} - - "GET /v2/apps/${i} HTTP/1.1" 200 512 "-" "cf/8.7"`, 'stdout'])

function concat (): number {
  const tail = streamTail(tags)
  let n = 0
  for (const e of entries) n += encodeRecord(tags.id, tail, e).length
  return n
}

function naive (): number {
  let n = 0
  for (const e of entries) {
    n += JSON.stringify({ create: { _id: `${tags.id}:${e[1]}` } }).length + JSON.stringify({
      '@timestamp': nsToIso(e[0]), message: e[2], stream: e[3], log: { offset: e[1], file: { path: tags.path } }, host: { name: tags.node },
      daytwo: { stream_id: tags.id, source: tags.source }, deployment: tags.deployment, job: tags.job, index: tags.index, process: tags.process,
      organization: { name: tags.org }, space: tags.space, app: tags.app
    }).length
  }
  return n
}

for (const [name, fn] of [['concatenation', concat], ['JSON.stringify', naive]] as const) {
  fn()
  const t0 = process.hrtime.bigint()
  const bytes = fn()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(`${name.padEnd(15)} ${Math.round(N / s).toLocaleString('en')} records/s  ${(bytes / N).toFixed(0)} B/record`)
}
