import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { StreamTags } from '../../../core/record.js'
import type { Attributes } from '../../../core/record.js'
import { DiskSpool } from '../../../forwarder/spool/disk-spool.js'
import { tempDir } from '../../helpers/daytwo-process.js'

const tags = (id: string): StreamTags => ({ id, source: 'syslog', node: 'n', deployment: 'syslog', job: id, index: 'h', process: '', path: 'tcp://127.0.0.1:1' })
const opts = { maxBytes: 1 << 20, segmentBytes: 4096, fsyncIntervalMs: 10_000 }

/** A temp dir whose spools are closed before it is removed, even when the test fails. */
function spoolDir (t: { after: (fn: () => void) => void }): { path: string, open: (o?: typeof opts) => DiskSpool } {
  const dir = tempDir()
  const open: DiskSpool[] = []
  t.after(() => { for (const s of open) s.close(); dir.cleanup() })
  return { path: dir.path, open: (o = opts) => { const s = new DiskSpool(dir.path, o); open.push(s); return s } }
}

interface Read { seq: number, tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined }

function readAll (s: DiskSpool): Read[] {
  const out: Read[] = []
  s.read((seq, tags, tsNs, message, attrs) => { out.push({ seq, tags, tsNs, message, attrs }); return true })
  return out
}

test('messages come back in order with sequence numbers, after fsync only', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  assert.equal(s.append(tags('a'), '1', 'one'), 0)
  assert.equal(s.append(tags('b'), '2', 'two'), 1)
  assert.equal(s.append(tags('a'), '3', 'drei ü'), 2)
  assert.deepEqual(readAll(s), [], 'nothing is read before it is on disk')
  s.close()
  const s2 = dir.open()
  const got = readAll(s2)
  assert.deepEqual(got.map((m) => [m.seq, m.tags.id, m.tsNs, m.message]), [[0, 'a', '1', 'one'], [1, 'b', '2', 'two'], [2, 'a', '3', 'drei ü']])
  assert.equal(s2.append(tags('b'), '4', 'four'), 3, 'the sequence continues after a restart')
})

test('acknowledged segments are deleted, the mark and the epoch survive a restart', (t) => {
  const dir = spoolDir(t)
  const s = dir.open({ ...opts, fsyncIntervalMs: 1 })
  const msg = 'x'.repeat(1000)
  for (let i = 0; i < 20; i++) s.append(tags('a'), String(i), msg)
  s.close() // fsyncs
  const s2 = dir.open()
  const epoch = s2.epoch
  const first = readAll(s2)
  assert.equal(first.length, 20)
  assert.ok(s2.segmentCount >= 5, `4 KiB segments: ${s2.segmentCount}`)
  s2.ack(10)
  assert.ok(readdirSync(dir.path).filter((n) => n.endsWith('.seg')).length < s2.segmentCount + 1)
  assert.ok(Number(readdirSync(dir.path).filter((n) => n.endsWith('.seg')).sort()[0]!.slice(0, 16)) <= 10, 'the segment holding seq 10 stays')
  s2.close()
  const s3 = dir.open()
  assert.equal(s3.epoch, epoch)
  assert.deepEqual(readAll(s3).map((m) => m.seq), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 'only unacknowledged messages are read again')
  s3.ack(20)
  assert.equal(s3.pending, 0)
  assert.equal(s3.append(tags('a'), '1', 'next'), 20)
})

test('a full spool refuses messages; acknowledging makes room', (t) => {
  const dir = spoolDir(t)
  const s = dir.open({ maxBytes: 65536, segmentBytes: 8192, fsyncIntervalMs: 10_000 })
  const msg = 'y'.repeat(1000)
  let accepted = 0
  while (s.append(tags('a'), '1', msg) !== null) accepted++
  assert.ok(accepted > 50 && accepted < 66, `about 64 KiB of messages: ${accepted}`)
  assert.equal(s.append(tags('a'), '1', msg), null)
  s.close()
  const s2 = dir.open({ maxBytes: 65536, segmentBytes: 8192, fsyncIntervalMs: 10_000 })
  assert.equal(readAll(s2).length, accepted)
  s2.ack(accepted)
  assert.notEqual(s2.append(tags('a'), '1', msg), null, 'room again once acknowledged')
})

test('a record cut short by a crash is cut off; the rest is kept', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  s.append(tags('a'), '1', 'whole')
  s.close()
  const seg = readdirSync(dir.path).find((n) => n.endsWith('.seg'))!
  appendFileSync(join(dir.path, seg), Buffer.from([0x4d, 0, 0, 0, 99, 1, 2]))
  const s2 = dir.open()
  assert.deepEqual(readAll(s2).map((m) => m.message), ['whole'])
  assert.equal(s2.append(tags('a'), '2', 'after'), 1)
})

test('per-line attributes survive the spool and a restart', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  s.append(tags('a'), '1', 'plain')
  s.append(tags('a'), '2', 'with', { facility: 'local3', severity: 'err', 'sd.x@1.k': 'v ü' })
  s.close() // close fsyncs
  const got = readAll(dir.open())
  assert.deepEqual(got.map((m) => [m.message, m.attrs]), [['plain', undefined], ['with', { facility: 'local3', severity: 'err', 'sd.x@1.k': 'v ü' }]])
})

const until = async (cond: () => boolean): Promise<void> => { while (!cond()) await new Promise((resolve) => setTimeout(resolve, 2)) }

test('appends are written by the time another callback runs, and read only once fsynced', async (t) => {
  const dir = spoolDir(t)
  const s = dir.open({ ...opts, maxBytes: 1 << 24, segmentBytes: 1 << 23 })
  const m = (i: number): string => `m${i} ${'z'.repeat(3000)}`
  for (let i = 0; i < 500; i++) s.append(tags('a'), String(i), m(i))
  await new Promise((resolve) => setImmediate(resolve))
  const seg = readdirSync(dir.path).filter((n) => n.endsWith('.seg'))
  assert.equal(seg.length, 1)
  assert.equal(statSync(join(dir.path, seg[0]!)).size, s.bytes, 'every accepted message is in the segment file')
  assert.deepEqual(readAll(s), [], 'not fsynced yet')
  let durable = false
  s.onDurable = () => { durable = true }
  s.syncNow() // 1.5 MB wait: fsync now, not at the timer's next tick (10 s)
  await until(() => durable)
  assert.deepEqual(readAll(s).map((r) => r.message), Array.from({ length: 500 }, (_, i) => m(i)))
})

test('segments roll while fsyncs are in flight; reads cross them in order once each is fsynced; a restart continues the sequence', async (t) => {
  const dir = spoolDir(t)
  const o = { maxBytes: 1 << 24, segmentBytes: 4096, fsyncIntervalMs: 1 }
  const s = dir.open(o)
  const got: Read[] = []
  const N = 3000
  for (let i = 0; i < N; i++) {
    // Times repeat ten at a time, streams and attributes change within: records that repeat the last one's head and records that do not.
    assert.equal(s.append(tags(i % 7 === 0 ? 'b' : 'a'), String(1000 + Math.floor(i / 10)), `message ${i}`, i % 5 === 0 ? { severity: 'err' } : undefined), i)
    if (i % 100 === 99) { await new Promise((resolve) => setImmediate(resolve)); got.push(...readAll(s)) }
  }
  await until(() => { got.push(...readAll(s)); return got.length === N })
  assert.ok(s.segmentCount > 20, `${s.segmentCount} segments`)
  assert.deepEqual(got.map((m) => m.seq), Array.from({ length: N }, (_, i) => i))
  assert.deepEqual(got.map((m) => m.message), Array.from({ length: N }, (_, i) => `message ${i}`))
  assert.deepEqual(got.map((m) => m.tags.id), Array.from({ length: N }, (_, i) => (i % 7 === 0 ? 'b' : 'a')))
  assert.deepEqual(got.map((m) => m.attrs), Array.from({ length: N }, (_, i) => (i % 5 === 0 ? { severity: 'err' } : undefined)))
  assert.deepEqual(got.map((m) => m.tsNs), Array.from({ length: N }, (_, i) => String(1000 + Math.floor(i / 10))))
  s.ack(1000)
  s.close()
  const s2 = dir.open(o)
  assert.equal(s2.nextSeq, N)
  assert.deepEqual(readAll(s2).map((m) => m.seq), Array.from({ length: N - 1000 }, (_, i) => 1000 + i), 'what was not acknowledged, again, with the same numbers')
})

const writer = join(dirname(fileURLToPath(import.meta.url)), 'spool-writer.js')

for (const segmentBytes of [1 << 20, 4096]) {
  test(`kill -9 in the middle of a burst (${segmentBytes} B segments): every message the spool said it held comes back once, in order`, (t) => {
    const dir = spoolDir(t)
    const report = join(dir.path, 'report.txt')
    for (const [round, killAt] of [[0, 40], [1, 25], [2, 60]] as const) {
      const r = spawnSync(process.execPath, [writer, join(dir.path, 'spool'), report, String(killAt), String(segmentBytes)], { encoding: 'utf8', timeout: 30_000 })
      assert.equal(r.signal, 'SIGKILL', `round ${round}: ${r.stderr}`)
      const lines = readFileSync(report, 'utf8').trim().split('\n')
      assert.equal(lines.length, killAt, `round ${round}: one report per burst before the kill`)
      const said = Number(lines[lines.length - 1]!.split(' ')[0])
      const s = new DiskSpool(join(dir.path, 'spool'), { ...opts, segmentBytes })
      try {
        const got = readAll(s)
        assert.ok(got.length >= said, `round ${round}: ${got.length} messages back, the spool had said ${said}`)
        assert.deepEqual(got.map((m) => m.seq), Array.from({ length: got.length }, (_, i) => i), `round ${round}: sequence numbers`)
        assert.deepEqual(got.map((m) => m.message), Array.from({ length: got.length }, (_, i) => `message ${i} ${'x'.repeat(i % 97)}`), `round ${round}: messages`)
        assert.deepEqual(got.map((m) => m.attrs), Array.from({ length: got.length }, (_, i) => (i % 3 === 0 ? { severity: 'info' } : undefined)), `round ${round}: attributes`)
        assert.equal(s.nextSeq, got.length, `round ${round}: the sequence continues after the last message kept`)
      } finally { s.close() }
    }
  })
}

/** A version-1 record (before checksums), encoded here by hand as that code wrote it: TYPE LENGTH PAYLOAD. */
function v1Record (type: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(5)
  h[0] = type.charCodeAt(0)
  h.writeUInt32BE(payload.length, 1)
  return Buffer.concat([h, payload])
}
function v1Message (stream: number, ts: string, message: string, attrs?: Attributes): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(stream, 0)
  head[4] = ts.length
  const parts = [head, Buffer.from(ts, 'latin1')]
  if (attrs !== undefined) {
    const json = Buffer.from(JSON.stringify(attrs))
    const l = Buffer.alloc(2)
    l.writeUInt16BE(json.length)
    parts.push(l, json)
  }
  parts.push(Buffer.from(message))
  return v1Record(attrs === undefined ? 'M' : 'A', Buffer.concat(parts))
}

test('a spool written before records had checksums (version 1) is read after the upgrade; new messages go to a new segment', (t) => {
  const dir = spoolDir(t)
  const S = (tg: StreamTags): Buffer => v1Record('S', Buffer.from(JSON.stringify(tg)))
  writeFileSync(join(dir.path, '0000000000000000.seg'), Buffer.concat([S(tags('a')), v1Message(0, '1', 'zero'), S(tags('b')), v1Message(1, '2', 'one ü', { severity: 'err' }), v1Message(0, '3', 'two')]))
  writeFileSync(join(dir.path, '0000000000000003.seg'), Buffer.concat([S(tags('b')), v1Message(0, '4', 'three'), v1Message(0, '5', 'four')]))
  writeFileSync(join(dir.path, 'spool.json'), JSON.stringify({ version: 1, epoch: 'e1', ackedBelow: 1 }))
  const s = dir.open()
  assert.equal(s.epoch, 'e1')
  assert.equal(s.nextSeq, 5)
  assert.deepEqual(readAll(s).map((m) => [m.seq, m.tags.id, m.tsNs, m.message, m.attrs]), [[1, 'b', '2', 'one ü', { severity: 'err' }], [2, 'a', '3', 'two', undefined], [3, 'b', '4', 'three', undefined], [4, 'b', '5', 'four', undefined]])
  assert.equal(s.append(tags('a'), '6', 'five'), 5)
  s.close()
  assert.ok(readdirSync(dir.path).includes('0000000000000005.seg'), 'a version-3 segment of its own')
  assert.equal(JSON.parse(readFileSync(join(dir.path, 'spool.json'), 'utf8')).version, 3, 'saved as version 3: an older daytwo refuses it rather than misread it')
  assert.deepEqual(readAll(dir.open()).map((m) => [m.seq, m.message]), [[1, 'one ü'], [2, 'two'], [3, 'three'], [4, 'four'], [5, 'five']])
})

test('a chunk that fails its checksum is skipped alone and counted; the chunks after it are read', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  // Each flush writes one chunk: six chunks of two messages.
  for (let i = 0; i < 12; i++) {
    s.append(tags(i % 2 === 0 ? 'a' : 'b'), '1', `message ${i}`)
    if (i % 2 === 1) s.flush()
  }
  s.close()
  const seg = join(dir.path, readdirSync(dir.path).find((n) => n.endsWith('.seg'))!)
  const data = readFileSync(seg)
  data[data.indexOf('message 3') + 3] ^= 0x01 // a bit flip inside chunk 1 (messages 2 and 3)
  // and one in chunk 3's head (its TYPE; chunks are TYPE LENGTH BODY CRC32C, spool-codec.ts)
  let at = 0
  for (let k = 0; k < 3; k++) at += 9 + data.readUInt32BE(at + 1)
  assert.equal(data[at], 0x63)
  data[at] ^= 0x40
  writeFileSync(seg, data)
  const s2 = dir.open()
  const drops: Array<[string, number]> = []
  s2.onDropped = (reason, count) => { drops.push([reason, count]) }
  assert.deepEqual(readAll(s2).map((m) => [m.seq, m.message]), [0, 1, 4, 5, 8, 9, 10, 11].map((i) => [i, `message ${i}`]))
  assert.deepEqual([...new Set(drops.map((d) => d[0]))], ['checksum'])
  assert.equal(drops.reduce((n, d) => n + d[1], 0), 4, 'each skipped message counted once')
  assert.equal(s2.nextSeq, 12, 'the sequence goes on after the last whole chunk')
})

test('every chunk defines the streams it uses: a lost chunk takes none of the other chunks\' messages with it', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  const streams: Record<string, StreamTags> = { a: tags('a'), b: tags('b') } // the same objects, as a receiver passes them
  const put = (id: string, text: string): void => { const b = Buffer.from(`[${text}]`); s.appendBytes(streams[id]!, '7', b, 1, b.length - 1) }
  // Chunk 0 defines a (the writer learns a's head); chunk 1 starts with b, then a with the head copied from chunk 0's.
  put('a', 'a0'); put('a', 'a1'); s.flush()
  put('b', 'b2'); put('a', 'a3'); put('a', 'a4'); put('b', 'b5'); s.flush()
  s.close()
  const seg = join(dir.path, readdirSync(dir.path).find((n) => n.endsWith('.seg'))!)
  const data = readFileSync(seg)
  data[data.indexOf('a1')] ^= 0x20 // chunk 0 fails its checksum
  writeFileSync(seg, data)
  const s2 = dir.open()
  let lost = 0
  s2.onDropped = (_reason, count) => { lost += count }
  assert.deepEqual(readAll(s2).map((m) => [m.seq, m.tags.id, m.message]), [[2, 'b', 'b2'], [3, 'a', 'a3'], [4, 'a', 'a4'], [5, 'b', 'b5']])
  assert.equal(lost, 2)
})

test('a segment whose first chunk lost its head counts its losses as checksum ones, alone in its segment or not', (t) => {
  const dir = spoolDir(t)
  const o = { ...opts, segmentBytes: 1000 }
  const s = dir.open(o)
  // A segment rolls at the first append once it holds 1000 bytes: messages of ~225 bytes.
  const put = (from: number, to: number): void => { for (let i = from; i < to; i++) s.append(tags('a'), '1', `message ${i} ${'x'.repeat(200)}`); s.flush() }
  put(0, 4) // segment 0: one chunk
  put(4, 6); put(6, 8) // segment 4: two chunks
  put(8, 9) // segment 8
  s.close()
  const segs = readdirSync(dir.path).filter((n) => n.endsWith('.seg')).sort()
  assert.deepEqual(segs.map((n) => Number(n.slice(0, 16))), [0, 4, 8])
  // The head of each one's first chunk (TYPE; LENGTH): the segment's version is not known from it.
  for (const [name, at] of [[segs[0]!, 0], [segs[1]!, 3]] as const) {
    const data = readFileSync(join(dir.path, name))
    data[at] ^= 0x04
    writeFileSync(join(dir.path, name), data)
  }
  const s2 = dir.open(o)
  const drops: Array<[string, number]> = []
  s2.onDropped = (reason, count) => { drops.push([reason, count]) }
  assert.deepEqual(readAll(s2).map((m) => m.seq), [6, 7, 8])
  assert.deepEqual(drops, [['checksum', 4], ['checksum', 2]])
})

test('a chunk cut short by a crash is cut off whole at the next start; the chunks before it are kept', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  for (let i = 0; i < 6; i++) {
    s.append(tags('a'), '1', `message ${i}`)
    if (i % 3 === 2) s.flush()
  }
  s.close()
  const seg = join(dir.path, readdirSync(dir.path).find((n) => n.endsWith('.seg'))!)
  const data = readFileSync(seg)
  // The last chunk (messages 3 to 5) loses its CRC and half of message 5.
  writeFileSync(seg, data.subarray(0, data.indexOf('message 5') + 4))
  const s2 = dir.open()
  const drops: number[] = []
  s2.onDropped = (_reason, count) => { drops.push(count) }
  assert.deepEqual(readAll(s2).map((m) => m.message), ['message 0', 'message 1', 'message 2'], 'none of a torn chunk is handed out')
  assert.deepEqual(drops, [], 'a torn tail is not lost data: those messages were never durable')
  assert.equal(s2.nextSeq, 3, 'the sequence goes on after the last whole chunk')
  assert.equal(s2.append(tags('a'), '2', 'after'), 3)
  s2.close()
  assert.deepEqual(readAll(dir.open()).map((m) => [m.seq, m.message]), [[0, 'message 0'], [1, 'message 1'], [2, 'message 2'], [3, 'after']])
})

test('a read that stops inside a chunk goes on from the next message of it, and hands out none twice', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  for (let i = 0; i < 50; i++) s.append(tags(i % 3 === 0 ? 'b' : 'a'), String(i >> 2), `message ${i}`, i % 4 === 0 ? { severity: 'err' } : undefined)
  s.close() // one chunk
  const s2 = dir.open()
  const got: number[] = []
  for (let round = 0; round < 100 && got.length < 50; round++) {
    let k = 0
    const limit = round % 4 // 0 takes none: the same message is offered again
    s2.read((seq, tg, tsNs, message, attrs) => {
      if (k === limit) return false
      assert.deepEqual([tg.id, tsNs, message, attrs], [seq % 3 === 0 ? 'b' : 'a', String(seq >> 2), `message ${seq}`, seq % 4 === 0 ? { severity: 'err' } : undefined])
      got.push(seq)
      k++
      return true
    })
  }
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i))
})

test('an acknowledged segment whose unlink fails stays counted in bytes and is deleted by a later sync', (t) => {
  const dir = spoolDir(t)
  const s = dir.open()
  for (let i = 0; i < 12; i++) s.append(tags('a'), '1', `m${i} ${'x'.repeat(1500)}`)
  s.close()
  const s2 = dir.open()
  const segs = readdirSync(dir.path).filter((n) => n.endsWith('.seg')).sort()
  assert.ok(segs.length >= 3, `${segs.length} segments`)
  const first = join(dir.path, segs[0]!)
  const size = statSync(first).size
  const total = s2.bytes
  assert.equal(readAll(s2).length, 12)
  // A directory in its place: unlink fails (EISDIR), as root too.
  renameSync(first, first + '.aside')
  mkdirSync(first)
  writeFileSync(join(first, 'x'), '')
  const errors: string[] = []
  s2.onUnlinkError = (path) => errors.push(path)
  s2.ack(Number(segs[1]!.slice(0, 16)))
  assert.equal(s2.segmentCount, segs.length - 1)
  assert.equal(s2.bytes, total, 'its bytes still count: its space is still taken')
  assert.equal(s2.unlinkFailures, 1)
  assert.deepEqual(errors, [first])
  s2.sync()
  assert.equal(s2.bytes, total, 'still there, still counted')
  assert.deepEqual(errors, [first], 'told once')
  rmSync(first, { recursive: true })
  renameSync(first + '.aside', first)
  s2.sync()
  assert.equal(s2.bytes, total - size, 'deleted on the retry, and no longer counted')
  assert.ok(!readdirSync(dir.path).includes(segs[0]!))
})
