import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { cpuSeconds, processTree, rssMB } from '../../bench/lib/proc-stats.js'
import { median, table } from '../../bench/lib/report.js'
import { startIngestSink, startLineSink, until } from '../../bench/lib/sinks.js'
import { encodeBatch, NDJSON } from '../../core/wire.js'

// The benchmarks' measuring parts (no timing here): the sinks count exactly, /proc is read.

test('ingest sink counts the entries of gzip NDJSON batches and refuses a wrong token', async (t) => {
  const sink = await startIngestSink('tok')
  t.after(() => sink.close())
  const stream = { id: 's1', source: 'file' as const, node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/x.log' }
  const body = gzipSync(encodeBatch([{ stream, entries: [['1', 0, 'a', 'stdout'], ['2', 2, 'b"\n', 'stdout']] }, { stream: { ...stream, id: 's2' }, entries: [['3', 0, 'c', 'stderr']] }]))
  const post = (token: string) => fetch(`${sink.url}/api/v1/ingest`, { method: 'POST', headers: { 'content-type': NDJSON, 'content-encoding': 'gzip', authorization: `Bearer ${token}` }, body: body as Uint8Array<ArrayBuffer> })
  assert.equal((await post('tok')).status, 200)
  assert.equal((await post('nope')).status, 401)
  await until(() => sink.count() === 3, process.hrtime.bigint(), 5000)
  assert.equal(sink.unauthorized(), 1)
})

test('line sink counts LF across chunks and connections', async (t) => {
  const sink = await startLineSink()
  t.after(() => sink.close())
  for (const parts of [['a\nb', '\nc\n'], ['d\n']]) {
    const s = connect(sink.port, '127.0.0.1')
    for (const p of parts) s.write(p)
    s.end()
  }
  await until(() => sink.count() === 4, process.hrtime.bigint(), 5000)
})

test('process figures come from /proc', () => {
  assert.ok(processTree(process.pid).includes(process.pid))
  assert.ok(rssMB(process.pid) > 1)
  assert.ok(cpuSeconds(process.pid) >= 0)
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 2, 3]), 2.5)
  assert.match(table(['a', 'b'], [['x', '1']]), /\| x \| 1 \|/)
})
