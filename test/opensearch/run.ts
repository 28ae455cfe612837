import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/repo.js'
import { startOpenSearch } from './node.js'

// `npm run test:opensearch`: one OpenSearch node for every test file of the OpenSearch suites
// (dist/test/opensearch-live/), passed to them as OPENSEARCH_URL, stopped after.

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
  const files = testFiles(join(repoRoot(), 'dist', 'test', 'opensearch-live'))
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, OPENSEARCH_URL: node.url }
  })
  code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)))
} finally {
  await node.stop()
}
process.exit(code)
