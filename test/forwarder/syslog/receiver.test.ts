import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { silentLogger } from '../../../core/logger.js'
import type { Attributes, StreamTags } from '../../../core/record.js'
import { forwarderMetrics } from '../../../forwarder/metrics.js'
import type { DiskSpool } from '../../../forwarder/spool/disk-spool.js'
import { lineAttributes } from '../../../forwarder/sources/syslog/line-attributes.js'
import { FrameSplitter } from '../../../forwarder/sources/syslog/octet-framing.js'
import { parseSyslog } from '../../../forwarder/sources/syslog/parse-syslog.js'
import { SyslogReceiver } from '../../../forwarder/sources/syslog/receiver.js'
import { deploymentRules, streamTags } from '../../../forwarder/sources/syslog/stream-tags.js'
import { syslogMetrics } from '../../../forwarder/sources/syslog/syslog-metrics.js'
import { metricValue } from '../../helpers/syslog-senders.js'

// The receiver spools a frame whose header repeats the last fully parsed one without parsing
// it. Whatever the frames and wherever TCP cut them, what it spools must be exactly what the
// full parse gives: the same stream, timestamp, message and attributes, and the same counts.

interface Spooled { how: 'parsed' | 'known', tags: StreamTags, tsNs: string, message: string, attrs: Attributes | undefined }

const LISTENER = 'tcp://127.0.0.1:514'
const PEER = '10.0.0.9'
const ZONE = 'UTC'
const tagCtx = { node: 'n1', epoch: 'e1', listener: LISTENER, peer: PEER, rules: deploymentRules(['edge-*=network']), defaultDeployment: 'syslog', trustIdentity: true }

function receiver (): { rx: SyslogReceiver, got: Spooled[], registry: Registry } {
  const got: Spooled[] = []
  const spool = {
    bytes: 0,
    pending: 0,
    segmentCount: 1,
    append: (tags: StreamTags, tsNs: string, message: string, attrs?: Attributes) => { got.push({ how: 'parsed', tags, tsNs, message, attrs }); return got.length - 1 },
    appendBytes: (tags: StreamTags, tsNs: string, src: Buffer, start: number, end: number, attrs?: Attributes) => { got.push({ how: 'known', tags, tsNs, message: src.toString('utf8', start, end), attrs }); return got.length - 1 }
  } as unknown as DiskSpool
  const registry = new Registry()
  const metrics = forwarderMetrics(registry, silentLogger, 2)
  const rx = new SyslogReceiver({
    spool,
    metrics,
    syslogMetrics: syslogMetrics(registry, spool, 1 << 20),
    zone: ZONE,
    tagsFor: (m) => streamTags(m, tagCtx),
    identityIgnored: () => false,
    spoolFullDetail: () => 'full'
  }, 'tcp', LISTENER, PEER)
  return { rx, got, registry }
}

/** What the full parse makes of one frame's bytes (trailer already removed). */
function expected (frame: Buffer): { tags: StreamTags, tsNs: string | null, message: string, attrs: Attributes | undefined } {
  const m = parseSyslog(frame.toString('utf8'), { zone: ZONE, nowMs: Date.now() })
  const tags = streamTags(m, tagCtx)
  return { tags, tsNs: m.tsNs, message: m.message, attrs: lineAttributes(m, tags) }
}

const h = '<14>1 2026-11-23T10:00:00.000001Z web-1 app 7 ID1 -'
const sd = '<14>1 2026-11-23T10:00:00Z web-1 app 7 ID1 [x@1 a="q\\"b" c="d\\]"]'
const frames: Array<string | Buffer> = [
  `${h} first`,
  `${h} second, same header`,
  '<14>1 2026-11-23T10:00:00.000002Z web-1 app 7 ID1 - another time',
  '<14>1 2026-11-23T10:00:01+01:00 web-1 app 7 ID1 - an offset',
  '<14>1 - web-1 app 7 ID1 - NILVALUE time',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - \ufeffa BOM before MSG',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 -',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - ',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - [x@1 a="1"] SD-looking MSG',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 -[x@1 a="1"] no space after SD',
  '<14>1 2026-13-45T10:00:02Z web-1 app 7 ID1 - a time that is no time',
  `<14>1 ${'2'.repeat(65)} web-1 app 7 ID1 - a 65-character TIMESTAMP`,
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - ünïcödé MSG ✓',
  Buffer.concat([Buffer.from('<14>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - caf'), Buffer.from([0xc3, 0x28]), Buffer.from(' invalid UTF-8')]),
  `${h} after invalid`,
  '<11>1 2026-11-23T10:00:02Z web-1 app 7 ID1 - another PRI',
  '<11>1 2026-11-23T10:00:03Z web-1 app 7 ID1 - another PRI again',
  '<14>1 2026-11-23T10:00:02Z web-2 app 7 ID1 - another host',
  '<14>1 2026-11-23T10:00:02Z web-2 app 7 ID1 - another host again',
  `${sd} structured data`,
  `${sd.replace('10:00:00Z', '10:00:09Z')} structured data again`,
  `${sd}[y@1 k="v"] one more element`,
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 - [daytwo@32473 deployment="shop" job="cart"] identity',
  '<14>1 2026-11-23T10:00:03Z web-1 app 7 - [daytwo@32473 deployment="shop" job="cart"] identity again',
  '<14>1 2026-11-23T10:00:02Z web-1 app 7 - [x@1 a="ü"] non-ASCII header',
  '<14>1 2026-11-23T10:00:03Z web-1 app 7 - [x@1 a="ü"] non-ASCII header again',
  '<13>Nov 23 10:00:00 web-1 app[7]: RFC 3164',
  `${h} back to the first header`,
  'no header at all',
  `${h} last`
]

/**
 * Every fifth frame LF-framed, the others octet-counted; but a frame that does not start with
 * "<", and the one before it, LF-framed (after a counted frame only a count or "<" may follow).
 */
const headed = (i: number): boolean => i >= frames.length || String(frames[i]).startsWith('<')
const lfFramed = (i: number): boolean => i % 5 === 4 || !headed(i) || !headed(i + 1)

function wire (): Buffer {
  return Buffer.concat(frames.map((f, i) => {
    const b = typeof f === 'string' ? Buffer.from(f) : f
    return lfFramed(i) ? Buffer.concat([b, Buffer.from('\n')]) : Buffer.concat([Buffer.from(`${b.length} `), b])
  }))
}

function feed (rx: SyslogReceiver, bytes: Buffer, chunk: number): void {
  const s = new FrameSplitter(65536)
  for (let off = 0; off < bytes.length; off += chunk) {
    const c = bytes.subarray(off, off + chunk)
    rx.begin(c)
    assert.equal(s.push(c, rx), null)
    rx.end()
  }
  rx.begin(Buffer.alloc(0))
  s.end(rx)
  rx.end()
}

test('a repeated header is spooled exactly as the full parse would, however the stream is cut', async () => {
  const bytes = wire()
  const want = frames.map((f) => expected(typeof f === 'string' ? Buffer.from(f) : f))
  for (const chunk of [bytes.length, 1, 2, 3, 7, 50, 64, 100, 333]) {
    const { rx, got, registry } = receiver()
    feed(rx, bytes, chunk)
    assert.equal(got.length, frames.length, `chunk ${chunk}`)
    for (let i = 0; i < frames.length; i++) {
      const w = want[i]!
      const g = got[i]!
      const what = `chunk ${chunk}, frame ${i}: ${String(frames[i]).slice(0, 60)}`
      assert.equal(g.tags.id, w.tags.id, what)
      assert.deepEqual(g.tags, w.tags, what)
      assert.equal(g.message, w.message, what)
      assert.deepEqual(g.attrs, w.attrs, what)
      if (w.tsNs !== null) assert.equal(g.tsNs, w.tsNs, what)
      else assert.match(g.tsNs, /^\d+$/, `${what}: the receive time`)
    }
    const known = got.filter((g) => g.how === 'known').length
    assert.ok(known >= 10, `chunk ${chunk}: ${known} frames took the known-header path`)
    const text = await registry.metrics()
    assert.equal(metricValue(text, 'daytwo_forwarder_lines_altered_total', { reason: 'invalid_utf8' }), 1, `chunk ${chunk}`)
    assert.equal(metricValue(text, 'daytwo_forwarder_lines_read_total', { source: 'syslog' }), frames.length, `chunk ${chunk}`)
  }
})

test('counters are the full parse\'s', async () => {
  const { rx, registry } = receiver()
  feed(rx, wire(), 64)
  const text = await registry.metrics()
  const formats = { rfc5424: 0, rfc3164: 0, none: 0 }
  let malformed = 0
  for (const f of frames) {
    const m = parseSyslog((typeof f === 'string' ? Buffer.from(f) : f).toString('utf8'), { zone: ZONE, nowMs: Date.now() })
    formats[m.format]++
    if (m.malformed !== undefined) malformed++
  }
  for (const [format, n] of Object.entries(formats)) assert.equal(metricValue(text, 'daytwo_forwarder_syslog_messages_total', { transport: 'tcp', format }), n, format)
  assert.equal(metricValue(text, 'daytwo_forwarder_lines_altered_total', { reason: 'syslog_malformed_header' }), malformed)
  assert.equal(metricValue(text, 'daytwo_forwarder_lines_altered_total', { reason: 'invalid_utf8' }), 1)
  assert.equal(metricValue(text, 'daytwo_forwarder_bytes_read_total', { source: 'syslog' }), frames.reduce((n, f) => n + Buffer.byteLength(f), 0), 'frame bytes (an LF that ends a frame is not part of it)')
})

test('an octet count that ends inside a character: the cut character is replaced and counted, as by the full parse', async () => {
  const { rx, got, registry } = receiver()
  const first = Buffer.from(`${h} first`)
  const cut = Buffer.from(`${h} caf\u00e9`) // é is two bytes; the count below stops after the first
  const bytes = Buffer.concat([Buffer.from(`${first.length} `), first, Buffer.from(`${cut.length - 1} `), cut])
  const s = new FrameSplitter(65536)
  rx.begin(bytes)
  assert.equal(s.push(bytes, rx), 'octet_count_mismatch', 'the byte after the frame cannot start one')
  rx.end()
  assert.equal(got.length, 2)
  assert.equal(got[1]!.message, 'caf\ufffd')
  const text = await registry.metrics()
  assert.equal(metricValue(text, 'daytwo_forwarder_lines_altered_total', { reason: 'invalid_utf8' }), 1)
})
