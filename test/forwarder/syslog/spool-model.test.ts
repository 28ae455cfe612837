import assert from 'node:assert/strict'
import { mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { crc32c } from '@node-rs/crc32'
import type { Attributes, StreamTags } from '../../../core/record.js'
import { DiskSpool } from '../../../forwarder/spool/disk-spool.js'
import { tempDir } from '../../helpers/daytwo-process.js'
import { prng } from '../../helpers/equivalence-corpus.js'

// Model-based test of the disk spool: random sequences of operations — append, read (some
// refused, so reads stop inside chunks), ack, sync, restart, crash (the object dropped
// without closing, the last segment's unsynced tail maybe cut, often inside a chunk), a
// flipped byte in a chunk (head, records or CRC; often the chunk the reader stopped inside,
// part of it handed out already), an unlink made to fail — run against the spool and against
// a plain model (a map of sequence number → message, the acknowledged mark, the set of
// messages broken on disk: all of a flipped chunk's). After every step:
//   - what read hands out is, in order and byte for byte, the model's messages not yet handed
//     out, less the broken ones, each broken one counted once as dropped (reason checksum)
//     unless it was handed out before its chunk broke;
//   - `bytes` is what the segment files take on disk, counting a segment whose unlink failed
//     until a retry removed it; once unlinks work again, no acknowledged segment is left.
// Seeded; SPOOL_MODEL_SEED=n runs one seed; a failure names its seed and its last steps.

const SEEDS = process.env.SPOOL_MODEL_SEED !== undefined ? [Number(process.env.SPOOL_MODEL_SEED)] : [1, 2, 3, 4]
const STEPS = 300
const OPTS = { maxBytes: 48 << 10, segmentBytes: 2048, fsyncIntervalMs: 1 << 30 }

const tag = (id: string): StreamTags => ({ id, source: 'syslog', node: 'n', deployment: 'syslog', job: id, index: 'h', process: '', path: 'tcp://127.0.0.1:1' })
const STREAMS = [tag('a'), tag('b'), tag('c')]
const ATTRS: Attributes[] = [{ severity: 'err' }, { facility: 'local3', 'sd.x@1.k': 'v ü' }]
const TIMES = ['1700000000000000000', '1700000000000000001', '17']

interface Msg { tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined }

/** What the default seeds must have done at least once between them (the last test checks). */
const covered = { flipHead: 0, flipCrc: 0, flipInside: 0, flipSpanningRead: 0, flipRolledRead: 0, tornTailChunk: 0, readStoppedInside: 0 }

/**
 * The chunks of a segment file (spool-codec.ts, version 3: 'c' LENGTH BODY CRC32C, BODY
 * records 's'/'m'/'a' LENGTH BODY, a message's BODY starting with its index), found as the
 * reader does: a chunk that fails its CRC is passed over up to the next one that passes.
 */
function chunksOf (data: Buffer): Array<{ start: number, end: number, indexes: number[] }> {
  const out: Array<{ start: number, end: number, indexes: number[] }> = []
  for (let p = 0; p + 5 <= data.length;) {
    const end = p + 5 + data.readUInt32BE(p + 1) + 4
    if (data[p] !== 0x63 || end > data.length || crc32c(data.subarray(p, end - 4)) !== data.readUInt32BE(end - 4)) { p++; continue }
    const indexes: number[] = []
    for (let q = p + 5; q < end - 4; q += 5 + data.readUInt32BE(q + 1)) if (data[q] !== 0x73) indexes.push(data.readUInt32BE(q + 5))
    out.push({ start: p, end, indexes })
    p = end
  }
  return out
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

async function run (seed: number): Promise<void> {
  const rand = prng(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const dir = tempDir('daytwo-spool-model-')
  const steps: string[] = []
  const open: DiskSpool[] = []
  let spool!: DiskSpool
  /** The model. */
  const msgs = new Map<number, Msg>()
  let next = 0
  let acked = 0
  /** Messages broken on disk (a flipped byte in their chunk): never handed out, counted as dropped once. */
  const broken = new Set<number>()
  /** Broken ones this spool object had handed out (or passed) before their chunk broke: it counts none of them. */
  const uncounted = new Set<number>()
  /** Highest sequence number ever handed out: it was fsynced, so no crash may lose it. */
  let everRead = -1
  /** This spool object: the next sequence number read should reach, drops it reported. */
  let readPoint = 0
  let instStart = 0
  let dropped = 0
  /** Acknowledged mark known to be saved (at open and close). */
  let savedFloor = 0
  /** A segment whose unlink is made to fail: its path is a directory, its file put aside. */
  let blocked: { path: string, size: number } | null = null

  const attach = (s: DiskSpool): DiskSpool => {
    open.push(s)
    s.onDropped = (reason, count) => { assert.equal(reason, 'checksum'); dropped += count }
    return s
  }
  const segFiles = (): string[] => readdirSync(dir.path).filter((n) => n.endsWith('.seg')).sort()

  /** After a restart: adopt what the spool found, checking it is what may have survived. */
  const reopened = (crashed: boolean, cutTail: boolean): void => {
    spool = attach(new DiskSpool(dir.path, OPTS))
    if (crashed) {
      assert.ok(spool.ackedBelow >= Math.min(savedFloor, spool.nextSeq) && spool.ackedBelow <= acked, `acknowledged mark ${spool.ackedBelow} not in [${savedFloor}, ${acked}]`)
    } else {
      assert.equal(spool.ackedBelow, Math.min(acked, spool.nextSeq), 'a clean close saves the mark')
    }
    const n = spool.nextSeq
    assert.ok(n <= next, `next sequence ${n} > ${next}`)
    assert.ok(n > everRead, `messages already handed out (up to ${everRead}) were lost: next is ${n}`)
    // Only what is gone may be gone: a record cut off the tail, or a broken one at the very end.
    for (let q = n; q < next; q++) assert.ok(cutTail || broken.has(q), `message ${q} lost by a restart`)
    for (let q = n; q < next; q++) { msgs.delete(q); broken.delete(q) }
    next = n
    acked = spool.ackedBelow
    savedFloor = acked
    readPoint = acked
    instStart = acked
    dropped = 0
    uncounted.clear()
  }

  const checkBytes = (): void => {
    let disk = 0
    for (const name of segFiles()) {
      const p = join(dir.path, name)
      disk += statSync(p).isDirectory() ? blocked!.size : statSync(p).size
    }
    assert.equal(spool.bytes, disk, 'spool bytes = bytes of the segment files (a segment whose unlink failed still counts)')
    assert.ok(spool.bytes <= OPTS.maxBytes)
  }

  const unblock = (): void => {
    if (blocked === null) return
    rmSync(blocked.path, { recursive: true })
    renameSync(blocked.path + '.aside', blocked.path)
    blocked = null
  }

  /** Find message q's chunk on disk: its file, where it starts and ends, the messages in it, whether the file is the last segment. */
  const locate = (q: number): { path: string, start: number, end: number, seqs: number[], last: boolean } | null => {
    const files = segFiles()
    for (const [i, name] of files.entries()) {
      const p = join(dir.path, name)
      if (statSync(p).isDirectory()) continue
      const first = Number(name.slice(0, 16))
      for (const c of chunksOf(readFileSync(p))) {
        const seqs = c.indexes.map((x) => first + x)
        if (seqs.includes(q)) return { path: p, start: c.start, end: c.end, seqs, last: i === files.length - 1 }
      }
    }
    return null
  }

  try {
    spool = attach(new DiskSpool(dir.path, OPTS))
    for (let step = 0; step < STEPS; step++) {
      const r = rand()
      if (r < 0.42) {
        const n = 1 + int(8)
        let got = 0
        for (let k = 0; k < n; k++) {
          const m: Msg = { tags: STREAMS[int(STREAMS.length)]!, tsNs: TIMES[int(TIMES.length)]!, message: '', attrs: rand() < 0.3 ? ATTRS[int(ATTRS.length)] : undefined }
          const pad = rand() < 0.05 ? 2500 : int(120)
          m.message = `#${next}:${Array.from({ length: pad }, () => String.fromCharCode(97 + int(26))).join('')}${rand() < 0.2 ? ' ü€' : ''}`
          const seq = rand() < 0.5 ? spool.append(m.tags, m.tsNs, m.message, m.attrs) : spool.appendBytes(m.tags, m.tsNs, Buffer.from(`xx${m.message}yy`), 2, 2 + Buffer.byteLength(m.message), m.attrs)
          if (seq === null) break // full
          assert.equal(seq, next, 'sequence numbers count up')
          msgs.set(next++, m)
          got++
        }
        steps.push(`append ${got}/${n}`)
      } else if (r < 0.64) {
        const limit = int(40)
        let n = 0
        spool.read((seq, tags, tsNs, message, attrs) => {
          if (n === limit) { if (seq > 0 && locate(seq)?.seqs.includes(seq - 1) === true) covered.readStoppedInside++; return false }
          while (readPoint < seq && broken.has(readPoint)) readPoint++
          assert.equal(seq, readPoint, `read ${seq}, expected ${readPoint}`)
          const m = msgs.get(seq)!
          assert.deepEqual([tags.id, tsNs, message, attrs], [m.tags.id, m.tsNs, m.message, m.attrs], `message ${seq}`)
          readPoint = seq + 1
          if (seq > everRead) everRead = seq
          n++
          return true
        })
        // Counted when passed: by the next message read, or when the next segment starts.
        const passed = [...broken].filter((b) => b >= instStart && b < readPoint && !uncounted.has(b)).length
        const all = [...broken].filter((b) => b >= instStart && !uncounted.has(b)).length
        assert.ok(dropped >= passed && dropped <= all, `dropped ${dropped}; broken records passed ${passed}, in all ${all}`)
        steps.push(`read ${n}/${limit} → ${readPoint}`)
      } else if (r < 0.74) {
        const upTo = acked + int(readPoint - acked + 1)
        spool.ack(upTo)
        acked = Math.max(acked, upTo)
        steps.push(`ack ${upTo}`)
      } else if (r < 0.81) {
        spool.sync()
        await tick()
        await new Promise((resolve) => setTimeout(resolve, int(3)))
        steps.push('sync')
      } else if (r < 0.85) {
        unblock()
        spool.close()
        steps.push('restart')
        reopened(false, false)
      } else if (r < 0.89) {
        await tick() // the crash comes between callbacks: every append was written (spool-writer.ts)
        unblock()
        // Dropped without closing: its timer never fires (fsyncIntervalMs), its descriptors leak.
        const cut = rand() < 0.5
        let how = 'crash'
        if (cut) {
          const files = segFiles()
          const last = join(dir.path, files[files.length - 1]!)
          // Only bytes no fsync covered can be lost: not the records handed out.
          let min = 0
          if (everRead >= 0 && msgs.has(everRead)) { const at = locate(everRead); if (at !== null && at.path === last) min = at.end }
          const size = statSync(last).size
          const to = min + int(size - min + 1)
          if (chunksOf(readFileSync(last)).some((c) => c.start < to && to < c.end)) covered.tornTailChunk++
          truncateSync(last, to)
          how = `crash, ${files[files.length - 1]} cut to ${to} of ${size}`
        }
        reopened(true, cut)
        steps.push(`${how} → acked ${acked}, next ${next}, segments ${segFiles().map((n) => Number(n.slice(0, 16))).join(' ')}`)
      } else if (r < 0.93) {
        await tick()
        // In the last segment, never a chunk with a message handed out: a broken chunk at the
        // very end of it is taken for a write cut short at the next start, and its sequence
        // numbers are used again. In a rolled segment, any chunk: often the one the reader
        // stopped inside, or one it read all of (read again after a restart).
        const cands = [...msgs.keys()].filter((q) => !broken.has(q))
        const q = rand() < 0.5 && msgs.has(readPoint) && !broken.has(readPoint) ? readPoint : cands[int(cands.length)]
        const at = q === undefined ? null : locate(q)
        if (at !== null && (!at.last || at.seqs.every((x) => x > everRead))) {
          // Anywhere in it, a quarter of the time in its head (TYPE, LENGTH) or its CRC.
          const r2 = rand()
          const off = r2 < 0.125 ? at.start + int(5) : r2 < 0.25 ? at.end - 1 - int(4) : at.start + int(at.end - at.start)
          const fd = openSync(at.path, 'r+')
          const one = Buffer.alloc(1)
          one[0] = readFileSync(at.path)[off]! ^ (1 + int(255))
          writeSync(fd, one, 0, 1, off)
          closeSync(fd)
          for (const x of at.seqs) {
            if (!msgs.has(x)) continue // acknowledged and gone from the model
            broken.add(x)
            if (x < readPoint) uncounted.add(x)
          }
          if (off < at.start + 5) covered.flipHead++
          else if (off >= at.end - 4) covered.flipCrc++
          else covered.flipInside++
          if (at.seqs.some((x) => x < readPoint) && at.seqs.some((x) => x >= readPoint)) covered.flipSpanningRead++
          if (!at.last && at.seqs.some((x) => x <= everRead)) covered.flipRolledRead++
          steps.push(`flip chunk of ${at.seqs[0]}..${at.seqs[at.seqs.length - 1]} at ${at.path.slice(-20)}:${off} (chunk ${at.start}..${at.end}), read point ${readPoint}`)
        }
      } else if (blocked === null) {
        await tick()
        const files = segFiles()
        // The oldest segment, once all of it was read: make its unlink fail (EISDIR).
        if (files.length > 2 && readPoint >= Number(files[1]!.slice(0, 16))) {
          const p = join(dir.path, files[0]!)
          blocked = { path: p, size: statSync(p).size }
          renameSync(p, p + '.aside')
          mkdirSync(p)
          writeFileSync(join(p, 'keep'), 'x')
          steps.push(`block unlink of ${files[0]}`)
        }
      } else {
        unblock()
        spool.sync() // retries the unlink
        steps.push('unblock unlink')
        await tick()
        assert.equal(segFiles().length, spool.segmentCount, 'every acknowledged segment is gone once unlinks work')
      }
      await tick()
      checkBytes()
    }
    // The end: every message not acknowledged comes back after a restart, less the broken ones.
    unblock()
    spool.close()
    steps.push('final restart')
    reopened(false, false)
    const got: number[] = []
    spool.read((seq, tags, tsNs, message, attrs) => {
      const m = msgs.get(seq)!
      assert.deepEqual([tags.id, tsNs, message, attrs], [m.tags.id, m.tsNs, m.message, m.attrs], `message ${seq}`)
      got.push(seq)
      return true
    })
    const want = [...msgs.keys()].filter((q) => q >= acked && !broken.has(q))
    assert.deepEqual(got, want, 'after the last restart: every message not acknowledged, less the broken ones')
    // Every segment before the last was read to its end; in the last, up to the last message.
    const files = segFiles()
    const upTo = Math.max(got.length > 0 ? got[got.length - 1]! : 0, Number(files[files.length - 1]!.slice(0, 16)))
    assert.equal(dropped, [...broken].filter((b) => b >= acked && b < upTo).length, 'each broken record passed is counted once')
  } catch (err) {
    const e = err as Error
    e.message = `seed ${seed} (SPOOL_MODEL_SEED=${seed}), ${steps.length} steps, the last:\n  ${steps.slice(-15).join('\n  ')}\n${e.message}`
    throw e
  } finally {
    try { unblock() } catch {}
    for (const s of open) try { s.close() } catch {}
    dir.cleanup()
  }
}

for (const seed of SEEDS) {
  test(`spool against a model: random appends, reads, acks, restarts, crashes, flipped bytes, failing unlinks (seed ${seed})`, async () => { await run(seed) })
}

if (process.env.SPOOL_MODEL_SEED === undefined) {
  test('the seeds above covered chunks: flipped heads, CRCs and insides, a chunk the reader stopped inside, a rolled one read before, torn tail chunks', () => {
    for (const [what, n] of Object.entries(covered)) assert.ok(n > 0, `${what}: ${n} (${JSON.stringify(covered)})`)
  })
}
