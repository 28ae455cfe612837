import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LineSplitter, type RawLine } from '../../forwarder/line-splitter.js'

function split (chunks: string[], max = 1024): RawLine[] {
  const s = new LineSplitter(max)
  const out: RawLine[] = []
  let off = 0
  for (const c of chunks) {
    const b = Buffer.from(c)
    s.push(b, off, out)
    off += b.length
  }
  return out
}

test('lines keep their byte offsets across chunk boundaries', () => {
  const lines = split(['ab', 'c\nde\n', 'f', '\n', 'unfinished'])
  assert.deepEqual(lines.map((l) => [l.bytes.toString(), l.offset, l.end]), [['abc', 0, 4], ['de', 4, 7], ['f', 7, 9]])
})

test('CRLF endings keep the CR (bytes come back as written), multibyte characters keep their bytes', () => {
  const lines = split(['héllo\r\n', '✓\n'])
  assert.deepEqual(lines.map((l) => [l.bytes.toString(), l.offset, l.end]), [['héllo\r', 0, 8], ['✓', 8, 12]])
})

test('a runaway line is cut at the limit and the rest skipped to the newline', () => {
  const big = 'x'.repeat(5000)
  const lines = split([big.slice(0, 3000), big.slice(3000) + '\nnext\n'], 1000)
  assert.equal(lines.length, 2)
  assert.equal(lines[0]!.bytes.length, 1000)
  assert.equal(lines[0]!.truncated, true)
  assert.equal(lines[0]!.end, 5001)
  assert.deepEqual([lines[1]!.bytes.toString(), lines[1]!.offset, lines[1]!.truncated], ['next', 5001, false])
})

test('flush hands out the unfinished last line', () => {
  const s = new LineSplitter(100)
  const out: RawLine[] = []
  s.push(Buffer.from('a\nlast'), 0, out)
  s.flush(6, out)
  assert.deepEqual(out.map((l) => l.bytes.toString()), ['a', 'last'])
  assert.equal(out[1]!.end, 6)
})

test('split mode ships a long line in maxLineBytes pieces with their own offsets', () => {
  const s = new LineSplitter(4, 'split')
  const out: RawLine[] = []
  s.push(Buffer.from('abcdefghij\nxy'), 0, out)
  s.push(Buffer.from('z\n'), 13, out)
  assert.deepEqual(out.map((l) => [l.bytes.toString(), l.offset, l.end, l.split ?? false, l.truncated]), [
    ['abcd', 0, 4, true, false], ['efgh', 4, 8, true, false], ['ij', 8, 11, false, false], ['xyz', 11, 15, false, false]
  ])
})
