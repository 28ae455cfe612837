import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Entry } from '../../core/record.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { startIngestSink } from '../helpers/ingest-sink.js'

// A partial container line that nothing finishes — a CRI `P` line with no `F` after it (the
// container died), a Docker `log` without its trailing newline — is shipped as it is once
// forwarder.partialFlushMs has passed, and counted; a line written later is a record of its
// own, with an offset above the flushed one (the store would drop a lower one as a retry).

test('partial lines that nothing finishes are flushed after partialFlushMs, counted, with increasing offsets', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('daytwo-partial-')
  t.after(() => tmp.cleanup())
  const sink = await startIngestSink(t)
  /** Records by the container's directory name (cri, docker). */
  const byPath = (): Record<string, Entry[]> => {
    const out: Record<string, Entry[]> = {}
    for (const g of sink.batches) (out[g.stream.path.replace(/.*\/(\w+)\/0\.log$/, '$1')] ??= []).push(...g.entries)
    return out
  }

  const pods = join(tmp.path, 'pods')
  const cri = join(pods, 'shop_web-abcde_0000-1111', 'cri', '0.log')
  const docker = join(pods, 'shop_api-fghij_2222-3333', 'docker', '0.log')
  mkdirSync(join(cri, '..'), { recursive: true })
  mkdirSync(join(docker, '..'), { recursive: true })
  writeFileSync(cri, [
    '2026-11-23T10:00:00.1Z stdout F first',
    '2026-11-23T10:00:00.2Z stdout P joined ',
    '2026-11-23T10:00:00.3Z stdout F line',
    '2026-11-23T10:00:00.4Z stdout P the container died here, ',
    '2026-11-23T10:00:00.5Z stderr F an stderr line after the partial',
    '2026-11-23T10:00:00.6Z stdout P and here'
  ].join('\n') + '\n')
  writeFileSync(docker, [
    JSON.stringify({ log: 'whole\n', stream: 'stdout', time: '2026-11-23T10:00:01.000000001Z' }),
    JSON.stringify({ log: 'no newline at the end', stream: 'stdout', time: '2026-11-23T10:00:01.000000002Z' })
  ].join('\n') + '\n')

  const d = await startDaytwo('forwarder', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: pods, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(tmp.path, 'none'), port: 0, collectorUrl: sink.url, token: 't', partialFlushMs: 300, pollIntervalMs: 50 }
  }, tmp.path)
  t.after(() => d.stop())

  const messages = (k: string) => (byPath()[k] ?? []).map((e) => e[2])
  assert.ok(await waitFor(() => messages('cri').length >= 4 && messages('docker').length >= 2, 20000), JSON.stringify(byPath()) + d.stderr())
  assert.deepEqual(messages('cri'), ['first', 'joined line', 'an stderr line after the partial', 'the container died here, and here'])
  assert.equal(byPath().cri![3]![0], '1795428000400000000', 'a flushed partial keeps its first part\'s time')
  assert.deepEqual(messages('docker'), ['whole', 'no newline at the end'])
  assert.equal(byPath().docker![1]![0], '1795428001000000002')

  // The container was not dead after all: its next lines are records of their own.
  appendFileSync(cri, '2026-11-23T10:00:01.1Z stdout F later\n2026-11-23T10:00:01.2Z stdout P pending again\n')
  assert.ok(await waitFor(() => messages('cri').length >= 6, 20000), JSON.stringify(byPath()))
  assert.deepEqual(messages('cri').slice(4), ['later', 'pending again'])
  for (const k of ['cri', 'docker']) {
    const offsets = byPath()[k]!.map((e) => e[1])
    for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i]! > offsets[i - 1]!, `${k}: offsets increase: ${offsets.join(',')}`)
  }
  const metrics = (await (await fetch(`${d.urls.forwarder}/metrics`)).text()).split('\n').filter((l) => l.startsWith('daytwo_forwarder_partial')).join('\n')
  assert.match(metrics, /daytwo_forwarder_partial_lines_flushed_total\{format="cri",role="forwarder"\} 2\b/)
  assert.match(metrics, /daytwo_forwarder_partial_lines_flushed_total\{format="docker",role="forwarder"\} 1\b/)
})
