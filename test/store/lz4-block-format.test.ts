import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compressSync, uncompressSync } from 'lz4-napi'
import { framed } from '../../core/frames.js'
import type { Entry, StreamTags } from '../../core/record.js'
import { BLOCK_FRAMES_LZ4, decodeBlock, decodeRecords } from '../../store/embedded/block-codec.js'
import { openDatabase } from '../../store/embedded/schema.js'
import { BlockWriter } from '../../store/embedded/writer.js'
import { Rng } from '../helpers/faults.js'

// The embedded store's format-2 blocks (store/embedded/block-codec.ts: the size, 4 bytes
// little-endian, then one LZ4 block) are what lz4-napi calls a size-prepended block, both
// ways: it reads the blocks the store writes with the `lz4` package, and the store reads the
// blocks it writes. So the store could move to it (prebuilt, no node-gyp) and keep every
// existing file readable; docs/runtime.md says why it has not, with figures.

const tags = (id: string): StreamTags => ({ id, source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: `/${id}.log` })

/** Lines of the kinds LZ4 treats differently: repetitive, random, empty, and one far longer than a match can reach back (64 KiB). */
function entries (rng: Rng, from: number, n: number): Entry[] {
  const out: Entry[] = []
  for (let i = 0; i < n; i++) {
    const k = rng.int(10)
    let m: string
    if (k < 5) m = `{"level":"info","msg":"request served","path":"/api/v1/orders/${rng.int(1000)}","status":200}`
    else if (k < 8) m = rng.bytes(20 + rng.int(200)).toString('base64')
    else if (k < 9) m = ''
    else m = i % 50 === 9 ? rng.bytes(50_000).toString('hex') : `E1123 10:00:00.${rng.int(1e6)} 1 reconciler.go:42] failed`
    out.push([String(1_795_000_000_000_000_000n + BigInt(from + i)), from + i, m, i % 3 === 0 ? 'stderr' : 'stdout'])
  }
  return out
}

test('lz4-napi reads the blocks the store writes, and the store reads the blocks lz4-napi writes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-lz4-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const db = openDatabase(join(dir, 'daytwo.sqlite'))
  t.after(() => db.close())
  const writer = new BlockWriter(db, 200)
  const rng = new Rng(19)
  const written = new Map<string, Entry[]>()
  for (let round = 0; round < 4; round++) {
    const batches = ['a', 'b'].map((id) => {
      const es = entries(rng, (written.get(id) ?? []).length, 150 + rng.int(300))
      written.set(id, [...(written.get(id) ?? []), ...es])
      const f = framed({ stream: tags(id), entries: es })
      return { stream: f.stream, frames: f.frames, index: f.index }
    })
    writer.write(batches)
  }

  const rows = db.prepare('SELECT s.id, b.data, b.format FROM blocks b JOIN streams s USING (sid) ORDER BY s.id, b.first_offset').all() as Array<{ id: string, data: Buffer, format: number }>
  assert.ok(rows.length >= 8, `${rows.length} blocks`)
  assert.ok(rows.some((r) => r.data.length > 65_536), 'a block larger than an LZ4 match offset reaches')
  const read = new Map<string, Entry[]>()
  for (const r of rows) {
    assert.equal(r.format, BLOCK_FRAMES_LZ4)
    const records = decodeRecords(r.data)
    // The store's block, read by lz4-napi: the same bytes.
    assert.ok(uncompressSync(r.data).equals(records), `lz4-napi reads a ${r.data.length}-byte block of ${r.id} as the store does`)
    // lz4-napi's block of those records, read by the store: the same lines.
    const theirs = compressSync(records)
    assert.equal(theirs.readUInt32LE(0), records.length, 'lz4-napi puts the size first, little-endian')
    const lines = decodeBlock(theirs, BLOCK_FRAMES_LZ4)
    assert.deepEqual(lines, decodeBlock(r.data, BLOCK_FRAMES_LZ4))
    read.set(r.id, [...(read.get(r.id) ?? []), ...lines])
  }
  // And the lines are the ones written, none lost or added.
  for (const [id, es] of written) assert.deepEqual(read.get(id)!.map((e) => [e[1], e[2], e[3]]), es.map((e) => [e[1], e[2], e[3]]), `stream ${id}`)
})

test('a block cut short or with a wrong size is an error, not other lines', () => {
  const rng = new Rng(3)
  const f = framed({ stream: tags('c'), entries: entries(rng, 0, 300) })
  const good = compressSync(f.frames)
  assert.equal(decodeBlock(good, BLOCK_FRAMES_LZ4).length, 300)
  assert.throws(() => decodeRecords(good.subarray(0, good.length - 7)), /does not decompress to its|corrupt/)
  const wrongSize = Buffer.from(good)
  wrongSize.writeUInt32LE(f.frames.length + 5, 0)
  assert.throws(() => decodeRecords(wrongSize), /does not decompress to its/)
  assert.throws(() => decodeRecords(Buffer.alloc(3)), /shorter than its size field/)
})
