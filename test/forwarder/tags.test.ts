import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../core/config.js'
import { boshIdentity, tagsForPath, workloadOf } from '../../forwarder/tags.js'

const cfg = loadConfig({ env: {}, overrides: { forwarder: { podLogRoot: '/r/pods', containerLogRoot: '/r/containers', boshLogRoot: '/r/bosh', boshSpecFile: '/nonexistent' } } }).forwarder
const bosh = { deployment: 'cf', job: 'router', index: '2' }

test('workloads and instances from pod names', () => {
  assert.deepEqual(workloadOf('web-7d9f8b6c5-x2x4z'), { job: 'web', index: 'x2x4z' })
  assert.deepEqual(workloadOf('postgres-2'), { job: 'postgres', index: '2' })
  assert.deepEqual(workloadOf('fluent-bit-q8x7k'), { job: 'fluent-bit', index: 'q8x7k' })
  assert.deepEqual(workloadOf('standalone'), { job: 'standalone', index: '0' })
})

test('tags from the three layouts', () => {
  assert.deepEqual(tagsForPath('/r/pods/kube-system_coredns-5d78c9869d-x2k4z_0c1d/coredns/0.log', cfg, bosh), {
    format: 'container', deployment: 'kube-system', job: 'coredns', index: 'x2k4z', process: 'coredns', namespace: 'kube-system', pod: 'coredns-5d78c9869d-x2k4z', container: 'coredns'
  })
  const id = 'a'.repeat(64)
  assert.deepEqual(tagsForPath(`/r/containers/db-0_prod_postgres-${id}.log`, cfg, bosh), {
    format: 'container', deployment: 'prod', job: 'db', index: '0', process: 'postgres', namespace: 'prod', pod: 'db-0', container: 'postgres'
  })
  assert.deepEqual(tagsForPath('/r/bosh/gorouter/access.log', cfg, bosh), { format: 'plain', deployment: 'cf', job: 'router', index: '2', process: 'gorouter' })
  assert.deepEqual(tagsForPath('/r/bosh/gorouter/sub/deep.log', cfg, bosh)?.process, 'gorouter')
  assert.equal(tagsForPath('/elsewhere/x.log', cfg, bosh), null)
  assert.equal(tagsForPath('/r/bosh/top.log', cfg, bosh), null)
})

test('BOSH identity from the agent spec, overridden by config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-spec-'))
  const spec = join(dir, 'spec.json')
  writeFileSync(spec, JSON.stringify({ deployment: 'cf', name: 'diego-cell', index: 3, id: 'uuid' }))
  assert.deepEqual(boshIdentity({ ...cfg, boshSpecFile: spec }, 'node1'), { deployment: 'cf', job: 'diego-cell', index: '3' })
  assert.deepEqual(boshIdentity({ ...cfg, boshSpecFile: spec, job: 'override' }, 'node1'), { deployment: 'cf', job: 'override', index: '3' })
  assert.deepEqual(boshIdentity(cfg, 'node1'), { deployment: 'bosh', job: 'node1', index: '0' })
})
