import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compareNs, durationToNs, nsToRfc3339, parseTimeArg, rfc3339ToNs } from '../../core/time.js'

test('RFC 3339 keeps every fractional digit', () => {
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00.123456789Z'), '1795428000123456789')
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00Z'), '1795428000000000000')
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00.5Z'), '1795428000500000000')
  // More than 9 digits: the rest is cut, never rounded into the next second.
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00.9999999999Z'), '1795428000999999999')
})

test('RFC 3339 offsets are applied', () => {
  assert.equal(rfc3339ToNs('2026-11-23T12:00:00.000000001+02:00'), '1795428000000000001')
  assert.equal(rfc3339ToNs('2026-11-23T05:30:00-0430'), '1795428000000000000')
})

test('the one-second cache does not leak across zones', () => {
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00.1Z'), '1795428000100000000')
  assert.equal(rfc3339ToNs('2026-11-23T10:00:00.1+01:00'), '1795424400100000000')
})

test('invalid timestamps are null', () => {
  for (const s of ['', 'yesterday', '2026-13-40T10:00:00Z', '2026-11-23 10:00:00', '2026-11-23T10:00:00']) assert.equal(rfc3339ToNs(s), null, s)
})

test('ns back to RFC 3339', () => {
  assert.equal(nsToRfc3339('1795428000123456789'), '2026-11-23T10:00:00.123456789Z')
  assert.equal(nsToRfc3339(0n), '1970-01-01T00:00:00.000000000Z')
})

test('durations and user time arguments', () => {
  assert.equal(durationToNs('2h'), 7_200_000_000_000n)
  assert.equal(durationToNs('1.5s'), 1_500_000_000n)
  assert.equal(durationToNs('2 hours'), null)
  const now = 1_795_428_000_000_000_000n
  assert.equal(parseTimeArg('30m', now), now - 1_800_000_000_000n)
  assert.equal(parseTimeArg('1795428000', now), 1_795_428_000_000_000_000n)
  assert.equal(parseTimeArg('1795428000123', now), 1_795_428_000_123_000_000n)
  assert.equal(parseTimeArg('1795428000123456789', now), 1_795_428_000_123_456_789n)
  assert.equal(parseTimeArg('2026-11-23T10:00:00Z', now), 1_795_428_000_000_000_000n)
  assert.equal(parseTimeArg('soon', now), null)
})

test('ns strings order as the numbers they spell, across lengths', () => {
  const times = ['1764669600000000001', '999', '1764669600000000000', '0', '1000', '99999999999999999']
  assert.deepEqual([...times].sort(compareNs), [...times].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)))
  assert.equal(compareNs('1000', '999') > 0, true)
  assert.equal(compareNs('123', '123'), 0)
})
