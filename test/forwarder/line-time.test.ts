import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lineTimeNs, mayStartTime } from '../../forwarder/formats/line-time.js'

// Read "now": 2 Dec 2026 13:00 UTC. Zone UTC so that expectations are fixed numbers;
// the tailer reads zoneless times in 'local'.
const nowMs = Date.UTC(2026, 11, 2, 13, 0, 0)
const opts = { zone: 'UTC', nowMs }
const ns = (iso: string, frac = '000000000') => String(Date.parse(iso) / 1000) + frac

function time (line: string, o = opts): string {
  const b = Buffer.from(line)
  return mayStartTime(b, 0, b.length) ? lineTimeNs(b, 0, b.length, o) : 'none'
}

test('ISO 8601 / RFC 3339: T or space, fractions, Z, offsets, no zone', () => {
  assert.equal(time('2026-12-02T10:00:00Z msg'), ns('2026-12-02T10:00:00Z'))
  assert.equal(time('2026-12-02T10:00:00.123456789Z msg'), ns('2026-12-02T10:00:00Z', '123456789'))
  assert.equal(time('2026-12-02 10:00:00.5 msg'), ns('2026-12-02T10:00:00Z', '500000000'))
  assert.equal(time('2026-12-02T10:00:00+02:00 msg'), ns('2026-12-02T08:00:00Z'))
  assert.equal(time('2026-12-02T10:00:00-0530 msg'), ns('2026-12-02T15:30:00Z'))
  // No zone: the forwarder's zone (here +01:00).
  assert.equal(time('2026-12-02 10:00:00 msg', { zone: '+01:00', nowMs }), ns('2026-12-02T09:00:00Z'))
  assert.equal(time('2026-12-02T10:00:00.1234567891234Z x'), ns('2026-12-02T10:00:00Z', '123456789'))
})

test('Java/Python and bracketed forms', () => {
  assert.equal(time('2026-12-02 10:00:00,123 INFO x'), ns('2026-12-02T10:00:00Z', '123000000'))
  assert.equal(time('[2026-12-02 10:00:00,123] INFO x'), ns('2026-12-02T10:00:00Z', '123000000'))
  assert.equal(time('[2026-12-02T10:00:00.000123+00:00] x'), ns('2026-12-02T10:00:00Z', '000123000'))
})

test('klog and syslog forms take the latest year at most a day ahead', () => {
  assert.equal(time('I1202 10:00:00.123456    1 main.go:1] x'), ns('2026-12-02T10:00:00Z', '123456000'))
  assert.equal(time('E1203 12:00:00.000001 x'), ns('2026-12-03T12:00:00Z', '000001000'), 'within a day ahead: this year')
  assert.equal(time('W1204 12:00:00.000001 x'), ns('2025-12-04T12:00:00Z', '000001000'), 'two days ahead: last year')
  assert.equal(time('Dec  2 10:00:00 host x'), ns('2026-12-02T10:00:00Z'))
  assert.equal(time('Jan 15 10:00:00 x'), ns('2026-01-15T10:00:00Z'))
  // Feb 29: the latest leap year not ahead (2024).
  assert.equal(time('Feb 29 10:00:00 x'), ns('2024-02-29T10:00:00Z'))
  assert.equal(time('F0229 10:00:00.1 x'), ns('2024-02-29T10:00:00Z', '100000000'))
})

test('leap days and dates that do not exist', () => {
  assert.equal(time('2024-02-29T23:59:59Z x'), ns('2024-02-29T23:59:59Z'))
  assert.equal(time('2025-02-29T10:00:00Z x'), 'bad')
  assert.equal(time('2026-04-31 10:00:00 x'), 'bad')
  assert.equal(time('2026-13-01 10:00:00 x'), 'bad')
  assert.equal(time('2026-12-02 25:00:00 x'), 'bad')
  assert.equal(time('Apr 31 10:00:00 x'), 'bad')
})

test('lines that merely start with digits, letters or brackets are not times', () => {
  for (const line of ['12345 records processed', '2026-12-02 was the day', '2026-12-02T10:00 no seconds', '[INFO] 2026-12-02 10:00:00 x',
    '[2026] starting', 'I am here at 10:00:00', 'Error 2026: something', 'Dec 2 10:00:00 one space day', 'INFO 10:00:00 x', '2026-12-02T10:00:00Zmore', 'short']) {
    assert.equal(time(line), 'none', line)
  }
})
