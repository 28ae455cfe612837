import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { extract, runCli } from '../helpers/bundle.js'
import { append, corpusFiles, e2eConfig, expected } from '../helpers/corpus.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { operatorToken, totalStored } from '../helpers/query-api.js'

// kill -9 in the middle of a stream, write on while it is down, start again:
// every line is stored exactly once (checkpoints only move after the collector's ack; the
// store's per-stream high-water mark makes the re-sent tail a no-op).

test('SIGKILL mid-stream loses nothing and doubles nothing', async (t) => {
  const tmp = tempDir('daytwo-crash-')
  t.after(() => tmp.cleanup())
  const files = corpusFiles(3000)
  const cfg = e2eConfig(tmp.path)
  const dataDir = join(tmp.path, 'data')
  let written = 0
  const writeSome = (n: number) => {
    const to = Math.min(written + n, 3000)
    for (const f of files) append(tmp.path, f, written, to)
    written = to
  }

  let d = await startDaytwo('all', cfg, tmp.path)
  t.after(async () => { await d.kill() })
  const token = operatorToken(dataDir)
  // Write steadily; kill once part of it is stored, while lines are still in flight.
  while (written < 1200) { writeSome(60); await new Promise((resolve) => setTimeout(resolve, 10)) }
  await waitFor(async () => await totalStored(d.urls.query!, token) > 2000, 20000, 20)
  writeSome(300)
  await d.kill()
  const atKill = written
  writeSome(800) // while nobody reads
  d = await startDaytwo('all', cfg, tmp.path)
  while (written < 3000) { writeSome(100); await new Promise((resolve) => setTimeout(resolve, 10)) }
  const all = files.length * 3000
  const ok = await waitFor(async () => await totalStored(d.urls.query!, token) >= all, 60000, 200)
  assert.ok(ok, `stored ${await totalStored(d.urls.query!, token)} of ${all} (killed after writing ${atKill} lines per file)\n${d.stderr()}`)
  assert.equal(await totalStored(d.urls.query!, token), all, 'no line stored twice')

  const env = { DAYTWO_QUERY_URL: d.urls.query, DAYTWO_TOKEN: token }
  for (const target of ['shop/web', 'shop/db', 'kube-system/dns', 'cf/router']) {
    const r = runCli(['fetch', target, '--dir', join(tmp.path, 'out')], env)
    assert.equal(r.status, 0, r.stderr)
    const got = extract(r.stdout.trim(), join(tmp.path, 'x', target))
    for (const f of files.filter((x) => `${x.deployment}/${x.job}` === target)) {
      assert.ok(got.get(f.bundlePath)?.equals(Buffer.from(expected(f))), `${f.bundlePath} differs from what was written`)
    }
  }
  // The collector saw the re-sent tail as duplicates, not as new lines.
  const metrics = await (await fetch(`${d.urls.collector}/metrics`)).text()
  const stored = Number(/^daytwo_collector_records_stored_total\S* (\d+)/m.exec(metrics)?.[1])
  assert.ok(stored > 0 && stored < all, `the restarted collector stored only what the first run had not (${stored})`)
})
