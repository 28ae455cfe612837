import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { join } from 'node:path'
import { start } from '../../collector/role.js'
import { loadConfig } from '../../core/config.js'
import { FRAMES, encodeFrames } from '../../core/frames.js'
import { silentLogger } from '../../core/logger.js'
import type { Entry, StreamBatch } from '../../core/record.js'
import { NDJSON, encodeBatch } from '../../core/wire.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { TOKEN, metric, tags, usageTotals } from '../helpers/collector.js'
import { tempDir } from '../helpers/daytwo-process.js'

// Lines older than the store keeps (store.retentionDays) are refused at the collector, as
// Loki's reject_old_samples_max_age does: counted in metrics and usage, never acknowledged
// as stored and then deleted by the next retention pass.

const DAY_NS = 86_400_000_000_000n

function at (agoNs: bigint, offset: number, msg: string): Entry {
  return [String(BigInt(Date.now()) * 1_000_000n - agoNs), offset, msg, 'stdout']
}

async function post (url: string, body: Buffer, type: string): Promise<{ status: number, body: Record<string, unknown> }> {
  return await new Promise((resolve, reject) => {
    const req = request(new URL('/api/v1/ingest', url), { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${TOKEN}`, 'content-length': body.length } }, (res) => {
      let s = ''
      res.on('data', (c: Buffer) => { s += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(s) as Record<string, unknown> }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

for (const format of ['frames', 'ndjson'] as const) {
  test(`${format}: lines older than retentionDays are refused and counted; nothing accepted is deleted by retention`, async (t) => {
    const tmp = tempDir('daytwo-old-')
    const retention = { days: 7, maxBytes: 0, checkMs: 60_000 }
    const store = await EmbeddedStore.open(join(tmp.path, 'store'), { retention })
    const config = loadConfig({ env: {}, overrides: { dataDir: tmp.path, logLevel: 'silent', collector: { port: 0, tokens: [TOKEN], tenants: { trustForwarderTenants: ['*'] } }, store: { retentionDays: 7, retentionCheckMs: 60_000 } } })
    const role = await start({ config, log: silentLogger, store: async () => store })
    t.after(async () => { await role.stop(); await store.close(); tmp.cleanup() })

    const batches: StreamBatch[] = [
      { stream: tags('mixed', { org: 'acme', app: 'shop' }), entries: [at(30n * DAY_NS, 0, 'a month old'), at(8n * DAY_NS, 100, 'eight days old'), at(6n * DAY_NS, 200, 'six days old'), at(0n, 300, 'now')] },
      { stream: tags('recent'), entries: [at(DAY_NS, 0, 'yesterday'), at(0n, 100, 'now too')] },
      { stream: tags('ancient'), entries: [at(7n * DAY_NS + 1_000_000_000n, 0, 'just past the bound')] }
    ]
    const body = format === 'frames' ? encodeFrames(batches) : Buffer.from(encodeBatch(batches))
    const res = await post(role.url, body, format === 'frames' ? FRAMES : NDJSON)
    assert.equal(res.status, 200)
    assert.equal(res.body.stored, 4, JSON.stringify(res.body))

    const stored: string[] = []
    for await (const c of store.read({ selector: {} })) stored.push(...c.entries.map((e) => e[2]))
    assert.deepEqual(stored.sort(), ['now', 'now too', 'six days old', 'yesterday'])
    assert.equal(await metric(role.url, 'daytwo_collector_dropped_total', { reason: 'too_old' }), 3)
    // Usage: what was stored, and the refused lines as drops (acme's two, the platform's one).
    const all = await usageTotals(store)
    assert.equal(all.lines, 4)
    assert.equal(all.droppedLines, 3)
    assert.equal((await usageTotals(store, 'acme')).droppedLines, 2)
    // The retention pass that follows finds nothing to delete: nothing was acknowledged and lost.
    const r = await store.enforceRetention(Date.now() + retention.checkMs)
    assert.equal(r.lines, 0)
  })
}
