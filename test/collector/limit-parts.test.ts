import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OrgLabels, OTHER } from '../../collector/accounting/org-labels.js'
import { StreamDecisions } from '../../collector/limits/decision-log.js'
import { LimitRules, parseRate } from '../../collector/limits/rules.js'
import { TokenBucket } from '../../collector/limits/token-bucket.js'
import { loadConfig } from '../../core/config.js'

test('rates read like cf push --log-rate-limit: bytes, K, M, G (1024-based)', () => {
  assert.equal(parseRate('16384', 'x'), 16384)
  assert.equal(parseRate('16K', 'x'), 16384)
  assert.equal(parseRate('1.5M', 'x'), 1572864)
  assert.equal(parseRate('1GiB', 'x'), 1073741824)
  assert.throws(() => parseRate('fast', 'collector.tenants.appLogRateLimits a/b=fast'), /appLogRateLimits a\/b=fast: "fast" is not a positive rate/)
  assert.throws(() => parseRate('0', 'x'), /not a positive rate/)
})

test('the most specific rule wins; no rule, no limit', () => {
  const r = new LimitRules(['*/*=1K', 'acme/*=2K', '*/web=3K', 'acme/web=4K'], ['*=10M', 'acme=1M'])
  assert.equal(r.forApp('acme', 'web')?.bytesPerSecond, 4096)
  assert.equal(r.forApp('acme', 'api')?.bytesPerSecond, 2048)
  assert.equal(r.forApp('globex', 'web')?.bytesPerSecond, 3072)
  assert.equal(r.forApp('globex', 'api')?.bytesPerSecond, 1024)
  assert.equal(r.forOrg('acme')?.bytesPerSecond, 1048576)
  assert.equal(r.forOrg('globex')?.bytesPerSecond, 10485760)
  assert.equal(new LimitRules(['acme/web=1K'], []).forApp('acme', 'api'), undefined)
  assert.equal(new LimitRules([], []).enabled, false)
})

test('rule syntax is checked by the config schema, naming the key', () => {
  assert.throws(() => loadConfig({ env: {}, overrides: { collector: { tenants: { appLogRateLimits: ['noisy=1K'] } } } }), /collector\.tenants\.appLogRateLimits\.0: each entry is org\/app=bytesPerSecond/)
  assert.deepEqual(loadConfig({ env: { DAYTWO_COLLECTOR_TENANTS_APP_LOG_RATE_LIMITS: '*/*=16K,acme/web=1M' } }).collector.tenants.appLogRateLimits, ['*/*=16K', 'acme/web=1M'])
})

test('token bucket: starts full (burst = limit), refills at the rate, never above the burst', () => {
  const b = new TokenBucket(1000, 1000, 0)
  assert.ok(b.has(1000, 0))
  b.take(1000)
  assert.ok(!b.has(1, 0))
  assert.ok(b.has(500, 500))
  assert.ok(!b.has(501, 500))
  assert.ok(b.isFull(10_000))
  assert.ok(!b.has(1001, 20_000), 'a record larger than the burst never fits')
})

test('decisions: dropped ranges are remembered and merged, admitted offsets are not dropped', () => {
  const d = new StreamDecisions()
  for (const o of [0, 10, 20]) d.admit(o)
  for (const o of [30, 40, 50]) d.drop(o)
  d.admit(60)
  d.drop(70)
  assert.deepEqual(d.dropped, [[30, 50], [70, 70]])
  assert.equal(d.decided, 70)
  assert.ok(d.wasDropped(40) && d.wasDropped(70))
  assert.ok(!d.wasDropped(20) && !d.wasDropped(60) && !d.wasDropped(55))
})

test('org labels: at most N orgs plus "other"; a busier org takes the slot of a quiet one at rerank', () => {
  const evicted: string[] = []
  const l = new OrgLabels(2, (o) => evicted.push(o))
  assert.equal(l.label('a', 10), 'a')
  assert.equal(l.label('b', 10), 'b')
  assert.equal(l.label('c', 1000), OTHER)
  assert.equal(l.label('d', 5), OTHER)
  l.label('a', 500)
  l.rerank()
  assert.deepEqual(evicted, ['b'])
  assert.deepEqual(l.labels.sort(), ['a', 'c'])
  assert.equal(l.label('b', 1), OTHER)
  assert.equal(l.label('c', 1), 'c')
  assert.equal(new OrgLabels(0, () => {}).label('a', 1), OTHER)
})
