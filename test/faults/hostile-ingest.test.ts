import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { FRAMES, encodeFrames } from '../../core/frames.js'
import type { StreamBatch } from '../../core/record.js'
import { NDJSON } from '../../core/wire.js'
import { Rng, metricValue, metrics } from '../helpers/faults.js'
import { INGEST_TOKEN, MAX_BODY, REQUEST_MS, RSS_BOUND, fixtures, healthy, pool, show, startTarget } from './hostile-setup.js'

// Issue 7: hostile input at the collector's ingest API (POST /api/v1/ingest). 4 000 NDJSON
// and 1 000 frames inputs generated from seeds, plus the hand-made ones in test/fixtures/hostile/ingest/. Each must
// be answered within REQUEST_MS with 200 or a 4xx carrying a DAYTWO_ERR_* code (never a 5xx:
// a 5xx tells the forwarder to retry the same bytes forever), every refusal must be counted
// in daytwo_collector_rejected_requests_total, the process must stay up, and its
// RSS bounded.

const SEED = 0x1d7
const COUNT = 4000

interface Input { kind: string, headers: Record<string, string>, body: Buffer }

const TAGS = { id: 'h', source: 'file', node: 'n', deployment: 'hostile', job: 'ingest', index: '0', process: 'p', path: '/h.log' }
const WEIRD: unknown[] = [null, true, 0, -1, 1.5, 1e21, '', 'x'.repeat(2000), [], {}, [[]], { a: 1 }, '-', '\u0000', '\ud800', 9007199254740993, -0]

function validGroup (r: Rng, i: number): Record<string, unknown> {
  const n = 1 + r.int(4)
  const entries: unknown[] = []
  for (let k = 0; k < n; k++) entries.push([String(1_795_428_000_000_000_000n + BigInt(i * 10 + k)), i * 10 + k, `msg ${i}.${k} ${r.str(r.int(40), 'abc ✓\t"\\')}`, r.pick(['stdout', 'stderr'])])
  return { stream: { ...TAGS, id: `h-${i % 50}`, job: `ingest-${i % 5}` }, entries }
}

/** Replace a random place in a JSON value with a weird value, or delete it. */
function mutate (r: Rng, v: unknown, depth = 0): unknown {
  if (depth > 0 && r.int(3) === 0) return r.pick(WEIRD)
  if (Array.isArray(v) && v.length > 0) {
    const c = [...v] as unknown[]
    const k = r.int(c.length)
    if (r.int(6) === 0) c.splice(k, 1)
    else c[k] = mutate(r, c[k], depth + 1)
    return c
  }
  if (typeof v === 'object' && v !== null) {
    const o = { ...(v as Record<string, unknown>) }
    const keys = Object.keys(o)
    const k = r.pick(keys)
    if (r.int(6) === 0) delete o[k]
    else if (r.int(8) === 0) o[r.str(1 + r.int(8), 'abz_$')] = r.pick(WEIRD)
    else o[k] = mutate(r, o[k], depth + 1)
    return o
  }
  return r.pick(WEIRD)
}

function nest (r: Rng, depth: number): string {
  const open = r.int(2) === 0 ? '[' : '{"a":'
  const close = open === '[' ? ']' : '}'
  return open.repeat(depth) + '1' + close.repeat(depth)
}

function generate (seed: number, count: number): Input[] {
  const r = new Rng(seed)
  const auth = { authorization: `Bearer ${INGEST_TOKEN}` }
  const json = { ...auth, 'content-type': NDJSON }
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }) // 64 MiB of zeros in ~64 KB
  const ndjsonBomb = gzipSync(Buffer.from(JSON.stringify(validGroup(r, 0)) + '\n').toString().repeat(Math.ceil(2 * MAX_BODY / 200)))
  const out: Input[] = []
  for (let i = 0; i < count; i++) {
    const kind = r.int(16)
    const ok = Buffer.from(JSON.stringify(validGroup(r, i)) + '\n')
    switch (kind) {
      case 0: { // missing or invalid tokens
        const a = r.pick(['', 'Bearer', 'Bearer ', `Bearer ${INGEST_TOKEN}x`, `bearer ${INGEST_TOKEN.slice(1)}`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${r.str(4000, 'abcdef0123')}`, `Bearer ${INGEST_TOKEN} ${INGEST_TOKEN}`, `Token ${INGEST_TOKEN}`, r.str(60, '\t !~é')])
        const h: Record<string, string> = { 'content-type': NDJSON }
        if (a !== '' || r.int(2) === 0) h.authorization = a
        out.push({ kind: 'token', headers: h, body: ok })
        break
      }
      case 1: out.push({ kind: 'bad gzip', headers: { ...json, 'content-encoding': 'gzip' }, body: r.int(2) === 0 ? r.bytes(1 + r.int(3000)) : gzipSync(ok).subarray(0, 10 + r.int(20)) }); break
      case 2: out.push({ kind: 'zip bomb', headers: { ...json, 'content-encoding': r.pick(['gzip', 'GZIP']) }, body: r.int(2) === 0 ? bomb : ndjsonBomb }); break
      case 3: out.push({ kind: 'gzip in gzip', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync(gzipSync(ok)) }); break
      case 4: out.push({ kind: 'huge body', headers: json, body: Buffer.concat([ok, Buffer.alloc(MAX_BODY + r.int(MAX_BODY), 0x20)]) }); break
      case 5: out.push({ kind: 'content type', headers: { ...auth, ...(r.int(5) === 0 ? {} : { 'content-type': r.pick(['application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/html', 'application/x-www-form-urlencoded', '', ';;;', 'application/x-ndjson; charset=latin1', 'application/json; charset=utf-16', 'x/'.repeat(500)]) }) }, body: ok }); break
      case 6: out.push({ kind: 'content encoding', headers: { ...json, 'content-encoding': r.pick(['br', 'deflate', 'zstd', 'gzip, gzip', 'identity, gzip', 'x-gzip', '', 'compress', '*']) }, body: ok }); break
      case 7: case 8: case 9: { // NDJSON with wrong shapes
        const v = mutate(r, validGroup(r, i))
        out.push({ kind: 'shape', headers: json, body: Buffer.from(JSON.stringify(v) + '\n') })
        break
      }
      case 10: out.push({ kind: 'deep nesting', headers: json, body: Buffer.from(nest(r, r.pick([100, 10_000, 100_000, 400_000]))) }); break
      case 11: { // huge strings: a huge message (valid) or a huge tag (invalid)
        const g = validGroup(r, i) as { stream: Record<string, string>, entries: unknown[][] }
        if (r.int(2) === 0) g.entries[0]![2] = r.str(1000, 'ab✓') + 'x'.repeat(r.int(MAX_BODY - 20_000))
        else g.stream[r.pick(Object.keys(TAGS))] = 'y'.repeat(1025 + r.int(500_000))
        out.push({ kind: 'huge string', headers: json, body: Buffer.from(JSON.stringify(g) + '\n') })
        break
      }
      case 12: { // invalid UTF-8 inside strings and between lines
        const b = Buffer.from(ok)
        for (let k = 0; k < 1 + r.int(5); k++) b[r.int(b.length)] = r.pick([0xff, 0xfe, 0xc0, 0x80, 0xed])
        out.push({ kind: 'invalid utf-8', headers: json, body: r.int(2) === 0 ? b : Buffer.concat([ok, Buffer.from([0xff, 0xfe, 0x0a]), ok]) })
        break
      }
      case 13: out.push({ kind: 'random bytes', headers: { ...json, ...(r.int(2) === 0 ? { 'content-encoding': 'gzip' } : {}) }, body: r.bytes(r.int(5000)) }); break
      case 14: { // many lines, some broken
        let s = ''
        for (let k = 0; k < 2 + r.int(30); k++) s += r.int(10) === 0 ? JSON.stringify(mutate(r, validGroup(r, i * 100 + k))) + '\n' : JSON.stringify(validGroup(r, i * 100 + k)) + '\n'
        out.push({ kind: 'mixed lines', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync(s) })
        break
      }
      default: { // JSON that is not a group: scalars, arrays, truncated text
        const s = JSON.stringify(validGroup(r, i))
        out.push({ kind: 'not a group', headers: json, body: Buffer.from(r.pick([s.slice(0, r.int(s.length)), '[' + s + ']', 'null', '"' + s + '"', '1e999', s + s, s.replace(/"/g, "'"), '{}', '[]', ' \n\n '])) })
      }
    }
  }
  for (const f of fixtures('ingest')) out.push({ kind: `fixture ${f.name}`, headers: json, body: f.data })
  return out
}

const FRAME_SEED = 0xf7a
const FRAME_COUNT = 1000

/** The forwarder's own format (core/frames.ts): lengths that lie, headers cut, bytes flipped. */
function generateFrames (seed: number, count: number): Input[] {
  const r = new Rng(seed)
  const headers = { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': FRAMES }
  const out: Input[] = []
  for (let i = 0; i < count; i++) {
    const valid = encodeFrames([validGroup(r, i) as unknown as StreamBatch])
    const b = Buffer.from(valid)
    let body: Buffer = b
    let kind = 'frames'
    switch (r.int(8)) {
      case 0: break // valid
      case 1: kind = 'frames flipped'; for (let k = 0; k < 1 + r.int(6); k++) b[r.int(b.length)] = r.int(256); break
      case 2: kind = 'frames cut'; body = b.subarray(0, r.int(b.length)); break
      case 3: { // a length that lies, or one beyond any body
        kind = 'frames length'
        const text = b.toString('latin1')
        body = Buffer.from(text.replace(/ (\d+) (\d+)\n/, (_m, a: string, c: string) => ` ${r.pick([String(Number(a) + 1 + r.int(50)), String(Math.max(0, Number(a) - 1 - r.int(5))), '9007199254740991', '99999999999999999999', '-1', ''])} ${r.int(3) === 0 ? '7' : c}\n`), 'latin1')
        break
      }
      case 4: kind = 'frames header'; body = Buffer.concat([b.subarray(0, b.indexOf(0x0a) + 1), Buffer.from(r.pick(['E\n', 'E ', 'E 1 2 3 4 5 6\n', `E ${'9'.repeat(5000)} 0 x 0 0\n\n`, 'E 1 0 stdout 0 0', 'S\n', 'S \n', 'S null\n', 'E 1 0 ' + 'x'.repeat(70000) + ' 0 0\n\n']))]); break
      case 5: kind = 'frames invalid utf-8'; b[b.length - 2 - r.int(4)] = r.pick([0xff, 0xc0, 0x80, 0xed]); break
      case 6: kind = 'frames gzip'; body = gzipSync(r.int(4) === 0 ? b.subarray(0, r.int(b.length)) : b); break
      default: kind = 'frames random'; body = Buffer.concat([b.subarray(0, b.indexOf(0x0a) + 1), Buffer.from('E '), r.bytes(r.int(3000))])
    }
    out.push({ kind, headers: kind === 'frames gzip' ? { ...headers, 'content-encoding': 'gzip' } : headers, body })
  }
  return out
}

test('5 000 hostile ingest requests (NDJSON and frames): answered in time, 4xx with a code, every refusal counted, the collector stays up', { timeout: 240_000 }, async (t) => {
  const x = await startTarget(t)
  const collector = x.d.urls.collector!
  const inputs = [...generate(SEED, COUNT), ...generateFrames(FRAME_SEED, FRAME_COUNT)]
  const m0 = await metrics(collector)
  const statuses = new Map<string, number>()
  let refused = 0
  await pool(inputs, 8, async (inp) => {
    if (x.failCount() >= 12) return // a hung or crashed process: report what was seen, fast
    let status = 0
    let text = ''
    try {
      const res = await fetch(`${collector}/api/v1/ingest`, { method: 'POST', headers: inp.headers, body: new Uint8Array(inp.body), signal: AbortSignal.timeout(REQUEST_MS) })
      status = res.status
      text = await res.text()
    } catch (err) {
      // A body over the limit is refused (413) before it is read, and the connection closed
      // (as fastify does to stop the upload): the client may see the reset before the answer.
      // That is counted by the collector like any refusal. Anything else, and any timeout, fails.
      if (inp.body.length > MAX_BODY && (err as Error).name !== 'TimeoutError') { refused++; return }
      x.fail(`${inp.kind} ${show(inp.body)}: no answer (${(err as Error).name}: ${(err as Error).message})`)
      return
    }
    statuses.set(`${inp.kind} ${status}`, (statuses.get(`${inp.kind} ${status}`) ?? 0) + 1)
    if (status !== 200) refused++
    if (status >= 500) x.fail(`${inp.kind} ${show(inp.body)}: HTTP ${status} ${text.slice(0, 300)}`)
    if (status >= 400 && status < 500) {
      let code = ''
      try { code = String((JSON.parse(text) as { code?: unknown }).code) } catch {}
      if (!code.startsWith('DAYTWO_ERR_')) x.fail(`${inp.kind} ${show(inp.body)}: HTTP ${status} without a DAYTWO_ERR code: ${text.slice(0, 200)}`)
    }
  })
  t.diagnostic(`answers: ${[...statuses].sort().map(([k, n]) => `${k}×${n}`).join(', ')}`)
  assert.deepEqual(x.failures, [], `${x.failCount()} of ${inputs.length} inputs misbehaved`)
  const m1 = await metrics(collector)
  const counted = metricValue(m1, 'daytwo_collector_rejected_requests_total') - metricValue(m0, 'daytwo_collector_rejected_requests_total')
  const reasons = ['unauthorized', 'malformed_batch', 'too_large', 'bad_encoding', 'bad_content_type']
  for (const reason of reasons) {
    const n = metricValue(m1, 'daytwo_collector_rejected_requests_total', { reason }) - metricValue(m0, 'daytwo_collector_rejected_requests_total', { reason })
    if (n <= 0) x.fail(`no rejection counted with reason ${reason}`)
  }
  assert.deepEqual(await healthy(x.d), [], 'every role still answers /healthz')
  assert.equal(counted, refused, `every refused request is counted (counted ${counted}, refused ${refused})`)
  assert.ok(x.peakRss() < RSS_BOUND, `RSS stayed under ${RSS_BOUND} bytes (peak ${x.peakRss()})`)
})

test('a timestamp outside signed 64-bit nanoseconds is a 400 (the forwarder drops it), not a 503 it would retry forever', { timeout: 60_000 }, async (t) => {
  const x = await startTarget(t)
  for (const ts of ['9223372036854775808', '99999999999999999999', '-9223372036854775809', '-99999999999999999999']) {
    const body = JSON.stringify({ stream: { ...TAGS, id: `ts-${ts}` }, entries: [[ts, 1, 'far away', 'stdout']] }) + '\n'
    const res = await fetch(`${x.d.urls.collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': NDJSON }, body, signal: AbortSignal.timeout(REQUEST_MS) })
    const answer = await res.json() as { code?: string }
    assert.deepEqual([res.status, answer.code], [400, 'DAYTWO_ERR_BAD_BATCH'], `ts ${ts}`)
  }
  for (const ts of ['9223372036854775807', '-9223372036854775808']) {
    const body = JSON.stringify({ stream: { ...TAGS, id: `ts-${ts}` }, entries: [[ts, 1, 'edge', 'stdout']] }) + '\n'
    const res = await fetch(`${x.d.urls.collector}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': NDJSON }, body, signal: AbortSignal.timeout(REQUEST_MS) })
    assert.equal(res.status, 200, `ts ${ts} is the edge of the range and stored`)
  }
})
