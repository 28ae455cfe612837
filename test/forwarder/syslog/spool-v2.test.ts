import assert from 'node:assert/strict'
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Attributes, StreamTags } from '../../../core/record.js'
import { DiskSpool } from '../../../forwarder/spool/disk-spool.js'
import { tempDir } from '../../helpers/daytwo-process.js'
import { repoRoot } from '../../helpers/repo.js'

// A spool written by the code before chunks (version 2: a CRC32C per record) is read exactly
// after the upgrade. The bytes are test/fixtures/spool-v2/spool/, written by that code itself
// (test/fixtures/spool-v2/make.mjs says how); messages.json lists what it was given.

const FIXTURE = join(repoRoot(), 'test', 'fixtures', 'spool-v2')
const OPTS = { maxBytes: 1 << 20, segmentBytes: 1024, fsyncIntervalMs: 1 << 30 }

interface Given { seq: number, stream: string, tsNs: string, message: string, attrs?: Attributes }
const given = JSON.parse(readFileSync(join(FIXTURE, 'messages.json'), 'utf8')) as { ackedBelow: number, messages: Given[] }
const tags = (id: string): StreamTags => ({ id, source: 'syslog', node: 'n', deployment: 'syslog', job: id, index: 'h', process: '', path: 'tcp://127.0.0.1:1' })

type Row = [number, StreamTags, string, string, Attributes | undefined]
function readAll (s: DiskSpool): Row[] {
  const out: Row[] = []
  s.read((seq, t, tsNs, message, attrs) => { out.push([seq, t, tsNs, message, attrs]); return true })
  return out
}
const expected = (from: number): Row[] => given.messages.filter((m) => m.seq >= from).map((m) => [m.seq, tags(m.stream), m.tsNs, m.message, m.attrs])

/** A copy of the fixture's spool to open (opening writes: the fixture stays as it is). */
function copy (t: { after: (fn: () => void) => void }): string {
  const dir = tempDir('daytwo-spool-v2-')
  t.after(() => dir.cleanup())
  cpSync(join(FIXTURE, 'spool'), dir.path, { recursive: true })
  return dir.path
}

test('a version-2 spool written by the old code is read exactly; new messages go to a version-3 segment of their own', (t) => {
  const dir = copy(t)
  assert.equal(JSON.parse(readFileSync(join(dir, 'spool.json'), 'utf8')).version, 2)
  const segs = readdirSync(dir).filter((n) => n.endsWith('.seg')).sort()
  assert.ok(segs.length >= 3, `several version-2 segments: ${segs.join(' ')}`)
  const s = new DiskSpool(dir, OPTS)
  t.after(() => s.close())
  const drops: number[] = []
  s.onDropped = (_reason, count) => { drops.push(count) }
  assert.equal(s.ackedBelow, given.ackedBelow)
  assert.equal(s.nextSeq, given.messages.length, 'the sequence goes on after the last version-2 message')
  assert.deepEqual(readAll(s), expected(given.ackedBelow), 'every message not acknowledged, in order, byte for byte')
  assert.deepEqual(drops, [])
  const n = given.messages.length
  assert.equal(s.append(tags('a'), '1', 'after the upgrade'), n)
  s.close()
  const last = String(n).padStart(16, '0') + '.seg'
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.seg')).sort(), [...segs, last], 'the last version-2 segment is left as it is')
  assert.equal(readFileSync(join(dir, last))[0], 0x63, "the new segment holds a chunk ('c')")
  assert.equal(JSON.parse(readFileSync(join(dir, 'spool.json'), 'utf8')).version, 3, 'saved as version 3: an older daytwo refuses it rather than misread it')
  const s2 = new DiskSpool(dir, OPTS)
  t.after(() => s2.close())
  assert.deepEqual(readAll(s2), [...expected(given.ackedBelow), [n, tags('a'), '1', 'after the upgrade', undefined]], 'both versions, one after the other')
})

test('in a version-2 segment, a record that fails its checksum is still skipped alone and counted', (t) => {
  const dir = copy(t)
  const seg = join(dir, readdirSync(dir).filter((f) => f.endsWith('.seg')).sort()[1]!)
  const data = readFileSync(seg)
  const victim = given.messages.find((m) => m.seq === 14)!
  data[data.indexOf(victim.message) + 2] ^= 0x10
  writeFileSync(seg, data)
  const s = new DiskSpool(dir, OPTS)
  t.after(() => s.close())
  const drops: Array<[string, number]> = []
  s.onDropped = (reason, count) => { drops.push([reason, count]) }
  assert.deepEqual(readAll(s), expected(given.ackedBelow).filter((r) => r[0] !== 14))
  assert.deepEqual(drops, [['checksum', 1]])
})
