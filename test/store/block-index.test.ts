import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LEVELS } from '../../core/level.js'
import { BloomBuilder, CELLS, STDIOS, bloomFill, bloomMayContain, buildBloom, cell, decodeSummary, encodeSummary, stdioIndex } from '../../store/embedded/block-index.js'
import { Rng } from '../helpers/faults.js'

// The per-block index of the embedded store (store/embedded/block-index.ts): summaries that
// decode to what was encoded, and a bloom that never says "absent" for a block that holds a
// needle, and mostly does for one that does not.

test('cells: one per (stdio, level), stdio names as E records carry them', () => {
  assert.equal(CELLS, STDIOS.length * LEVELS.length)
  const seen = new Set<number>()
  for (let s = 0; s < STDIOS.length; s++) for (let l = 0; l < LEVELS.length; l++) seen.add(cell(s, l))
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: CELLS }, (_, i) => i))
  assert.deepEqual(['', '-', 'stdout', 'stderr', 'file'].map(stdioIndex), [0, 0, 1, 2, -1])
})

test('summaries decode to the cells encoded, for random cells; damaged ones are refused', () => {
  const rng = new Rng(7)
  for (let round = 0; round < 500; round++) {
    const cells = new Float64Array(2 * CELLS)
    const used = rng.int(CELLS + 1)
    for (let k = 0; k < used; k++) {
      const c = rng.int(CELLS)
      // Counts from 0 to past 2^32 (bytes of a large block), and lines without bytes.
      cells[2 * c] = rng.int(3) === 0 ? 0 : rng.int(1 << 20)
      cells[2 * c + 1] = rng.int(4) === 0 ? rng.int(2 ** 20) * 2 ** 20 + rng.int(1 << 20) : rng.int(1 << 24)
    }
    const enc = encodeSummary(cells)
    assert.deepEqual(decodeSummary(enc), cells)
    if (enc.length > 3 + ((CELLS + 7) >>> 3)) {
      assert.throws(() => decodeSummary(enc.subarray(0, enc.length - 1)), /cut short/)
      assert.throws(() => decodeSummary(Buffer.concat([enc, Buffer.from([0])])), /after its cells/)
    }
  }
  assert.throws(() => decodeSummary(Buffer.from([9, 3, 8])), /unknown format/)
  assert.throws(() => encodeSummary(new Float64Array(3)), /numbers/)
  assert.throws(() => encodeSummary(new Float64Array(2 * CELLS).fill(-1)), /non-negative/)
})

const WORDS = ['GET', 'POST', '/api/v1/orders', 'upstream', 'timeout', 'connection', 'refused', 'user', 'id=', 'status=200', 'status=503', 'took', 'ms', 'level=info', 'level=error', '{"msg":', '"', ':', ',', ' ', ' ', ' ']

/** Lines as services write them: words of a small vocabulary, numbers, ids, some random bytes. */
function lines (rng: Rng, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    let s = ''
    const parts = 3 + rng.int(20)
    for (let k = 0; k < parts; k++) {
      const r = rng.int(10)
      if (r < 6) s += rng.pick(WORDS)
      else if (r < 8) s += String(rng.int(100000))
      else s += rng.str(1 + rng.int(12), 'abcdefghijklmnopqrstuvwxyz0123456789-_')
    }
    const b = Buffer.from(s)
    out.push(rng.int(50) === 0 ? Buffer.concat([b, rng.bytes(1 + rng.int(20))]) : b)
  }
  return out
}

/** The lines as one buffer with a header before each (as E records lie), and where each message is. */
function block (ls: Buffer[]): { buf: Buffer, ranges: number[] } {
  const parts: Buffer[] = []
  const ranges: number[] = []
  let pos = 0
  for (const l of ls) {
    const head = Buffer.from(`E 1 2 - ${l.length} 0\n`)
    parts.push(head, l, Buffer.from('\n'))
    ranges.push(pos + head.length, pos + head.length + l.length)
    pos += head.length + l.length + 1
  }
  return { buf: Buffer.concat(parts), ranges }
}

test('a bloom never says absent for a substring of any line of its block (random blocks and needles)', () => {
  const rng = new Rng(11)
  let checked = 0
  for (let round = 0; round < 30; round++) {
    const ls = lines(rng, 1 + rng.int(1500))
    const { buf, ranges } = block(ls)
    const maxBytes = rng.int(3) === 0 ? 64 + rng.int(2048) : undefined
    const bloom = buildBloom(buf, ranges, maxBytes)
    const bits = (bloom.length - 1) * 8
    assert.equal(bits & (bits - 1), 0, 'a power of two of bits')
    if (maxBytes !== undefined) assert.ok(bloom.length <= Math.max(maxBytes, 65), `${bloom.length} bytes within the limit of ${maxBytes}`)
    for (let k = 0; k < 300; k++) {
      const l = rng.pick(ls)
      if (l.length === 0) continue
      const from = rng.int(l.length)
      const needle = l.subarray(from, from + 1 + rng.int(Math.min(40, l.length - from)))
      assert.ok(bloomMayContain(bloom, needle), `${JSON.stringify(needle.toString('latin1'))} of ${JSON.stringify(l.toString('latin1'))}`)
      checked++
    }
    // Whole lines, and their first and last three bytes.
    for (const l of ls) {
      assert.ok(bloomMayContain(bloom, l))
      assert.ok(bloomMayContain(bloom, l.subarray(0, 3)) && bloomMayContain(bloom, l.subarray(l.length - 3)))
    }
  }
  assert.ok(checked > 8000)
})

test('a bloom mostly says absent for needles its block does not hold, and is about half full', () => {
  const rng = new Rng(13)
  let absent = 0
  let skipped = 0
  for (let round = 0; round < 20; round++) {
    const ls = lines(rng, 1000)
    const { buf, ranges } = block(ls)
    const bloom = buildBloom(buf, ranges)
    const fill = bloomFill(bloom)
    assert.ok(fill > 0.2 && fill <= 0.55, `fill ${fill.toFixed(3)}`)
    for (let k = 0; k < 200; k++) {
      const needle = Buffer.from(rng.str(8 + rng.int(10), 'abcdefghijklmnopqrstuvwxyz0123456789 '))
      if (ls.some((l) => l.includes(needle))) continue
      absent++
      if (!bloomMayContain(bloom, needle)) skipped++
    }
  }
  // At half fill a needle of 8 bytes (6 trigrams) passes with a chance of ~1/64.
  assert.ok(absent > 3000 && skipped / absent > 0.9, `${skipped} of ${absent} absent needles said absent`)
})

test('short needles and unknown formats may always match; an empty block holds nothing of 4 bytes', () => {
  const bloom = buildBloom(Buffer.from('ab'), [0, 2])
  assert.equal(bloomMayContain(bloom, Buffer.from('abcd')), false)
  assert.equal(bloomMayContain(bloom, Buffer.from('abc')), true)
  assert.equal(bloomMayContain(bloom, Buffer.from('ab')), true)
  assert.equal(bloomMayContain(bloom, Buffer.from('')), true)
  const other = Buffer.from(bloom)
  other[0] = 3
  assert.equal(bloomMayContain(other, Buffer.from('abc')), true)
  // A builder starts over after finish: the second bloom knows nothing of the first's lines.
  const b = new BloomBuilder()
  const first = Buffer.from('first message here')
  b.add(first, 0, first.length)
  assert.ok(bloomMayContain(b.finish(), Buffer.from('message')))
  const second = Buffer.from('zzzz')
  b.add(second, 0, second.length)
  assert.equal(bloomMayContain(b.finish(), Buffer.from('message')), false)
})

test('no trigram spans two messages', () => {
  // Messages that only form "abcdef" across their boundary.
  const { buf, ranges } = block(['xxabc', 'defxx'].map((s) => Buffer.from(s)))
  const bloom = buildBloom(buf, ranges)
  assert.ok(bloomMayContain(bloom, Buffer.from('xxabc')) && bloomMayContain(bloom, Buffer.from('defxx')))
  assert.equal(bloomMayContain(bloom, Buffer.from('bcde')), false)
  assert.equal(bloomMayContain(bloom, Buffer.from('abcdef')), false)
})
