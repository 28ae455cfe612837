import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FRAMES } from '../../core/frames.js'
import type { Entry } from '../../core/record.js'
import { storableNs } from '../../core/time.js'
import { PartialAssembler } from '../../forwarder/formats/assembler.js'
import { parseCri } from '../../forwarder/formats/cri.js'
import { parseDocker } from '../../forwarder/formats/docker.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { startIngestSink } from '../helpers/ingest-sink.js'

// The forwarder writes most container lines straight from its read buffer into the batch
// (Tailer.writeCri), and everything else the general way (parseCri/parseDocker, the partial
// assembler). Here a real `serve forwarder` tails files mixing both kinds into a sink that
// decodes what it receives, and every record must be what the general way alone says:
// same time to the nanosecond, same offset, same message bytes, same stdio.

const TOKEN = 'direct-path-token'

function criLines (): string[] {
  const out: string[] = []
  const msgs = ['{"level":"info","msg":"quotes \\" and \\\\ backslashes"}', 'plain text', '', 'ünïcödé ✓ 𝄞', 'tab\there', 'E 1 2 3 4 5 looks like a frame header',
    'S {"looks":"like a stream line"}', 'x'.repeat(3000), 'trailing CR\r', 'ERROR something', 'level=warn msg=x', '\u0001\u001f control bytes']
  const fractions = ['', '.1', '.12', '.123456', '.123456789', '.000000001', '.5']
  let n = 0
  for (let sec = 0; sec < 4; sec++) {
    for (const frac of fractions) {
      for (const m of msgs) {
        const stdio = n % 3 === 0 ? 'stderr' : 'stdout'
        const tag = n % 7 === 0 ? 'F:x-tag' : 'F'
        const sep = m === '' && n % 2 === 0 ? '' : ' ' // an empty message may come without its separator
        out.push(`2026-11-23T10:00:0${sec}${frac}Z ${stdio} ${tag}${sep}${m}`)
        n++
      }
    }
    // Lines the direct way leaves to the general one: a zone offset, a partial and its end,
    // a lower-case t, a time before 1970, garbage.
    out.push(`2026-11-23T11:00:0${sec}.25+01:00 stdout F with an offset`)
    out.push(`2026-11-23T10:00:0${sec}.3Z stdout P first part, `)
    out.push(`2026-11-23T10:00:0${sec}.4Z stderr F an stderr line between the parts`)
    out.push(`2026-11-23T10:00:0${sec}.5Z stdout F second part`)
    out.push(`2026-11-23t10:00:0${sec}.6Z stdout F lower-case t`)
    out.push(`1969-12-31T23:59:59.1Z stdout F before 1970`)
    out.push('not a cri line at all')
  }
  return out
}

/** What the general way makes of a container file: [ts, offset, message, stdio] per record. */
function expected (content: Buffer): Array<[string | null, number, string, string]> {
  const out: Array<[string | null, number, string, string]> = []
  const asm = new PartialAssembler(1 << 20)
  let offset = 0
  for (let nl = content.indexOf(0x0a); nl !== -1; nl = content.indexOf(0x0a, offset)) {
    const text = content.toString('utf8', offset, nl)
    const parsed = text.charCodeAt(0) === 0x7b ? parseDocker(text) : parseCri(text)
    if (parsed !== null) {
      // Unstorable times are replaced by the read time: only their presence is compared.
      const ts = storableNs(parsed.ts) ? parsed.ts : null
      const done = asm.add({ ...parsed, ts: ts ?? '0' }, offset)
      if (done !== null) out.push([done.ts === '0' ? null : done.ts, offset, done.message, done.stdio])
    }
    offset = nl + 1
  }
  return out
}

test('lines written directly from the read buffer are exactly what the general way makes of them', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('daytwo-direct-')
  t.after(() => tmp.cleanup())
  const sink = await startIngestSink(t)
  const received = sink.batches

  const pods = join(tmp.path, 'pods')
  const files: Record<string, Buffer> = {}
  const cri = join(pods, 'shop_web-abcde_0000-1111', 'app', '0.log')
  const invalid = Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x6f])
  files[cri] = Buffer.concat([Buffer.from(criLines().join('\n') + '\n'), Buffer.from('2026-11-23T10:00:09.9Z stdout F bad '), invalid, Buffer.from('\n')])
  const docker = join(pods, 'shop_api-fghij_2222-3333', 'api', '0.log')
  files[docker] = Buffer.from([
    JSON.stringify({ log: 'docker line\n', stream: 'stdout', time: '2026-11-23T10:00:00.123456789Z' }),
    JSON.stringify({ log: 'partial ', stream: 'stderr', time: '2026-11-23T10:00:01Z' }),
    '2026-11-23T10:00:02.5Z stdout F a CRI line in a Docker file',
    JSON.stringify({ log: 'end\n', stream: 'stderr', time: '2026-11-23T10:00:03Z' })
  ].join('\n') + '\n')
  for (const [path, content] of Object.entries(files)) { mkdirSync(join(path, '..'), { recursive: true }); writeFileSync(path, content) }

  const d = await startDaytwo('forwarder', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: pods, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(tmp.path, 'none'), port: 0, collectorUrl: sink.url, token: TOKEN, maxLineBytes: 1 << 20 }
  }, tmp.path)
  t.after(() => d.stop())

  const want = Object.fromEntries(Object.entries(files).map(([path, content]) => [path, expected(content)]))
  const total = Object.values(want).reduce((a, w) => a + w.length, 0)
  const got = () => {
    const byPath: Record<string, Entry[]> = {}
    for (const g of received) (byPath[g.stream.path] ??= []).push(...g.entries)
    return byPath
  }
  assert.ok(await waitFor(() => Object.values(got()).reduce((a, e) => a + e.length, 0) >= total, 20_000), `the sink received ${total} records`)
  assert.deepEqual([...sink.contentTypes], [FRAMES])
  for (const [path, entries] of Object.entries(got())) {
    const w = want[path]!
    assert.equal(entries.length, w.length, path)
    entries.forEach((e, i) => {
      const [ts, offset, message, stdio] = w[i]!
      const actual = [ts === null ? null : e[0], e[1], e[2], e[3]]
      assert.deepEqual(actual, [ts, offset, message, stdio], `${path} record ${i}`)
      if (ts === null) assert.ok(storableNs(e[0]), 'an unstorable time is replaced by a storable one')
    })
  }
  // The direct way really ran: most records of the CRI file are plain `F` lines with a UTC time.
  const direct = want[cri]!.filter(([, off]) => /^\d{4}-\d\d-\d\dT[\d:.]+Z std(out|err) F[ :]/.test(files[cri]!.toString('utf8', off, off + 60))).length
  assert.ok(direct > 300, `the corpus exercises the direct way (${direct} records)`)
  assert.ok(want[cri]!.some(([, , m]) => m.includes('\ufffd')), 'an invalid UTF-8 line arrives with U+FFFD')
})
