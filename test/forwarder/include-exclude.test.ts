import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { decodeGroup } from '../../core/wire.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { operatorToken } from '../helpers/query-api.js'

test('include and exclude globs choose the files; compressed rotations are never read', async (t) => {
  const tmp = tempDir('daytwo-globs-')
  const bosh = join(tmp.path, 'bosh')
  for (const d of ['api', 'worker', 'noisy']) mkdirSync(join(bosh, d), { recursive: true })
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: {
      podLogRoot: '', containerLogRoot: '', boshLogRoot: bosh, boshSpecFile: join(tmp.path, 'none'), deployment: 'g', job: 'vm', index: '0', port: 0, scanIntervalMs: 100, pollIntervalMs: 20,
      include: [`${bosh}/api/**`, `${bosh}/worker/**`, `${bosh}/noisy/**`],
      exclude: ['**/noisy/**', '**/*.debug.log']
    },
    collector: { port: 0 },
    query: { port: 0 }
  }, tmp.path)
  t.after(async () => { await d.stop(); tmp.cleanup() })
  appendFileSync(join(bosh, 'api', 'api.log'), 'api line\n')
  appendFileSync(join(bosh, 'api', 'api.debug.log'), 'debug line\n')
  appendFileSync(join(bosh, 'worker', 'worker.log'), 'worker line\n')
  appendFileSync(join(bosh, 'worker', 'worker.log.2.gz'), 'not really gzip\n')
  appendFileSync(join(bosh, 'noisy', 'noisy.log'), 'noisy line\n')
  mkdirSync(join(tmp.path, 'outside'), { recursive: true })
  const token = operatorToken(join(tmp.path, 'data'))
  let got: string[] = []
  await waitFor(async () => {
    const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=g`, { headers: { authorization: `Bearer ${token}` } })
    if (!res.ok) return false
    got = (await res.text()).split('\n').filter(Boolean).flatMap((l) => decodeGroup(l).entries.map((e) => e[2]))
    return got.length >= 2
  }, 10000)
  await new Promise((resolve) => setTimeout(resolve, 500)) // time enough for a wrong file to show up
  const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=g`, { headers: { authorization: `Bearer ${token}` } })
  got = (await res.text()).split('\n').filter(Boolean).flatMap((l) => decodeGroup(l).entries.map((e) => e[2]))
  assert.deepEqual(got.sort(), ['api line', 'worker line'])
})
