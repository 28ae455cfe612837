// node dist/bench/block-index.bench.js [--blocks 200] [--lines 1000]
// What a block's index costs and what it saves, on blocks of the benchmarks' CRI messages
// (bench/lib/cri-corpus.ts: JSON application logs, access logs, klog lines, ~200 bytes,
// with random trace ids): the time to index a block (summary, bloom, line index; the levels
// come with the records, found as a request is decoded) beside the time
// to compress it, the bloom's size and fill, and the share of blocks a line filter skips.

import { parseArgs } from 'node:util'
import { framed } from '../core/frames.js'
import type { Entry } from '../core/record.js'
import { criLines } from './lib/cri-corpus.js'
import { BlockEncoder, decodeBlock } from '../store/embedded/block-codec.js'
import { bloomFill, bloomMayContain } from '../store/embedded/block-index.js'
import { BlockIndexer } from '../store/embedded/block-indexer.js'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '200' }, lines: { type: 'string', default: '1000' } } })
const BLOCKS = Number(values.blocks)
const LINES = Number(values.lines)

const messages = criLines(0, BLOCKS * LINES).split('\n').slice(0, -1).map((l) => l.slice(l.indexOf(' F ') + 3))
// A rare needle: one request id, written into one block in fifty.
const RARE = 'req-7f3a9c2e-rare'
const blocks: Array<{ records: Buffer, index: Float64Array, lines: number }> = []
for (let b = 0; b < BLOCKS; b++) {
  const entries: Entry[] = []
  for (let i = 0; i < LINES; i++) {
    let m = messages[b * LINES + i]!
    if (b % 50 === 7 && i === 500) m = m.replace('"msg":"', `"msg":"${RARE} `)
    entries.push([String(1_795_000_000_000_000_000 + b * LINES + i), b * LINES + i, m, i % 10 === 0 ? 'stderr' : 'stdout'])
  }
  const g = framed({ stream: { id: 's', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/p' }, entries })
  blocks.push({ records: g.frames, index: g.index, lines: LINES })
}
const rawBytes = blocks.reduce((n, b) => n + b.records.length, 0)

const encoder = new BlockEncoder()
const indexer = new BlockIndexer()
const stored: Array<{ data: Buffer, bloom: Buffer, levels: Buffer, summary: Buffer | null }> = []
let encodeNs = 0
let indexNs = 0
for (let round = 0; round < 3; round++) {
  stored.length = 0
  encodeNs = 0
  indexNs = 0
  for (const b of blocks) {
    let t = process.hrtime.bigint()
    const data = Buffer.from(encoder.encode(b.records))
    encodeNs += Number(process.hrtime.bigint() - t)
    t = process.hrtime.bigint()
    const ix = indexer.index(b.records, 0, b.records.length, b.lines, data.length, { index: b.index, first: 0 })
    indexNs += Number(process.hrtime.bigint() - t)
    stored.push({ data, ...ix })
  }
}

const compressed = stored.reduce((n, s) => n + s.data.length, 0)
const bloomBytes = stored.reduce((n, s) => n + s.bloom.length, 0)
const fills = stored.map((s) => bloomFill(s.bloom)).sort((a, b) => a - b)
const contents = stored.map((s) => decodeBlock(s.data, 2).map((e) => e[2]))

function skipped (needle: string): { holding: number, decoded: number, skippable: number } {
  const n = Buffer.from(needle)
  let holding = 0
  let decoded = 0
  for (let i = 0; i < stored.length; i++) {
    const has = contents[i]!.some((m) => m.includes(needle))
    if (has) holding++
    const may = bloomMayContain(stored[i]!.bloom, n)
    if (has && !may) throw new Error(`the bloom of block ${i} denies ${needle}, which it holds`)
    if (may) decoded++
  }
  return { holding, decoded, skippable: stored.length - holding }
}

const mb = rawBytes / 1e6
console.log(`${BLOCKS} blocks of ${LINES} lines, ${(rawBytes / BLOCKS / 1024).toFixed(0)} KiB of E records each, LZ4 to ${(compressed / BLOCKS / 1024).toFixed(1)} KiB`)
console.log(`LZ4 encode: ${(encodeNs / 1e6 / mb).toFixed(2)} ms/MB; index (summary, bloom, line index): ${(indexNs / 1e6 / mb).toFixed(2)} ms/MB (${(indexNs / encodeNs).toFixed(2)}× the encode)`)
console.log(`bloom: ${(bloomBytes / BLOCKS).toFixed(0)} B per block (${(100 * bloomBytes / compressed).toFixed(1)} % of the compressed block), fill min/median/max ${fills[0]!.toFixed(2)}/${fills[fills.length >> 1]!.toFixed(2)}/${fills[fills.length - 1]!.toFixed(2)}`)
for (const needle of [RARE, 'connection refused', 'trace_id":"deadbeefcafe', 'upstream timeout', 'kube-probe', '"status":500']) {
  const r = skipped(needle)
  const falsePos = r.decoded - r.holding
  console.log(`|= ${JSON.stringify(needle).padEnd(30)} in ${String(r.holding).padStart(4)} blocks; decoded ${String(r.decoded).padStart(4)} of ${stored.length} (${r.skippable > 0 ? (100 * falsePos / r.skippable).toFixed(1) : '-'} % of the others not skipped)`)
}
