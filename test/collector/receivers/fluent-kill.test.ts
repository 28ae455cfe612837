import { test } from 'node:test'
import assert from 'node:assert/strict'
import { freePort, tempDir, waitFor, type DaytwoProcess } from '../../helpers/daytwo-process.js'
import { multisetDiff, sleep, storedMessages } from '../../helpers/faults.js'
import { OPERATOR, eventTime, sender, startFluentDaytwo } from './fluent-helpers.js'

// kill -9 of the collector while fluent-logger streams PackedForward chunks with acks. The
// sender re-sends a batch until every line of it is acknowledged (what Fluent Bit and Fluentd
// do with chunks whose ack did not come); afterwards every line is stored, and exactly once:
// a re-sent line has the time and text it had, so the store knows it (docs/receivers.md).

const BATCHES = 30
const PER_BATCH = 100

test('Fluent forward: kill -9 of the collector mid-stream loses nothing and doubles nothing', { timeout: 240_000 }, async (t) => {
  const tmp = tempDir('daytwo-fluent-kill-')
  t.after(() => tmp.cleanup())
  const port = await freePort()
  const start = async () => (await startFluentDaytwo(t, {}, 'collector,query', port, tmp.path)).d
  let d: DaytwoProcess = await start()
  const s = sender(port, { eventMode: 'PackedForward', flushInterval: 20, ackResponseTimeout: 1500 })
  const base = BigInt(Date.now()) * 1_000_000n
  const want: string[] = []
  let acked = 0
  let retries = 0
  const sending = (async () => {
    for (let b = 0; b < BATCHES; b++) {
      const lines = Array.from({ length: PER_BATCH }, (_, i) => ({ n: b * PER_BATCH + i, text: `batch ${b} line ${i} ${'ü'.repeat(i % 5)}` }))
      want.push(...lines.map((l) => l.text))
      for (;;) {
        try {
          // A millisecond apart, each line its own time.
          await Promise.all(lines.map((l) => s.emit('bosh.killed.app.0', { log: l.text }, eventTime(base + BigInt(l.n) * 1_000_000n))))
          break
        } catch {
          retries++
          await sleep(200)
        }
      }
      acked++
    }
  })()
  assert.ok(await waitFor(() => acked >= 8, 60_000, 20), 'batches acknowledged before the kill')
  await d.kill()
  const atKill = acked
  await sleep(500)
  d = await start()
  await sending
  s.end()
  t.diagnostic(`acknowledged at the kill: ${atKill} of ${BATCHES} batches; batches re-sent: ${retries}`)
  assert.ok(atKill < BATCHES, 'the kill came mid-stream')
  const got = await storedMessages(d.urls.query!, OPERATOR, 'killed')
  assert.equal(multisetDiff(got, want), '', 'every line stored exactly once')
})
