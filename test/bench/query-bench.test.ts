import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { difference, fromLogsQL, fromLoki, grepCount, grepLines, linesAnswer, newestLines, runGrep, type Answer } from '../../bench/lib/query-answers.js'
import { COMMON, DEFAULT_SPEC, criEntry, levelOf, readManifest, writeQueryCorpus, type Manifest } from '../../bench/lib/query-corpus.js'
import { tempDir } from '../helpers/daytwo-process.js'

// The query benchmark's corpus and its answer check, at a scale of seconds (no timing here):
// the corpus is what the benchmark says it is, and a wrong answer is told from a right one.

const SPEC = { ...DEFAULT_SPEC, lines: 30_000, rareLines: 20 }

function allLines (m: Manifest): Array<{ ns: string, msg: string, line: string, file: Manifest['files'][number] }> {
  return m.files.flatMap((file) => readFileSync(file.path, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [ns, msg] = criEntry(line)
    return { ns, msg, line, file }
  }))
}

test('the corpus: kubelet layout, CRI lines, every pod across the whole range, needles and levels as the manifest says', (t) => {
  const dir = tempDir('daytwo-query-corpus-')
  t.after(() => dir.cleanup())
  const m = writeQueryCorpus(dir.path, SPEC)
  assert.equal(m.files.length, 40)
  assert.deepEqual([...new Set(m.files.map((f) => f.namespace))].sort(), ['auth', 'kube-system', 'monitoring', 'payments', 'shop'])
  const lines = allLines(m)
  assert.equal(lines.length, SPEC.lines)
  assert.equal(m.files.reduce((n, f) => n + f.lines, 0), SPEC.lines)
  const startNs = BigInt(SPEC.startMs) * 1_000_000n
  const spanNs = BigInt(SPEC.spanMs) * 1_000_000n
  for (const f of m.files) {
    assert.match(f.path, new RegExp(`/pods/${f.namespace}_${f.pod}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}/${f.container}/0\\.log$`))
    const mine = lines.filter((l) => l.file === f)
    assert.equal(mine.length, f.lines)
    for (const l of mine) assert.match(l.line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) F \S/)
    // Times rise within a file, and every pod writes from the first tenth of the range to the last.
    for (let i = 1; i < mine.length; i++) assert.ok(BigInt(mine[i]!.ns) > BigInt(mine[i - 1]!.ns), `${f.path} line ${i + 1} is not after line ${i}`)
    assert.ok(BigInt(mine[0]!.ns) - startNs < spanNs / 10n, `${f.pod} starts late`)
    assert.ok(startNs + spanNs - BigInt(mine[mine.length - 1]!.ns) < spanNs / 10n, `${f.pod} ends early`)
  }
  assert.equal(new Set(lines.map((l) => l.ns)).size, lines.length, 'times are distinct')
  assert.equal(String(lines.reduce((a, l) => BigInt(l.ns) > a ? BigInt(l.ns) : a, 0n)), m.lastNs)
  const shop = lines.filter((l) => l.file.namespace === 'shop')
  const common = shop.filter((l) => l.msg.includes(COMMON)).length / shop.length
  assert.ok(common > 0.05 && common < 0.1, `common needle in ${(common * 100).toFixed(1)} % of shop's lines`)
  assert.equal(lines.filter((l) => l.line.includes(m.rare)).length, SPEC.rareLines)
  assert.ok(new Set(lines.filter((l) => l.line.includes(m.rare)).map((l) => l.file.namespace)).size > 1, 'the rare needle is in several namespaces')
  // Formats: JSON, logfmt, plain text with a level word and klog all occur; the manifest's
  // tally per level is the level of each line as levelOf reads it back.
  const tally: Record<string, number> = {}
  for (const l of lines) tally[levelOf(l.msg)] = (tally[levelOf(l.msg)] ?? 0) + 1
  assert.deepEqual(tally, Object.fromEntries(Object.entries(m.levels).filter(([, n]) => n > 0)))
  for (const re of [/^\{"level":"/, /^ts=\S+ level=/, /^\d{4}-\d\d-\d\d \S+ (INFO|WARN|ERROR|DEBUG) /, /^[IWE]\d{4} /]) assert.ok(lines.some((l) => re.test(l.msg)), `no line like ${re}`)
  assert.equal(JSON.stringify(readManifest(dir.path, SPEC)), JSON.stringify(m))
  assert.equal(readManifest(dir.path, { ...SPEC, seed: 21 }), null, 'another seed is another corpus')
})

test('the corpus follows from its seed', (t) => {
  const a = tempDir('daytwo-query-corpus-')
  const b = tempDir('daytwo-query-corpus-')
  t.after(() => { a.cleanup(); b.cleanup() })
  const spec = { ...SPEC, lines: 3000 }
  const x = writeQueryCorpus(a.path, spec)
  const y = writeQueryCorpus(b.path, spec)
  assert.deepEqual(x.files.map((f) => readFileSync(f.path, 'utf8')), y.files.map((f) => readFileSync(f.path, 'utf8')))
  const z = writeQueryCorpus(b.path, { ...spec, seed: 99 })
  assert.notDeepEqual(x.files.map((f) => f.pod), z.files.map((f) => f.pod))
})

test('answers: grep, tail and both APIs read into one shape; a wrong line, count or level is told', async (t) => {
  const dir = tempDir('daytwo-query-corpus-')
  t.after(() => dir.cleanup())
  const m = writeQueryCorpus(dir.path, { ...SPEC, lines: 5000 })
  const lines = allLines(m)
  const shopFiles = m.files.filter((f) => f.namespace === 'shop').map((f) => f.path)
  const brute = (keep: (l: typeof lines[number]) => boolean, limit: number) => linesAnswer(lines.filter(keep).map((l) => [l.ns, l.msg]), limit)
  const needle = brute((l) => l.file.namespace === 'shop' && l.msg.includes(COMMON), 50)
  // grep and tail over the raw files give what a pass over every line gives.
  const g = await runGrep(['-hF', COMMON, ...shopFiles])
  assert.deepEqual(grepLines(g.stdout, 50), needle)
  assert.equal(grepCount((await runGrep(['-chF', COMMON, ...shopFiles])).stdout), lines.filter((l) => l.file.namespace === 'shop' && l.msg.includes(COMMON)).length)
  assert.deepEqual(newestLines(shopFiles, 30), brute((l) => l.file.namespace === 'shop', 30))
  assert.equal(grepLines((await runGrep(['-hF', m.rare, ...m.files.map((f) => f.path)])).stdout, 100).kind, 'lines')

  // A Loki answer (streams split by level, any order) and a LogsQL answer of the same lines.
  const want = needle as Extract<Answer, { kind: 'lines' }>
  const half = Math.floor(want.lines.length / 2)
  const loki = { status: 'success', data: { resultType: 'streams', result: [{ stream: { level: 'warn' }, values: want.lines.slice(half) }, { stream: { level: 'error' }, values: want.lines.slice(0, half) }] } }
  assert.equal(difference(want, fromLoki(JSON.stringify(loki), 'lines')), null)
  const vl = want.lines.map(([ns, msg]) => JSON.stringify({ _time: new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().slice(0, 19) + '.' + (BigInt(ns) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '') + 'Z', _msg: msg })).join('\n') + '\n'
  assert.equal(difference(want, fromLogsQL(vl, 'lines')), null)

  // Wrong answers: a changed message, a changed time, one line missing, one count off, a level off.
  const changed = structuredClone(loki)
  changed.data.result[0]!.values[0]![1] += ' '
  assert.match(difference(want, fromLoki(JSON.stringify(changed), 'lines')) ?? '', /first difference/)
  const moved = structuredClone(loki)
  moved.data.result[1]!.values[0]![0] = String(BigInt(moved.data.result[1]!.values[0]![0]) + 1n)
  assert.notEqual(difference(want, fromLoki(JSON.stringify(moved), 'lines')), null)
  assert.match(difference(want, linesAnswer(want.lines.slice(1))) ?? '', /lines, expected/)
  const matrix = (level: string, values: Array<[number, string]>) => ({ metric: { level }, values })
  const vol = { status: 'success', data: { resultType: 'matrix', result: [matrix('info', [[1, '3'], [2, '4']]), matrix('warn', [[2, '1']])] } }
  assert.equal(difference({ kind: 'levels', counts: { info: 7, warn: 1 } }, fromLoki(JSON.stringify(vol), 'levels')), null)
  assert.match(difference({ kind: 'levels', counts: { info: 7, warn: 2 } }, fromLoki(JSON.stringify(vol), 'levels')) ?? '', /warn: 1, expected 2/)
  assert.match(difference({ kind: 'levels', counts: { info: 7, warn: 1, error: 1 } }, fromLoki(JSON.stringify(vol), 'levels')) ?? '', /error: 0, expected 1/)
  assert.equal(difference({ kind: 'count', n: 8 }, fromLoki(JSON.stringify(vol), 'count')), null)
  assert.notEqual(difference({ kind: 'count', n: 9 }, fromLogsQL('{"hits":"8"}\n', 'count')), null)
  assert.equal(difference({ kind: 'values', values: ['warn', 'info'] }, fromLoki('{"status":"success","data":["info","warn"]}', 'values')), null)
  assert.notEqual(difference({ kind: 'values', values: ['info', 'warn', 'error'] }, fromLogsQL('{"values":[{"value":"info","hits":1},{"value":"warn","hits":2}]}', 'values')), null)
  assert.throws(() => fromLoki('{"status":"error","error":"boom"}', 'lines'), /boom/)
})
