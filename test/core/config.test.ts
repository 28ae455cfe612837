import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configKeys, configReferenceMarkdown, envName, loadConfig } from '../../core/config.js'
import { repoRoot } from '../helpers/repo.js'

test('defaults load with no file and no environment', () => {
  const c = loadConfig({ env: {} })
  assert.equal(c.forwarder.port, 9601)
  assert.equal(c.collector.port, 9602)
  assert.equal(c.store.kind, 'embedded')
  assert.equal(c.forwarder.maxLineBytes, 262144)
})

test('environment variables are named after the key and win over the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-cfg-'))
  const file = join(dir, 'c.json')
  writeFileSync(file, JSON.stringify({ forwarder: { port: 1000, collectorUrl: 'http://c:1' }, collector: { tokens: ['a'] } }))
  const c = loadConfig({ file, env: { DAYTWO_FORWARDER_PORT: '2000', DAYTWO_COLLECTOR_TOKENS: 'x, y,,z', DAYTWO_STORE_KIND: 'elasticsearch' } })
  assert.equal(c.forwarder.port, 2000)
  assert.equal(c.forwarder.collectorUrl, 'http://c:1')
  assert.deepEqual(c.collector.tokens, ['x', 'y', 'z'])
  assert.equal(c.store.kind, 'elasticsearch')
  assert.equal(envName(['forwarder', 'collectorUrl']), 'DAYTWO_FORWARDER_COLLECTOR_URL')
})

test('unknown keys, unknown variables and wrong types are refused by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daytwo-cfg-'))
  const file = join(dir, 'c.json')
  writeFileSync(file, JSON.stringify({ forwarder: { prot: 1 } }))
  assert.throws(() => loadConfig({ file, env: {} }), /unknown key forwarder\.prot/)
  assert.throws(() => loadConfig({ env: { DAYTWO_FORWARDER_PROT: '1' } }), /unknown environment variable DAYTWO_FORWARDER_PROT/)
  assert.throws(() => loadConfig({ env: { DAYTWO_FORWARDER_PORT: 'eighty' } }), /DAYTWO_FORWARDER_PORT="eighty": expected a number/)
  assert.throws(() => loadConfig({ env: { DAYTWO_STORE_KIND: 'mysql' } }), /store\.kind/)
  writeFileSync(file, '{ not json')
  assert.throws(() => loadConfig({ file, env: {} }), /is not valid JSON/)
  assert.throws(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read config file/)
})

test('every key has a description and an environment variable', () => {
  for (const k of configKeys()) {
    assert.ok(k.description.length > 10, `${k.path.join('.')} needs a description`)
    assert.match(k.env, /^DAYTWO_[A-Z0-9_]+$/)
  }
})

test('the configuration table in docs/configuration.md is the generated one', () => {
  const readme = readFileSync(join(repoRoot(), 'docs', 'configuration.md'), 'utf8')
  const m = /<!-- config-reference -->\n([\s\S]*?)\n<!-- \/config-reference -->/.exec(readme)
  assert.ok(m, 'docs/configuration.md has the config-reference markers')
  assert.equal(m[1], configReferenceMarkdown(), 'docs/configuration.md config table is stale: run `npm run docs:config`')
})

test('collector.tokens: plain tokens as before, entries with orgIds (JSON in the environment), bad org ids refused by key', () => {
  const c = loadConfig({ env: { DAYTWO_COLLECTOR_TOKENS: '["plain", {"token":"scoped","orgIds":["org-a","*"]}]' } })
  assert.deepEqual(c.collector.tokens, ['plain', { token: 'scoped', orgIds: ['org-a', '*'] }])
  assert.throws(() => loadConfig({ env: { DAYTWO_COLLECTOR_TOKENS: '[{"token":"t","orgIds":["a|b"]}]' } }), /collector\.tokens\.0\.orgIds\.0: an org id is at most 150/)
  assert.throws(() => loadConfig({ env: { DAYTWO_COLLECTOR_TOKENS: '[{"token":"t","orgIds":[]}]' } }), /collector\.tokens\.0\.orgIds/)
})
