import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/repo.js'
import { startOpenSearch } from './node.js'

// `npm run test:opensearch`: one OpenSearch node for the OpenSearch suites, passed to them as
// OPENSEARCH_URL, stopped after: the store's live suite (dist/test/opensearch-live/), then the
// Loki API suites against `logs serve all` with store.kind opensearch (TEST_STORE_KIND makes
// test/helpers/daytwo-process.ts give each daytwo indices of its own).

/** The suites that run on both stores. */
const BOTH_STORES = ['query/loki/grafana-api.test.js', 'query/loki/labels-and-pipeline.test.js', 'query/usage.test.js', 'query/fetch.test.js']

function testFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...testFiles(p))
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

const node = await startOpenSearch()
process.stdout.write(`OpenSearch at ${node.url}\n`)
let code = 1
try {
  const dist = join(repoRoot(), 'dist', 'test')
  // DAYTWO_OPENSEARCH_ONLY=query/fetch.test.js,… runs only those (paths below dist/test), for work on one suite.
  const only = process.env.DAYTWO_OPENSEARCH_ONLY
  const files = only ? only.split(',').map((f) => join(dist, f)) : [...testFiles(join(dist, 'opensearch-live')), ...BOTH_STORES.map((f) => join(dist, f))]
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, OPENSEARCH_URL: node.url, TEST_STORE_KIND: 'opensearch' }
  })
  code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
} finally {
  await node.stop()
}
process.exit(code)
