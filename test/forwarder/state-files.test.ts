import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileCheckpoints } from '../../forwarder/checkpoints.js'
import { JournaldCheckpoint } from '../../forwarder/sources/journald/cursor-checkpoint.js'

// The forwarder's acknowledged state (file checkpoints, the journald cursor) survives a
// restart, is private, and a file that cannot be parsed stops the start with a message that
// names it and says what to do, instead of silently starting over.

const dir = () => mkdtempSync(join(tmpdir(), 'daytwo-state-'))

test('file checkpoints: first start, then what was flushed is read back, 0600', () => {
  const file = join(dir(), 'forwarder', 'checkpoints.json')
  const a = new FileCheckpoints(file)
  assert.equal(a.firstStart, true)
  a.set({ fingerprint: 'f1', streamKey: 'f1', generation: 0, offset: 42, path: '/var/log/x.log', truncated: 0, anchor: '' } as never)
  a.flush()
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const b = new FileCheckpoints(file)
  assert.equal(b.firstStart, false)
  assert.equal(b.get('f1')?.offset, 42)
})

test('file checkpoints: a corrupt file stops the start and says how to recover', () => {
  const file = join(dir(), 'checkpoints.json')
  writeFileSync(file, '{"version":1,"files":[')
  assert.throws(() => new FileCheckpoints(file), (err: Error & { code?: string }) => {
    assert.match(err.message, /checkpoints file .*checkpoints\.json is corrupt/)
    assert.match(err.message, /move the file away/)
    return true
  })
})

test('journald cursor: flushed cursor and offsets come back; corrupt stops the start', () => {
  const file = join(dir(), 'journald', 'cursor.json')
  const a = new JournaldCheckpoint(file)
  assert.equal(a.state.cursor, null)
  a.set('s=abc;i=7', new Map([['host\0unit', 8]]))
  a.flush()
  const b = new JournaldCheckpoint(file)
  assert.equal(b.state.cursor, 's=abc;i=7')
  assert.equal(b.state.epoch, a.state.epoch)
  assert.deepEqual(b.state.offsets, { 'host\0unit': 8 })
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1)
  writeFileSync(file, 'not json')
  assert.throws(() => new JournaldCheckpoint(file), /journald cursor .* is corrupt .*readFrom/)
})
