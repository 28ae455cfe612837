import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isoToNs, nsToIso } from '../../../store/elasticsearch/timestamp.js'

test('nanosecond timestamps survive the trip to date_nanos strings and back', () => {
  const vectors: Array<[string, string]> = [
    ['1763892900000000001', '2025-11-23T10:15:00.000000001Z'],
    ['1763892900123456789', '2025-11-23T10:15:00.123456789Z'],
    ['0', '1970-01-01T00:00:00.000000000Z'],
    ['999999999', '1970-01-01T00:00:00.999999999Z'],
    ['-1', '1969-12-31T23:59:59.999999999Z'],
    ['9223372036854775807', '2262-04-11T23:47:16.854775807Z']
  ]
  for (const [ns, iso] of vectors) {
    assert.equal(nsToIso(ns), iso, ns)
    assert.equal(isoToNs(iso), ns, iso)
  }
  assert.equal(isoToNs('2025-11-23T10:15:00.5Z'), '1763892900500000000')
  assert.equal(isoToNs('2025-11-23T11:15:00.000000007+01:00'), '1763892900000000007')
})
