import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PartialAssembler } from '../../forwarder/formats/assembler.js'
import { parseCri } from '../../forwarder/formats/cri.js'
import { parseDocker } from '../../forwarder/formats/docker.js'

// Vectors in the shapes the kubelet's CRI logger and Docker's json-file driver write.

test('CRI full and partial lines', () => {
  assert.deepEqual(parseCri('2026-11-23T10:00:00.123456789Z stdout F hello world'), { ts: '1795428000123456789', stdio: 'stdout', partial: false, message: 'hello world' })
  assert.deepEqual(parseCri('2026-11-23T10:00:00.123456789+00:00 stderr P part '), { ts: '1795428000123456789', stdio: 'stderr', partial: true, message: 'part ' })
  // The message keeps its own spaces, and may be empty.
  assert.equal(parseCri('2026-11-23T10:00:00Z stdout F   indented')!.message, '  indented')
  assert.equal(parseCri('2026-11-23T10:00:00Z stdout F ')!.message, '')
  assert.equal(parseCri('2026-11-23T10:00:00Z stdout F')!.message, '')
  // Tags after a colon (reserved by the CRI spec) are accepted.
  assert.equal(parseCri('2026-11-23T10:00:00Z stdout F:x y')!.message, 'y')
})

test('CRI lines that are not CRI are refused', () => {
  for (const s of ['', 'hello', '2026-11-23T10:00:00Z stdin F x', '2026-11-23T10:00:00Z stdout X x', 'notatime stdout F x', '2026-11-23T10:00:00Z stdout FF x']) {
    assert.equal(parseCri(s), null, s)
  }
})

test('Docker json-file lines', () => {
  assert.deepEqual(parseDocker('{"log":"hello\\n","stream":"stdout","time":"2026-11-23T10:00:00.000000001Z"}'), { ts: '1795428000000000001', stdio: 'stdout', partial: false, message: 'hello' })
  assert.deepEqual(parseDocker('{"log":"16k part","stream":"stderr","time":"2026-11-23T10:00:00Z"}'), { ts: '1795428000000000000', stdio: 'stderr', partial: true, message: '16k part' })
  for (const s of ['{', '{"log":1,"time":"2026-11-23T10:00:00Z"}', '{"log":"x\\n"}', '{"log":"x\\n","time":"never"}', 'null']) assert.equal(parseDocker(s), null, s)
})

test('partials are joined per stdio stream, with the last part\'s offset and a safe resume point', () => {
  const a = new PartialAssembler(1024)
  const p = (stdio: string, partial: boolean, message: string) => ({ ts: '1', stdio, partial, message })
  assert.equal(a.add(p('stdout', true, 'a1 '), 0), null)
  assert.equal(a.safeOffset(50), 0, 'resume must re-read the pending partial')
  const err = a.add(p('stderr', false, 'err'), 20)
  assert.deepEqual(err, { ts: '1', stdio: 'stderr', message: 'err', truncated: false })
  assert.equal(a.add(p('stdout', true, 'a2 '), 40), null)
  assert.deepEqual(a.add(p('stdout', false, 'a3'), 60), { ts: '1', stdio: 'stdout', message: 'a1 a2 a3', truncated: false })
  assert.equal(a.safeOffset(80), 80)
})

test('joined partials are cut at the maximum line size', () => {
  const a = new PartialAssembler(10)
  a.add({ ts: '1', stdio: 'stdout', partial: true, message: '123456' }, 0)
  a.add({ ts: '1', stdio: 'stdout', partial: true, message: '789012' }, 10)
  const done = a.add({ ts: '1', stdio: 'stdout', partial: false, message: '345' }, 20)
  assert.deepEqual(done, { ts: '1', stdio: 'stdout', message: '1234567890', truncated: true })
})
