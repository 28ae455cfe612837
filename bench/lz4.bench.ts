// node dist/bench/lz4.bench.js [--lines 200000] [--rounds 15] [--from DIR]
// LZ4 packages side by side on real store blocks: the embedded store's BlockWriter writes the
// benchmarks' CRI messages (bench/lib/cri-corpus.ts) into a SQLite file, the format-2 blocks
// are read back from it, and every package decodes (and encodes) the same blocks, taking turns
// round by round. Reported: median MB/s of uncompressed bytes and the ratio to `lz4`, the
// package block-codec.ts has used since schema 2.
//
// Each package must first decode every block to the very bytes `lz4` does, or it is not timed.
// Packages not installed are skipped; `--from DIR` loads them from another folder's
// node_modules, e.g. after `npm install --prefix DIR lz4-napi lz4-wasm-nodejs lz4js`.

import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { framed } from '../core/frames.js'
import type { Entry, StreamTags } from '../core/record.js'
import { BlockEncoder, decodeRecords } from '../store/embedded/block-codec.js'
import { openDatabase } from '../store/embedded/schema.js'
import { BlockWriter } from '../store/embedded/writer.js'
import { criLines } from './lib/cri-corpus.js'
import { fmt, log, machine, median, table } from './lib/report.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '15' }, from: { type: 'string' } } })
const LINES = Number(values.lines)
const ROUNDS = Math.max(1, Number(values.rounds))

/** One package's way to read and write a block: `size` (4 bytes LE) then one LZ4 block. */
interface Codec {
  name: string
  /** Where its compressor comes from, for the table. */
  kind: string
  decode: (block: Buffer) => Uint8Array
  encode: (records: Buffer) => Uint8Array
  /** Whether it decodes the store's blocks, and whether block-codec.ts reads its own. */
  reads?: boolean
  writes?: boolean
}

const requireFrom = createRequire(join(values.from ?? process.cwd(), 'package.json'))
const requireHere = createRequire(import.meta.url)
function load (name: string): unknown {
  try { return requireFrom(name) } catch {}
  try { return requireHere(name) } catch { return undefined }
}

/** `size` then the first `n` bytes of `body`: the block as the store keeps it. */
function prefixed (size: number, body: Uint8Array, n: number): Buffer {
  const out = Buffer.allocUnsafe(4 + n)
  out.writeUInt32LE(size, 0)
  out.set(body.subarray(0, n), 4)
  return out
}

function codecs (): Codec[] {
  const out: Codec[] = []
  const lz4 = load('lz4') as { decodeBlock: (i: Buffer, o: Buffer) => number } | undefined
  if (lz4) {
    // The store's own path: BlockEncoder compresses into a scratch buffer it reuses.
    const encoder = new BlockEncoder()
    out.push({
      name: 'lz4',
      kind: 'C (node-gyp)',
      decode: (b) => { const o = Buffer.allocUnsafe(b.readUInt32LE(0)); lz4.decodeBlock(b.subarray(4), o); return o },
      encode: (r) => encoder.encode(r),
    })
  }
  const napi = load('lz4-napi') as { uncompressSync: (b: Buffer) => Buffer, compressSync: (b: Buffer) => Buffer } | undefined
  if (napi) out.push({ name: 'lz4-napi', kind: 'Rust lz4_flex (prebuilt N-API)', decode: (b) => napi.uncompressSync(b), encode: (r) => napi.compressSync(r) })
  const wasm = load('lz4-wasm-nodejs') as { decompress: (b: Uint8Array) => Uint8Array, compress: (b: Uint8Array) => Uint8Array } | undefined
  if (wasm) out.push({ name: 'lz4-wasm-nodejs', kind: 'Rust lz4_flex (WebAssembly)', decode: (b) => wasm.decompress(b), encode: (r) => wasm.compress(r) })
  const js = load('lz4js') as { decompressBlock: (s: Uint8Array, d: Uint8Array, si: number, sl: number, di: number) => number, compressBlock: (s: Uint8Array, d: Uint8Array, si: number, sl: number, h: Uint32Array) => number, compressBound: (n: number) => number } | undefined
  if (js) {
    out.push({
      name: 'lz4js',
      kind: 'JavaScript',
      decode: (b) => { const o = Buffer.allocUnsafe(b.readUInt32LE(0)); js.decompressBlock(b, o, 4, b.length - 4, 0); return o },
      encode: (r) => { const o = Buffer.allocUnsafe(js.compressBound(r.length)); return prefixed(r.length, o, js.compressBlock(r, o, 0, r.length, new Uint32Array(1 << 16))) },
    })
  }
  return out
}

/** The store's own blocks: written by BlockWriter into a real SQLite file, read back as stored. */
function storeBlocks (): Buffer[] {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-lz4-bench-'))
  try {
    const db = openDatabase(join(dir, 'daytwo.sqlite'))
    const writer = new BlockWriter(db, 1000)
    const messages = criLines(0, LINES).split('\n').slice(0, -1).map((l) => l.slice(l.indexOf(' F ') + 3))
    const streams = 8
    const batch = 5000
    for (let from = 0; from < LINES; from += batch * streams) {
      const batches = []
      for (let s = 0; s < streams; s++) {
        const stream: StreamTags = { id: `s${s}`, source: 'file', node: 'n', deployment: 'd', job: 'j', index: String(s), process: 'p', path: `/var/log/s${s}.log` }
        const entries: Entry[] = []
        for (let i = 0; i < batch; i++) {
          const k = from + s * batch + i
          if (k >= LINES) break
          entries.push([String(1_795_000_000_000_000_000 + k), from / streams + i, messages[k]!, i % 10 === 0 ? 'stderr' : 'stdout'])
        }
        if (entries.length === 0) continue
        const f = framed({ stream, entries })
        batches.push({ stream: f.stream, frames: f.frames, index: f.index })
      }
      writer.write(batches)
    }
    const rows = db.prepare('SELECT data FROM blocks WHERE format = 2 ORDER BY sid, first_offset').all() as Array<{ data: Buffer }>
    db.close()
    return rows.map((r) => r.data)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

const blocks = storeBlocks()
const reference = blocks.map((b) => decodeRecords(b))
const raw = reference.reduce((n, r) => n + r.length, 0)
const stored = blocks.reduce((n, b) => n + b.length, 0)
log(`${blocks.length} blocks from the store, ${fmt(raw / 1e6, 1)} MB of E records in ${fmt(stored / 1e6, 1)} MB (${fmt(raw / stored, 2)}×)`)

const all = codecs()
for (const c of all) {
  const bad = blocks.findIndex((b, i) => { try { return !same(c.decode(b), reference[i]!) } catch { return true } })
  c.reads = bad < 0
  if (!c.reads) log(`${c.name}: block ${bad} decodes to other bytes than the store wrote: decode not timed`)
  // Its own blocks must be readable by what the store reads with (same format both ways).
  const unread = reference.findIndex((r) => { try { return !decodeRecords(Buffer.from(c.encode(r))).equals(r) } catch { return true } })
  c.writes = unread < 0
  if (!c.writes) log(`${c.name}: block-codec.ts does not read back its block of block ${unread}'s records: encode not timed`)
}
const timed = all.filter((c) => c.reads || c.writes)
for (const name of ['lz4', 'lz4-napi', 'lz4-wasm-nodejs', 'lz4js']) if (!all.some((c) => c.name === name)) log(`${name}: not installed, skipped`)

const decodeMBs = new Map<string, number[]>(timed.map((c) => [c.name, []]))
const encodeMBs = new Map<string, number[]>(timed.map((c) => [c.name, []]))
const sizes = new Map<string, number>()
for (let round = 0; round < ROUNDS; round++) {
  // Taking turns, in an order that shifts each round, so load drifts fall on all alike.
  for (let k = 0; k < timed.length; k++) {
    const c = timed[(round + k) % timed.length]!
    if (c.reads) {
      const t = process.hrtime.bigint()
      for (const b of blocks) c.decode(b)
      decodeMBs.get(c.name)!.push(raw / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9))
    }
    if (c.writes) {
      const t = process.hrtime.bigint()
      let size = 0
      for (const r of reference) size += c.encode(r).length
      encodeMBs.get(c.name)!.push(raw / 1e6 / (Number(process.hrtime.bigint() - t) / 1e9))
      sizes.set(c.name, size)
    }
  }
}

const base = timed.find((c) => c.name === 'lz4')
const ratio = (m: Map<string, number[]>, c: Codec) => base ? fmt(median(m.get(c.name)!) / median(m.get(base.name)!), 2) + '×' : '–'
console.log(machine())
console.log(`${blocks.length} store blocks of ≤1000 lines, ${fmt(raw / 1e6, 1)} MB uncompressed; median of ${ROUNDS} rounds`)
console.log(table(['package', 'implementation', 'decode MB/s', 'decode vs lz4', 'encode MB/s', 'encode vs lz4', 'compressed / raw'], timed.map((c) => [
  c.name, c.kind,
  fmt(median(decodeMBs.get(c.name)!)), ratio(decodeMBs, c),
  fmt(median(encodeMBs.get(c.name)!)), ratio(encodeMBs, c),
  c.writes ? fmt(sizes.get(c.name)! / raw, 3) : 'unreadable',
])))
