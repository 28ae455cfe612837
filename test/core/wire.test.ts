import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { StreamBatch } from '../../core/record.js'
import { decodeBatch, encodeBatch } from '../../core/wire.js'

const stream = { id: 'abc', source: 'file' as const, node: 'n1', deployment: 'cf', job: 'router', index: '0', process: 'gorouter', path: '/var/vcap/sys/log/gorouter/access.log' }

test('a batch survives encode and decode, including awkward messages', () => {
  const batch: StreamBatch[] = [{
    stream,
    entries: [
      ['1795428000000000000', 0, 'plain', ''],
      ['1795428000000000001', 6, 'quotes " and \\ and \t tabs', 'stdout'],
      ['1795428000000000002', 40, 'unicode ✓ \u0000 \u2028 \ud83d\ude00', 'stderr'],
      ['1795428000000000003', 90, '', 'stdout'],
      ['1795428000000000004', 91, 'with attributes', '', { facility: 'local3', severity: 'err', 'sd.req@32473.trace': 'a "b"' }]
    ]
  }, { stream: { ...stream, id: 'def', labels: { facility: 'local0' } }, entries: [['1', 1, 'x', '']] }]
  assert.deepEqual(decodeBatch(encodeBatch(batch)), batch)
})

test('malformed batches name the line and the problem', () => {
  const good = encodeBatch([{ stream, entries: [['1', 0, 'a', '']] }]).trim()
  const cases: Array<[string, RegExp]> = [
    ['not json', /line 1: not JSON/],
    [good + '\n[]', /line 2: each line must be an object/],
    ['{"stream":{},"entries":[]}', /stream.id must be a string/],
    [JSON.stringify({ stream: { ...stream, source: 'tcp' }, entries: [] }), /stream.source/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a']] }), /entries\[0\] must be/],
    [JSON.stringify({ stream, entries: [['1.5', 0, 'a', '']] }), /Unix nanoseconds/],
    [JSON.stringify({ stream, entries: [['1', -1, 'a', '']] }), /non-negative integer/],
    [JSON.stringify({ stream, entries: [['1', 5, 'a', ''], ['1', 5, 'b', '']] }), /offsets must increase/],
    [JSON.stringify({ stream, entries: [['1', 0, 7, '']] }), /entries\[0\]\[2\] must be a string/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', '', []]] }), /entries\[0\]\[4\] must be an object/],
    // stdio must fit the frames format the store keeps lines in: no spaces, printable ASCII, not "-".
    [JSON.stringify({ stream, entries: [['1', 0, 'a', 'std out']] }), /entries\[0\]\[3\] must be the stdio stream/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', '-']] }), /entries\[0\]\[3\] must be the stdio stream/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', 'x'.repeat(17)]] }), /entries\[0\]\[3\] must be the stdio stream/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', 'stdoüt']] }), /entries\[0\]\[3\] must be the stdio stream/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', '', { severity: 3 }]] }), /entries\[0\]\[4\]\.severity must be a string/],
    [JSON.stringify({ stream, entries: [['1', 0, 'a', '', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))]] }), /more than 64 attributes/],
    [JSON.stringify({ stream: { ...stream, job: 'x'.repeat(2000) }, entries: [] }), /longer than/]
  ]
  for (const [body, re] of cases) {
    assert.throws(() => decodeBatch(body), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'DAYTWO_ERR_BAD_BATCH')
      assert.match(err.message, re)
      return true
    }, body.slice(0, 60))
  }
})

test('blank lines are allowed between groups', () => {
  const body = '\n' + encodeBatch([{ stream, entries: [['1', 0, 'a', '']] }]) + '\n\n'
  assert.equal(decodeBatch(body).length, 1)
})

test('times at and beyond the ends of signed 64-bit nanoseconds, leading zeros included', () => {
  const group = (ts: string) => JSON.stringify({ stream: { id: 's', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/p' }, entries: [[ts, 1, 'm', 'stdout']] }) + '\n'
  for (const ts of ['9223372036854775807', '-9223372036854775808', '00000000000000000001', '-0000000000000000001', '1795428000123456789', '0']) assert.equal(decodeBatch(group(ts)).length, 1, ts)
  for (const ts of ['9223372036854775808', '-9223372036854775809', '99999999999999999999', '09223372036854775808']) {
    assert.throws(() => decodeBatch(group(ts)), /outside signed 64-bit nanoseconds/, ts)
  }
})
