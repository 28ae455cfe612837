import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FrameSplitter, frameCollector, type Frame } from '../../../forwarder/sources/syslog/octet-framing.js'

// RFC 6587 framing, fed in every possible split of the byte stream: the frames must not
// depend on where TCP cut the chunks.

function frames (input: Buffer, cuts: number[], max = 1024): { out: string[], truncated: boolean[], err: string | null, lost: number } {
  const s = new FrameSplitter(max)
  const got: Frame[] = []
  const sink = frameCollector(got)
  let err: string | null = null
  let prev = 0
  for (const c of [...cuts, input.length]) {
    err = s.push(input.subarray(prev, c), sink)
    prev = c
    if (err) break
  }
  const lost = err ? 0 : s.end(sink)
  return { out: got.map((f) => f.bytes.toString()), truncated: got.map((f) => f.truncated), err, lost }
}

const m1 = '<13>1 - h a - - - first'
const m2 = '<13>1 - h a - - - second\nwith a newline inside'
const mixed = Buffer.from(`${m1.length} ${m1}${Buffer.byteLength(m2)} ${m2}<13>Nov 23 10:00:00 h a: lf framed\r\n\n\n11 <13>x y z w`)
const want = [m1, m2, '<13>Nov 23 10:00:00 h a: lf framed', '<13>x y z w']

test('octet-counted and LF-framed frames mixed on one connection, cut anywhere', () => {
  for (let i = 0; i <= mixed.length; i++) {
    const r = frames(mixed, [i])
    assert.deepEqual(r.out, want, `cut at ${i}`)
    assert.equal(r.err, null)
  }
  assert.deepEqual(frames(mixed, Array.from({ length: mixed.length }, (_, i) => i)).out, want, 'one byte at a time')
})

test('digits without a space, or more than nine, start an LF-framed message', () => {
  assert.deepEqual(frames(Buffer.from('2026-11-23 no header\n1234567890 <13>ten digits is no count\n'), []).out, ['2026-11-23 no header', '1234567890 <13>ten digits is no count'])
})

test('long frames are cut at maxBytes without buffering the rest', () => {
  const long = 'x'.repeat(5000)
  const r = frames(Buffer.from(`<13>${long}\n${5004} <13>${long}<13>after\n`), [100, 3000], 1000)
  assert.deepEqual(r.out.map((s) => s.length), [1000, 1000, 9])
  assert.deepEqual(r.truncated, [true, true, false])
})

test('a lying octet count fails the connection; an unfinished counted frame is reported lost', () => {
  assert.equal(frames(Buffer.from('5 <13>1 - h a - - - too long for five\n'), []).err, 'octet_count_mismatch')
  assert.equal(frames(Buffer.from('3 abcdef'), []).err, 'octet_count_mismatch', 'the byte after the frame cannot start one')
  // RFC 6587 frames any message: a counted frame that does not start with "<" is kept.
  const any = frames(Buffer.from('3 abc5 hello'), [])
  assert.equal(any.err, null)
  assert.deepEqual(any.out, ['abc', 'hello'])
  const cut = frames(Buffer.from('100 <13>1 - h a - - - short'), [])
  assert.equal(cut.err, null)
  assert.deepEqual(cut.out, [])
  assert.equal(cut.lost, 23)
})
