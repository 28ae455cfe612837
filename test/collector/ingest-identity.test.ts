import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { FRAMES, encodeFrames } from '../../core/frames.js'
import type { StreamBatch, StreamTags } from '../../core/record.js'
import { decodeGroup, encodeBatch, NDJSON } from '../../core/wire.js'
import { freePort, startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { metricValue, metrics } from '../helpers/faults.js'

// Issue 14, item 4: forwarders and syslog senders are not trusted with tenancy or identity.
// Two forwarder tokens post to a real `serve all` over HTTP (NDJSON and gzipped frames, as the
// forwarder sends them); tenants read back through the query API with their own tokens; a
// syslog sender speaks over raw TCP and UDP. Each attack from the issue, then what must still
// work (trusted deployments, retries).

const A = 'forwarder-a-token'
const B = 'forwarder-b-token'
const OPERATOR = 'identity-operator'
const ACME = 'acme-tenant-token'
const EVIL = 'evil-tenant-token'
const NOW_NS = BigInt(Date.now()) * 1_000_000n
const ts = (i: number) => String(NOW_NS + BigInt(i))

function tags (id: string, deployment: string, extra: Partial<StreamTags> = {}): StreamTags {
  return { id, source: 'file', node: 'node-1', deployment, job: 'web', index: '0', process: 'app', path: '/var/log/app.log', ...extra }
}

async function post (d: DaytwoProcess, token: string, batches: StreamBatch[], as: 'ndjson' | 'frames' = 'ndjson'): Promise<{ status: number, body: { stored?: number, duplicates?: number } }> {
  const body = as === 'ndjson' ? Buffer.from(encodeBatch(batches)) : gzipSync(encodeFrames(batches))
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': as === 'ndjson' ? NDJSON : FRAMES }
  if (as === 'frames') headers['content-encoding'] = 'gzip'
  const res = await fetch(`${d.urls.collector}/api/v1/ingest`, { method: 'POST', headers, body })
  return { status: res.status, body: await res.json() as { stored?: number } }
}

/** What a token reads of a deployment: each line with its stream's tags. */
async function read (d: DaytwoProcess, token: string, deployment: string): Promise<Array<{ message: string, stream: StreamTags, offset: number }>> {
  const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=${encodeURIComponent(deployment)}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status === 404 || res.status === 403) return []
  const text = await res.text()
  assert.equal(res.status, 200, text)
  const out: Array<{ message: string, stream: StreamTags, offset: number }> = []
  for (const l of text.split('\n')) if (l) { const g = decodeGroup(l); for (const e of g.entries) out.push({ message: e[2], stream: g.stream, offset: e[1] }) }
  return out
}

async function usageOf (d: DaytwoProcess, token: string): Promise<Array<{ org: string, app?: string, lines: number }>> {
  const res = await fetch(`${d.urls.query}/api/v1/usage?from=0&by=app`, { headers: { authorization: `Bearer ${token}` } })
  const text = await res.text()
  assert.equal(res.status, 200, text)
  return (JSON.parse(text) as { rows: Array<{ org: string, app?: string, lines: number }> }).rows
}

async function start (t: { after: (fn: () => unknown) => void }, extra: { syslog?: Record<string, unknown> } = {}): Promise<{ d: DaytwoProcess, tcpPort: number, udpPort: number }> {
  const tmp = tempDir('daytwo-identity-')
  const [tcpPort, udpPort] = [await freePort(), await freePort()]
  const mappingFile = join(tmp.path, 'tenants.json')
  writeFileSync(mappingFile, JSON.stringify({ rules: [{ match: { deployment: 'acme-*' }, org: 'acme', space: 'prod' }, { match: { deployment: 'evil-*' }, org: 'evil', space: 'x' }] }))
  const d = await startDaytwo('all', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'error',
    forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0, syslog: { tcpPort, udpPort, ...extra.syslog } },
    collector: { port: 0, tokens: [A, B], maxFutureSkewMs: 600_000, tenants: { mappingFile, trustForwarderTenants: ['partner-*'] } },
    query: { port: 0, tokens: [OPERATOR], tenantTokens: [`acme=${ACME}`, `evil=${EVIL}`] }
  }, tmp.path)
  t.after(async () => { await d.kill(); tmp.cleanup() })
  return { d, tcpPort, udpPort }
}

test('forwarders cannot choose tenants, take over other streams or poison offsets and times', async (t) => {
  const { d } = await start(t)

  await t.test('a forwarder naming org acme on its own deployment: acme neither reads nor pays for it', async () => {
    const claim = { stream: tags('claim-1', 'evil-dep', { org: 'acme', space: 'prod', app: 'billing' }), entries: [[ts(0), 0, 'planted in acme', 'stdout']] } as StreamBatch
    const bare = { stream: tags('claim-2', 'plain-dep', { org: 'acme', app: 'billing' }), entries: [[ts(1), 0, 'unmapped, claims acme', 'stdout']] } as StreamBatch
    assert.equal((await post(d, B, [claim, bare], 'frames')).status, 200)
    assert.ok(await waitFor(async () => (await read(d, OPERATOR, 'evil-dep')).length === 1))
    assert.deepEqual(await read(d, ACME, 'evil-dep'), [], 'the lines are not in acme\'s logs')
    assert.deepEqual(await read(d, ACME, 'plain-dep'), [], 'an unmapped deployment gets no tenant from its forwarder')
    const [evil] = await read(d, EVIL, 'evil-dep')
    assert.equal(evil?.message, 'planted in acme', 'the mapping decides: the org of the deployment')
    assert.equal(evil.stream.org, 'evil')
    assert.ok(!(await usageOf(d, ACME)).some((r) => r.app === 'billing'), 'acme is not billed for them')
    assert.equal(metricValue(await metrics(d.urls.collector!), 'daytwo_collector_untrusted_tenant_claims_total'), 2)
  })

  await t.test('a deployment whose forwarders are trusted keeps the tenant they name', async () => {
    const s = { stream: tags('partner-1', 'partner-eu', { org: 'acme', space: 'partners', app: 'feed' }), entries: [[ts(2), 0, 'partner line', 'stdout']] } as StreamBatch
    assert.equal((await post(d, A, [s])).status, 200)
    assert.ok(await waitFor(async () => (await read(d, ACME, 'partner-eu')).length === 1))
    const [l] = await read(d, ACME, 'partner-eu')
    assert.deepEqual([l!.stream.org, l!.stream.space, l!.stream.app], ['acme', 'partners', 'feed'])
  })

  await t.test('another token re-sending acme\'s stream id with other tags does not relabel acme\'s lines', async () => {
    const id = 'shared-looking-id'
    const acmeLines = { stream: tags(id, 'acme-dep'), entries: [[ts(10), 0, 'acme secret 1', 'stdout'], [ts(11), 10, 'acme secret 2', 'stdout']] } as StreamBatch
    assert.equal((await post(d, A, [acmeLines])).status, 200)
    assert.ok(await waitFor(async () => (await read(d, ACME, 'acme-dep')).length === 2))
    // The attacker knows the id the forwarder sent, and the id the query service shows.
    const shown = (await read(d, OPERATOR, 'acme-dep'))[0]!.stream.id
    for (const claimed of [id, shown]) {
      const relabel = { stream: tags(claimed, 'evil-dep', { job: 'stolen' }), entries: [[ts(12), 20, `attacker via ${claimed === id ? 'sent' : 'shown'} id`, 'stdout'], [ts(13), 2 ** 53 - 2, 'poison', 'stdout']] } as StreamBatch
      assert.equal((await post(d, B, [relabel], 'frames')).status, 200)
    }
    assert.ok(await waitFor(async () => (await read(d, OPERATOR, 'evil-dep')).filter((l) => l.stream.job === 'stolen').length === 2))
    const acme = await read(d, ACME, 'acme-dep')
    assert.deepEqual(acme.map((l) => l.message).sort(), ['acme secret 1', 'acme secret 2'], 'acme\'s lines stay acme\'s, under their own tags')
    assert.ok(acme.every((l) => l.stream.deployment === 'acme-dep' && l.stream.job === 'web' && l.stream.org === 'acme'))
    assert.ok(!(await read(d, EVIL, 'acme-dep')).length, 'evil reads nothing of acme')
    assert.ok(!(await read(d, EVIL, 'evil-dep')).some((l) => l.message.startsWith('acme')), 'evil reads nothing of acme under its own deployment')
    // The first forwarder's next real line is stored, not taken for a duplicate.
    const next = { stream: tags(id, 'acme-dep'), entries: [[ts(14), 30, 'acme after the attack', 'stdout']] } as StreamBatch
    assert.equal((await post(d, A, [next])).body.stored, 1)
  })

  await t.test('an offset at 2^50 or above and a time far ahead or before 1970 are dropped and counted; the rest is stored', async () => {
    const before = await metrics(d.urls.collector!)
    const g = {
      stream: tags('ranges', 'acme-ranges'),
      entries: [[ts(20), 5, 'in range', 'stdout'], [String(NOW_NS + 3_600_000_000_000n), 60, 'an hour ahead', 'stdout'], ['-5000000000', 70, 'before 1970', 'stdout'],
        [ts(23), 80, 'in range too', 'stdout'], [ts(21), 2 ** 50, 'offset 2^50', 'stdout'], [ts(22), 2 ** 53 - 1, 'offset 2^53-1', 'stdout']]
    } as StreamBatch
    for (const as of ['ndjson', 'frames'] as const) {
      const id = `ranges-${as}`
      const r = await post(d, A, [{ ...g, stream: { ...g.stream, id } }], as)
      assert.equal(r.status, 200)
      assert.equal(r.body.stored, 2, as)
    }
    const after = await metrics(d.urls.collector!)
    const delta = (reason: string) => metricValue(after, 'daytwo_collector_dropped_total', { reason }) - metricValue(before, 'daytwo_collector_dropped_total', { reason })
    assert.equal(delta('offset_out_of_range'), 4)
    assert.equal(delta('timestamp_out_of_range'), 4)
    const stored = await read(d, OPERATOR, 'acme-ranges')
    assert.deepEqual(stored.map((l) => l.message).sort(), ['in range', 'in range', 'in range too', 'in range too'])
    // The stream goes on after the refused offsets.
    assert.equal((await post(d, A, [{ stream: tags('ranges-ndjson', 'acme-ranges'), entries: [[ts(24), 90, 'later', 'stdout']] }])).body.stored, 1)
  })

  await t.test('a retry by the same forwarder maps to the same records: stored once', async () => {
    const g = { stream: tags('retry-1', 'acme-retry'), entries: [[ts(30), 0, 'once', 'stdout'], [ts(31), 5, 'twice?', 'stdout']] } as StreamBatch
    assert.equal((await post(d, A, [g], 'frames')).body.stored, 2)
    const again = await post(d, A, [g], 'frames')
    assert.deepEqual([again.body.stored, again.body.duplicates], [0, 2])
    assert.equal((await read(d, OPERATOR, 'acme-retry')).length, 2)
  })
})

async function tcpSend (port: number, frames: string[]): Promise<void> {
  const s = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  s.end(frames.join(''))
  await new Promise((resolve) => s.once('close', resolve))
}

async function udpSend (port: number, frames: string[]): Promise<void> {
  const u = createSocket('udp4')
  for (const f of frames) await new Promise<void>((resolve) => u.send(Buffer.from(f), port, '127.0.0.1', () => resolve()))
  u.close()
}

test('syslog structured-data identity counts only from trusted senders', async (t) => {
  // TCP senders are trusted; UDP ones (loopback included) are not.
  const { d, tcpPort, udpPort } = await start(t, { syslog: { identitySenders: ['tcp'] } })
  const frame = (i: number) => `<14>1 2026-12-02T05:00:0${i}Z sender-host app 77 - [daytwo@47450 deployment="acme-dep" job="api" index="0" process="api"][instance@47450 deployment="acme-dep" group="api" id="0"] claim ${i}\n`
  await udpSend(udpPort, [frame(1), frame(2)])
  await tcpSend(tcpPort, [frame(3)])
  assert.ok(await waitFor(async () => (await read(d, OPERATOR, 'syslog')).length === 2 && (await read(d, OPERATOR, 'acme-dep')).length === 1, 20_000), 'every message stored')
  const acme = await read(d, ACME, 'acme-dep')
  assert.deepEqual(acme.map((l) => l.message), ['claim 3'], 'the trusted sender\'s identity holds, so acme reads it')
  const ignored = await read(d, OPERATOR, 'syslog')
  assert.deepEqual(ignored.map((l) => l.message).sort(), ['claim 1', 'claim 2'])
  for (const l of ignored) assert.deepEqual([l.stream.deployment, l.stream.job, l.stream.index, l.stream.process], ['syslog', 'app', 'sender-host', '77'], 'the header\'s identity, not the claimed one')
  assert.deepEqual(await read(d, ACME, 'syslog'), [])
  assert.equal(metricValue(await metrics(d.urls.forwarder!), 'daytwo_forwarder_lines_altered_total', { reason: 'syslog_untrusted_identity' }), 2)
})
