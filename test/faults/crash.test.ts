import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '../helpers/daytwo-process.js'
import { totalStored } from '../helpers/query-api.js'
import { multisetDiff, sleep, storedMessages, usageBytes } from '../helpers/faults.js'
import { OP_TOKEN, RotatingWriter, splitRoles } from './split-roles.js'

// Issue 7: kill -9 the forwarder, the collector, and both, each in the middle of ingesting
// 100 000 lines of BOSH job logs that rotate by rename while they are written. The forwarder
// and the collector run as separate processes. Afterwards every line is stored exactly once
// and the usage report equals the bytes written.

const TOTAL = 100_000

test('kill -9 of the forwarder, the collector and both during 100 000 lines with rotation: every line stored once, usage = bytes', { timeout: 180_000 }, async (t) => {
  const s = await splitRoles(t, { batchMaxLines: 2000 })
  const writers: RotatingWriter[] = []
  for (const [proc, file] of [['app', 'app.log'], ['app', 'app.stderr.log'], ['worker', 'worker.log'], ['worker', 'events.log']] as const) {
    mkdirSync(join(s.boshRoot, proc), { recursive: true })
    writers.push(new RotatingWriter(join(s.boshRoot, proc, file), `${proc}/${file}`))
  }
  t.after(() => { for (const w of writers) w.close() })
  let written = 0
  let chunks = 0
  /** Write `n` lines spread over the files, rotating each file every ~4 000 of its lines. */
  const writeUpTo = async (target: number, pauseMs = 5) => {
    while (written < target) {
      const per = Math.min(250, Math.ceil((target - written) / writers.length))
      for (const w of writers) { w.write(per); written += per }
      if (++chunks % 16 === 0) for (const w of writers) w.rotate()
      await sleep(pauseMs)
    }
  }
  const stored = async () => { try { return await totalStored(s.collector.urls.query!, OP_TOKEN) } catch { return -1 } }

  // 1. kill -9 the forwarder while it ships; write on (and rotate) while it is down.
  await writeUpTo(20_000)
  assert.ok(await waitFor(async () => await stored() > 5_000, 30_000, 20), 'some lines stored before the first kill')
  await writeUpTo(25_000, 0)
  const atKill: number[] = []
  atKill.push(await stored())
  await s.forwarder.kill()
  await writeUpTo(30_000, 0)
  await s.startForwarder()

  // 2. kill -9 the collector while batches are in flight.
  await writeUpTo(45_000)
  assert.ok(await waitFor(async () => await stored() > atKill[0]! + 2000, 30_000, 20), 'the restarted forwarder ships')
  await writeUpTo(50_000, 0) // a backlog in flight at the kill
  atKill.push(await stored())
  await s.collector.kill()
  await writeUpTo(55_000)
  await sleep(300) // the forwarder retries against a closed port meanwhile
  await s.startCollector()

  // 3. kill -9 both.
  await writeUpTo(70_000)
  assert.ok(await waitFor(async () => await stored() > atKill[1]! + 2000, 30_000, 20), 'the forwarder ships to the restarted collector')
  await writeUpTo(75_000, 0)
  atKill.push(await stored())
  await Promise.all([s.forwarder.kill(), s.collector.kill()])
  await writeUpTo(80_000, 0)
  await s.startCollector()
  await s.startForwarder()
  await writeUpTo(TOTAL)

  // Each kill came while lines were written but not yet stored (in flight or unread).
  assert.ok(atKill[0]! < 25_000 && atKill[1]! < 50_000 && atKill[2]! < 75_000, `stored at the kills: ${atKill.join(', ')}`)
  t.diagnostic(`stored when killed: ${atKill.join(', ')} (written 25 000, 50 000, 75 000)`)
  const want = writers.flatMap((w) => w.lines)
  assert.equal(want.length, TOTAL)
  const all = await waitFor(async () => await stored() >= TOTAL, 90_000, 200)
  await sleep(500) // a late duplicate would show now
  const got = await storedMessages(s.collector.urls.query!, OP_TOKEN, s.deployment)
  assert.ok(all, `not everything arrived: ${multisetDiff(got, want)}\nforwarder stderr: ${s.forwarder.stderr().slice(-1500)}`)
  assert.equal(multisetDiff(got, want), '', 'every line stored exactly once')
  const bytes = writers.reduce((n, w) => n + w.bytes, 0)
  assert.deepEqual(await usageBytes(s.collector.urls.query!, OP_TOKEN), { bytes, lines: TOTAL }, 'usage equals the bytes of the lines written')
})
