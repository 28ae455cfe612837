import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { ExtData, encode } from '@msgpack/msgpack'
import { waitFor } from '../../helpers/daytwo-process.js'
import { metricValue, metrics } from '../../helpers/faults.js'
import { OPERATOR, RawForward, eventTime, sender, startFluentDaytwo, stored } from './fluent-helpers.js'

// Issue 17 item 4: the Fluent forward protocol on the collector, driven by fluent-logger (npm,
// the Fluentd project's Node client) with acknowledgements and the shared-key handshake, and
// by hand for the modes that client does not send. Lines come back byte for byte, at their
// nanosecond, with the identity the docs promise (docs/receivers.md "Fluent forward").

const NOW = BigInt(Date.now()) * 1_000_000n
/** Line i's time: a millisecond apart, with digits below the microsecond (EventTime keeps ns). */
const at = (i: number) => NOW + BigInt(i) * 1_000_000n + 123n

function eventTimeExt (ns: bigint): ExtData {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(Number(ns / 1_000_000_000n), 0)
  b.writeUInt32BE(Number(ns % 1_000_000_000n), 4)
  return new ExtData(0, b)
}

test('Fluent forward: fluent-logger with acks and a shared key; every mode; identity from tags and Kubernetes fields', { timeout: 180_000 }, async (t) => {
  const f = await startFluentDaytwo(t)

  await t.test('Message mode: acknowledged, byte for byte, ns time, identity from a bosh.* tag, level from the record', async () => {
    const s = sender(f.port)
    const lines = ['héllo "quoted" \\ back\tslash  ', 'second line ✓', '{"json":"as text"}']
    for (const [i, line] of lines.entries()) await s.emit('bosh.cf.router.0.gorouter', { log: line, level: i === 1 ? 'warn' : 'debug', extra: { nested: 1 } }, eventTime(at(i)))
    s.end()
    const got = await stored(f.d, 'cf')
    assert.deepEqual(got.map((l) => l.message), lines, 'acknowledged means stored: no waiting needed')
    assert.deepEqual(got.map((l) => l.ts), [0, 1, 2].map((i) => String(at(i))))
    const st = got[0]!.stream
    assert.deepEqual([st.source, st.deployment, st.job, st.index, st.process], ['fluent', 'cf', 'router', '0', 'gorouter'])
    assert.deepEqual(got[1]!.attrs, { level: 'warn', 'extra.nested': '1', severity: 'warn' })
    const q = new URLSearchParams({ query: '{deployment="cf", detected_level="warn"}', start: String(NOW - 1_000_000_000n), end: String(NOW + 10_000_000_000n), limit: '10' })
    const res = await fetch(`${f.d.urls.query}/loki/api/v1/query_range?${q}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    const body = await res.json() as { data: { result: Array<{ values: string[][] }> } }
    assert.deepEqual(body.data.result.flatMap((r) => r.values), [[String(at(1)), lines[1]]], 'through the Loki API too, with the record\'s level')
  })

  await t.test('PackedForward and CompressedPackedForward: Fluent Bit kubernetes fields name the identity, stream the stdio', async () => {
    for (const [mode, ns] of [['PackedForward', 'shop'], ['CompressedPackedForward', 'shopz']] as const) {
      const s = sender(f.port, { eventMode: mode, flushInterval: 10 })
      const k8s = { namespace_name: ns, pod_name: 'cart-7d9f-x2', container_name: 'server', host: 'node-3', labels: { app: 'cart' } }
      await Promise.all([0, 1, 2].map((i) => s.emit('kube.var.log.containers.cart', { log: `${mode} line ${i}`, stream: i === 2 ? 'stderr' : 'stdout', kubernetes: k8s }, eventTime(at(10 + i)))))
      s.end()
      const got = await stored(f.d, ns)
      assert.deepEqual(got.map((l) => [l.message, l.stdio]), [[`${mode} line 0`, 'stdout'], [`${mode} line 1`, 'stdout'], [`${mode} line 2`, 'stderr']])
      const st = got[0]!.stream
      assert.deepEqual([st.source, st.deployment, st.job, st.index, st.process, st.node, st.namespace, st.pod, st.container], ['fluent', ns, 'cart', 'cart-7d9f-x2', 'server', 'node-3', ns, 'cart-7d9f-x2', 'server'])
    }
  })

  await t.test('by hand: Forward mode with integer times, gzip of concatenated members, a record without log is kept as JSON', async () => {
    const c = await RawForward.open(f.port)
    const pong = await c.handshake() as unknown[]
    assert.equal(pong[1], true, `PONG: ${JSON.stringify(pong)}`)
    const sec = Number(NOW / 1_000_000_000n)
    c.send(['plain.app', [[sec, { message: 'forward one' }], [sec + 1, { message: 'forward two' }], [sec + 2, { user: 'ann', n: 2 }]], { chunk: 'c-1' }])
    assert.deepEqual(await c.next(), { ack: 'c-1' })
    const members = Buffer.concat([
      gzipSync(Buffer.concat([encode([eventTimeExt(at(3020)), { log: 'member one' }])])),
      gzipSync(Buffer.concat([encode([[eventTimeExt(at(3021)), {}], { log: 'member two, Fluent Bit 2.1 metadata form' }])]))
    ])
    c.send(['plain.app', members, { chunk: 'c-2', compressed: 'gzip', size: 2 }])
    assert.deepEqual(await c.next(), { ack: 'c-2' })
    c.close()
    const got = await stored(f.d, 'fluent')
    assert.deepEqual(got.map((l) => l.message), ['forward one', 'forward two', '{"user":"ann","n":2}', 'member one', 'member two, Fluent Bit 2.1 metadata form'])
    assert.deepEqual(got.slice(0, 2).map((l) => l.ts), [String(BigInt(sec) * 1_000_000_000n), String(BigInt(sec + 1) * 1_000_000_000n)])
    assert.equal(got[3]!.ts, String(at(3020)))
    assert.deepEqual([got[0]!.stream.deployment, got[0]!.stream.job, got[0]!.stream.path], ['fluent', 'plain.app', 'plain.app'], 'a plain tag is the job of the default deployment')
  })

  await t.test('a re-sent chunk (lost ack) is recognised line by line: nothing stored twice', async () => {
    const before = metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_duplicates_total')
    const s = sender(f.port)
    await s.emit('bosh.cf.router.0.gorouter', { log: 'second line ✓', level: 'warn', extra: { nested: 1 } }, eventTime(at(1)))
    s.end()
    assert.equal(metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_duplicates_total'), before + 1)
    assert.equal((await stored(f.d, 'cf')).length, 3)
  })

  await t.test('a wrong shared key: the handshake fails, nothing is stored, the refusal is counted', async () => {
    const s = sender(f.port, { security: { clientHostname: 'intruder', sharedKey: 'not-the-key' }, ackResponseTimeout: 1000 })
    void s.emit('bosh.intruder.x.0', { log: 'must not land' }).catch(() => {})
    assert.ok(await waitFor(() => s.errors.some((e) => /shared ?key mismatch|Authentication failed/i.test(e.message))), `client errors: ${s.errors.map((e) => e.message).join('; ')}`)
    s.end()
    const c = await RawForward.open(f.port)
    const pong = await c.handshake('another-wrong-key') as unknown[]
    assert.deepEqual(pong.slice(0, 3), ['PONG', false, 'shared key mismatch'])
    await c.untilClosed()
    // Frames without a handshake are refused too.
    const d = await RawForward.open(f.port)
    await d.next()
    d.send(['bosh.intruder.x.0', Number(NOW / 1_000_000_000n), { log: 'no handshake' }, { chunk: 'x' }])
    assert.deepEqual(await d.next(), ['PONG', false, 'expected a PING message first (shared key authentication)', '', ''])
    assert.equal(await d.next(), null, 'closed, no ack')
    assert.deepEqual(await stored(f.d, 'intruder'), [])
    assert.ok(metricValue(await metrics(f.d.urls.collector!), 'daytwo_collector_rejected_requests_total', { reason: 'unauthorized' }) >= 3)
  })
})
