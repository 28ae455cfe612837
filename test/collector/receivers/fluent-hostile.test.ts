import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode } from '@msgpack/msgpack'
import { metricValue, metrics } from '../../helpers/faults.js'
import { waitFor } from '../../helpers/daytwo-process.js'
import { RawForward, sender, startFluentDaytwo, stored } from './fluent-helpers.js'

// Bad input on the forward port: each is refused with a counted reason and closes its own
// connection only; a good sender keeps being acknowledged meanwhile, and nothing is kept of
// a refused frame.

const sec = () => Math.floor(Date.now() / 1000)

test('Fluent forward: garbage, wrong types, huge frames, slow senders and too many connections are refused and counted, others go on', { timeout: 180_000 }, async (t) => {
  const f = await startFluentDaytwo(t, { maxChunkBytes: 65536, idleTimeoutMs: 1500, maxConnections: 6 })
  const reason = async (r: string) => metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_rejected_requests_total', { reason: r })
  const authed = async () => { const c = await RawForward.open(f.port); assert.equal(((await c.handshake()) as unknown[])[1], true); return c }

  await t.test('a slow-loris sender (a frame a byte at a time) is closed at idleTimeoutMs while another sender is acknowledged', async () => {
    const slow = await authed()
    const frame = encode(['bosh.hostile.slow.0', sec(), { log: 'never complete' }, { chunk: 's' }])
    slow.write(Buffer.from(frame.subarray(0, 5)))
    const trickle = setInterval(() => { if (!slow.closed) slow.write(Buffer.from([0xa1])) }, 200)
    t.after(() => clearInterval(trickle))
    const good = sender(f.port)
    for (let i = 0; i < 3; i++) await good.emit('bosh.hostile.good.0', { log: `good ${i}` })
    good.end()
    await slow.untilClosed()
    clearInterval(trickle)
    assert.equal(await reason('idle_timeout'), 1)
    assert.deepEqual((await stored(f.d, 'hostile')).map((l) => l.message), ['good 0', 'good 1', 'good 2'])
  })

  await t.test('garbage bytes, a frame of the wrong shape and a record of the wrong type', async () => {
    const a = await authed()
    a.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    await a.untilClosed()
    const b = await authed()
    b.send({ not: 'a frame' })
    await b.untilClosed()
    const c = await authed()
    c.send(['bosh.hostile.types.0', [[sec(), 'not a map'], ['yesterday', { log: 'bad time' }], [sec(), { log: 'kept' }]], { chunk: 'k' }])
    assert.deepEqual(await c.next(), { ack: 'k' }, 'bad events dropped, the rest acknowledged')
    c.close()
    const m = await metrics(f.d.urls.collector!)
    assert.ok(metricValue(m, 'daytwo_collector_rejected_requests_total', { reason: 'malformed_batch' }) >= 2)
    assert.equal(metricValue(m, 'daytwo_collector_fluent_dropped_total', { reason: 'malformed_event' }), 2)
    assert.deepEqual((await stored(f.d, 'hostile')).filter((l) => l.stream.job === 'types').map((l) => l.message), ['kept'])
  })

  await t.test('a frame over maxChunkBytes, declared or streamed, and a gzip bomb: refused, nothing kept', async () => {
    const declared = await authed()
    // str32 header claiming 1 GiB, then a few bytes: refused from the header, nothing buffered.
    declared.write(Buffer.concat([Buffer.from([0x94, 0xa3]), Buffer.from('tag'), Buffer.from([0xdb, 0x40, 0, 0, 0]), Buffer.from('xx')]))
    await declared.untilClosed()
    const streamed = await authed()
    const big = encode(['bosh.hostile.big.0', [[sec(), { log: 'x'.repeat(60_000) }], [sec(), { log: 'y'.repeat(60_000) }]], { chunk: 'b' }])
    streamed.write(Buffer.from(big))
    assert.equal(await streamed.next(), null, 'closed without an ack')
    const bomb = await authed()
    const { gzipSync } = await import('node:zlib')
    const inner = Buffer.concat(Array.from({ length: 200 }, () => encode([sec(), { log: 'z'.repeat(1000) }])))
    bomb.send(['bosh.hostile.bomb.0', gzipSync(inner), { chunk: 'z', compressed: 'gzip' }])
    assert.equal(await bomb.next(), null, 'closed without an ack')
    assert.ok(await reason('too_large') >= 3)
    assert.deepEqual((await stored(f.d, 'hostile')).filter((l) => l.stream.job !== 'good' && l.stream.job !== 'types'), [])
  })

  await t.test('connections over maxConnections are closed at once and counted; the ones open go on', async () => {
    const open = await Promise.all(Array.from({ length: 6 }, () => RawForward.open(f.port)))
    const helos = await Promise.all(open.map((c) => c.next())) // each is being served
    const extra = await RawForward.open(f.port)
    await extra.untilClosed()
    assert.equal(await reason('connection_limit'), 1)
    assert.equal(((await open[0]!.handshake(undefined, helos[0])) as unknown[])[1], true, 'an open one still completes its handshake')
    for (const c of open) c.close()
    // The next sender must not race the server's side of these closes: a connection that
    // still counted would put it over the limit, and fluent-logger would wait to reconnect.
    assert.ok(await waitFor(async () => metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_fluent_connections') === 0), 'the closed connections are no longer counted')
  })

  await t.test('the process is still serving: a sender is acknowledged after all that', async () => {
    const s = sender(f.port)
    await s.emit('bosh.hostile.after.0', { log: 'still here' })
    s.end()
    assert.deepEqual((await stored(f.d, 'hostile')).filter((l) => l.stream.job === 'after').map((l) => l.message), ['still here'])
  })
})
