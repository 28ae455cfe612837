import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FleetExposition } from '../../collector/fleet/fleet-exposition.js'
import { FleetState } from '../../collector/fleet/fleet-state.js'
import { fleetSchema } from '../../core/config/fleet.js'
import { silentLogger } from '../../core/logger.js'
import { checkReport, type MetricsReport } from '../../core/metric-samples.js'

function setup (over: Record<string, number> = {}) {
  const drops: Record<string, number> = {}
  const cfg = fleetSchema.parse({ heartbeatTimeoutMs: 1000, silentAfterMs: 5000, graceMs: 10000, maxSeriesPerJob: 100, ...over })
  const state = new FleetState(cfg, silentLogger, (reason, n) => { drops[reason] = (drops[reason] ?? 0) + n })
  return { state, drops, expo: new FleetExposition(state) }
}

const self = { deployment: 'cf', job: 'diego', index: '0' }

function report (samples: MetricsReport['samples'], instances: MetricsReport['instances'] = [], startedMs = 1): MetricsReport {
  return checkReport(JSON.parse(JSON.stringify({ v: 1, node: 'n1', self, startedMs, instances, samples })))
}

test('checkReport refuses malformed frames with DAYTWO_ERR_BAD_REPORT', () => {
  for (const bad of [null, [], { v: 2 }, { v: 1, node: '' }, { v: 1, node: 'n', self: { deployment: 'a' } }, { v: 1, node: 'n', self, startedMs: 1, instances: [{ deployment: 'a', job: 'b' }], samples: {} }]) {
    assert.throws(() => checkReport(bad), { code: 'DAYTWO_ERR_BAD_REPORT' }, JSON.stringify(bad))
  }
})

test('samples are grouped per instance and node; unknown families and bad samples are dropped and counted', async () => {
  const { state, drops, expo } = setup()
  const r = state.apply(report({
    daytwo_log_lines_total: [[['cf', 'router', '0', 'gorouter', 'stdout'], 7], [['cf', 'router', '0'], 1], [['cf', 'router', '0', 'x', 'stdout'], -1]],
    ...({ not_a_family: [[['cf', 'router', '0'], 1]] } as MetricsReport['samples'])
  }, [{ deployment: 'cf', job: 'router', index: '0', lastLineAgeMs: 0 }]), 0)
  assert.deepEqual(r, { accepted: 1, dropped: 3 })
  assert.deepEqual(drops, { unknown_metric: 1, malformed_sample: 2 })
  const text = await expo.render(0)
  assert.match(text, /^daytwo_log_lines_total\{deployment="cf",job="router",index="0",node="n1",process="gorouter",stream="stdout"\} 7$/m)
  assert.match(text, /^daytwo_instance_up\{deployment="cf",job="router",index="0",node="n1"\} 1$/m)
  assert.match(text, /^daytwo_instance_up\{deployment="cf",job="diego",index="0",node="n1"\} 1$/m)
})

test('up follows heartbeats, silent follows the last line, and series leave after the grace period', async () => {
  const { state, expo } = setup()
  state.apply(report({}, [{ deployment: 'cf', job: 'router', index: '0', lastLineAgeMs: 4000 }]), 0)
  let text = await expo.render(500)
  assert.match(text, /^daytwo_instance_silent\{deployment="cf",job="router",index="0",node="n1"\} 0$/m)
  text = await expo.render(1500) // no report for 1.5 s > heartbeatTimeoutMs; last line 5.5 s ago
  assert.match(text, /^daytwo_instance_up\{deployment="cf",job="router",index="0",node="n1"\} 0$/m)
  assert.match(text, /^daytwo_instance_silent\{deployment="cf",job="router",index="0",node="n1"\} 1$/m)
  assert.match(text, /^daytwo_fleet_events_total\{deployment="cf",job="router",index="0",node="n1",event="instance_down"\} 1$/m)
  text = await expo.render(10001)
  assert.doesNotMatch(text, /job="router"/)
  assert.equal(state.instances.size, 0)
  assert.equal(state.seriesCount, 0)
})

test('the series limit per job is enforced across instances and counted', () => {
  const { state, drops } = setup({ maxSeriesPerJob: 3 })
  const lines = (index: string, n: number) => Array.from({ length: n }, (_, i) => [['cf', 'router', index, `p${i}`, 'stdout'], 1] as [string[], number])
  assert.deepEqual(state.apply(report({ daytwo_log_lines_total: lines('0', 2) }), 0), { accepted: 2, dropped: 0 })
  assert.deepEqual(state.apply(report({ daytwo_log_lines_total: lines('1', 2) }), 0), { accepted: 1, dropped: 1 })
  assert.equal(drops.series_limit, 1)
  // Another job has its own budget.
  assert.deepEqual(state.apply(report({ daytwo_log_bytes_total: [[['cf', 'api', '0', 'p', 'stdout'], 1]] }), 0).dropped, 0)
})

test('increases of restart and rotation counters become events', async () => {
  const { state, expo } = setup()
  const restarts = (v: number) => ({ daytwo_job_process_restarts_total: [[['cf', 'diego', '0', 'rep', 'rep'], v]] as Array<[string[], number]> })
  state.apply(report(restarts(0)), 0)
  state.apply(report(restarts(2)), 100)
  state.apply(report(restarts(1), [], 2), 200) // the forwarder restarted: its counters started over
  const text = await expo.render(300)
  assert.match(text, /^daytwo_fleet_events_total\{deployment="cf",job="diego",index="0",node="n1",event="process_restart"\} 3$/m)
})
