import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { criScan, parseCri, scanCri } from '../../forwarder/formats/cri.js'
import { startDaytwo, tempDir, waitFor } from '../helpers/daytwo-process.js'
import { startIngestSink } from '../helpers/ingest-sink.js'

// The CRI envelope's edges, through both of the tailer's ways: the direct one (Tailer.writeCri,
// plain `F` lines with a UTC time) and the general one (parseCri), which share one scanner
// (forwarder/formats/cri.ts scanCri). Each edge line stands between ordinary direct lines, and
// what comes out is checked against the records written down here, not against either way.

const T = '2026-11-23T10:00:00'
const NS = '1795428000'

/** [line, the record it makes ([ts, message, stdio]) or null when it is no CRI line]. */
const EDGES: Array<[string, [string, string, string] | null]> = [
  [`${T}.5Z stdout F`, [`${NS}500000000`, '', 'stdout']], // an empty message without its separator
  [`${T}.5Z stdout F `, [`${NS}500000000`, '', 'stdout']],
  [`${T}.5Z stderr F:x-tag tagged`, [`${NS}500000000`, 'tagged', 'stderr']],
  [`${T}.5Z stdout F:x-tag`, [`${NS}500000000`, '', 'stdout']],
  [`${T}.5Z stdout F:ü-tag non-ASCII tag`, [`${NS}500000000`, 'non-ASCII tag', 'stdout']],
  [`${T}.5Z stdout F   spaces kept `, [`${NS}500000000`, '  spaces kept ', 'stdout']],
  [`${T}.123456789Z stderr F nine digits`, [`${NS}123456789`, 'nine digits', 'stderr']],
  [`${T}.1234567891Z stdout F ten digits, the tenth dropped`, [`${NS}123456789`, 'ten digits, the tenth dropped', 'stdout']],
  [`${T}Z stdout F no fraction`, [`${NS}000000000`, 'no fraction', 'stdout']],
  [`${T}.5z stdout F lower-case z`, [`${NS}500000000`, 'lower-case z', 'stdout']],
  ['2026-11-23T12:00:00.5+02:00 stdout F an offset', [`${NS}500000000`, 'an offset', 'stdout']],
  ['2026-11-23T08:00:00.5-0200 stdout F an offset without colon', [`${NS}500000000`, 'an offset without colon', 'stdout']],
  [`${T}.7Z stderr P first part, `, null], // joined with the next line of stderr (below)
  [`${T}.8Z stderr F second part`, [`${NS}700000000`, 'first part, second part', 'stderr']],
  [`${T}.5 stdout F no zone`, null],
  [`${T}.Z stdout F a dot without digits`, null],
  [`${T}.5Z stdxxx F stdxxx`, null],
  [`${T}.5Z stdin F stdin`, null],
  [`${T}.5Z stdout X flag X`, null],
  [`${T}.5Z stdout FF two flags`, null],
  [`${T}.5Z stdout  F two spaces`, null],
  [`${T}.5Z stdout`, null],
  [`${T}.5Z stdout `, null],
  [`${T}.5Z`, null],
  ['2026-11-23 10:00:00.5Z stdout F a space for T', null],
  ['notatime stdout F not a time', null],
  ['garbage', null],
  ['', null]
]

/** What parseCri makes of the two parts alone (the records above are the assembler's). */
const PARSED_ALONE: Record<string, [string, string, string]> = {
  [`${T}.7Z stderr P first part, `]: [`${NS}700000000`, 'first part, ', 'stderr'],
  [`${T}.8Z stderr F second part`]: [`${NS}800000000`, 'second part', 'stderr']
}

test('scanCri and parseCri: the edge lines make the records written down, as strings, as bytes, and inside a larger buffer', () => {
  const r = criScan()
  for (const [line, want] of EDGES) {
    const asString = parseCri(line)
    const parsed = PARSED_ALONE[line] ?? want
    assert.deepEqual(asString === null ? null : [asString.ts, asString.message, asString.stdio], parsed, line)
    assert.equal(asString?.partial ?? false, line.includes(' P '), `${line}: partial`)
    assert.deepEqual(parseCri(Buffer.from(line)), asString, `${line}: as bytes`)
    // Inside a chunk, between other lines: the scan keeps to [start, end).
    const before = Buffer.from(`${T}.1Z stdout F before\n`)
    const chunk = Buffer.concat([before, Buffer.from(line), Buffer.from(`\n${T}.2Z stderr F:t after`)])
    const alone = scanCri(Buffer.from(line), 0, Buffer.byteLength(line), r) ? { ...r } : null
    const inside = scanCri(chunk, before.length, before.length + Buffer.byteLength(line), r) ? { ...r } : null
    const shifted = inside === null ? null : { ...inside, timeEnd: inside.timeEnd - before.length, fracStart: inside.fracStart - before.length, fracEnd: inside.fracEnd - before.length, msgStart: inside.msgStart - before.length }
    assert.deepEqual(shifted, alone, `${line}: inside a chunk`)
  }
  // Bytes that are not UTF-8 become U+FFFD in the message, as the string decode makes them.
  const invalid = Buffer.concat([Buffer.from(`${T}.5Z stdout F bad `), Buffer.from([0xff, 0xfe]), Buffer.from(' end')])
  assert.equal(parseCri(invalid)!.message, 'bad \ufffd\ufffd end')
})

test('a forwarder tailing the edge lines among direct ones ships exactly the records written down', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('daytwo-cri-edges-')
  t.after(() => tmp.cleanup())
  const sink = await startIngestSink(t)
  const received = () => sink.batches.flatMap((g) => g.entries)

  // Each edge line after an ordinary direct one, in the same second and in another (the
  // direct way caches a second's digits: an edge line must not disturb them).
  const lines: string[] = []
  const want: Array<[string, number, string, string]> = []
  let offset = 0
  // A partial's record carries the offset of the line that finishes it.
  const add = (line: string, rec: [string, string, string] | null) => {
    if (rec !== null) want.push([rec[0], offset, rec[1], rec[2]])
    lines.push(line)
    offset += Buffer.byteLength(line) + 1
  }
  EDGES.forEach(([line, rec], i) => {
    const sec = String(i % 10)
    add(`2026-11-23T10:00:0${sec}.25Z stdout F direct ${i}`, [`179542800${sec}250000000`, `direct ${i}`, 'stdout'])
    add(line, rec)
  })
  add(`${T}.9Z stdout F the last line`, [`${NS}900000000`, 'the last line', 'stdout'])
  const pods = join(tmp.path, 'pods')
  const file = join(pods, 'shop_web-abcde_0000-1111', 'app', '0.log')
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, lines.join('\n') + '\n')

  const d = await startDaytwo('forwarder', {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    forwarder: { podLogRoot: pods, containerLogRoot: '', boshLogRoot: '', boshSpecFile: join(tmp.path, 'none'), port: 0, collectorUrl: sink.url, token: 'cri-edges-token' }
  }, tmp.path)
  t.after(() => d.stop())
  assert.ok(await waitFor(() => received().length >= want.length, 20_000), `the sink received ${want.length} records`)
  await new Promise((resolve) => setTimeout(resolve, 300)) // nothing more comes
  assert.deepEqual(received().map((e) => [e[0], e[1], e[2], e[3]]), want)
})
