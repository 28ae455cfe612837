import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DaytwoError } from '../../core/errors.js'
import { FramedBatch, RECORD_INDEX, decodeFrames, encodeEntries, encodeFrames, entriesOf, entryCount, entryFrame, messageBytes, streamFrame, tsBigInt } from '../../core/frames.js'
import type { Entry, StreamBatch, StreamTags } from '../../core/record.js'
import { decodeBatch, encodeBatch } from '../../core/wire.js'
import { EntryWriter } from '../../forwarder/entry-writer.js'
import { detectLevel, levelIndex, syslogSeverityLevel } from '../../core/level.js'
import { Rng } from '../helpers/faults.js'

/** The level a line's record index should hold, found the slow way: its entry's severity attribute, else its message. */
function levelOf (e: Entry): number {
  const severity = e[4]?.severity
  return levelIndex(typeof severity === 'string' ? syslogSeverityLevel(severity) : detectLevel(e[2]))
}

const TAGS: StreamTags = { id: 's1', source: 'file', node: 'n', deployment: 'd', job: 'j', index: '0', process: 'p', path: '/var/log/p.log' }

const TRICKY: Entry[] = [
  ['1795428000123456789', 0, 'plain', 'stdout'],
  ['1795428000123456790', 7, '{"level":"info","msg":"quotes \\" and \\\\ backslashes"}', 'stderr'],
  ['1795428000123456791', 9, 'a\nnewline, a \r CR, a \t tab and \u0000 NUL inside', ''],
  ['1795428000123456792', 10, '', 'stdout'],
  ['1795428000123456793', 2 ** 31 - 1, 'ünïcödé ✓ 𝄞 and E 1 2 3 4 5\n trying to look like a header', 'stdout'],
  ['1795428000123456794', 2 ** 31, 'S {"fake":"stream"}', 'stdout'],
  ['1795428000123456795', 2 ** 45 + 3, 'syslog', '', { facility: 'local0', severity: '3', 'sd.origin@1.ip': '10.0.0.1' }]
]

test('frames: what is encoded decodes to the same batch as NDJSON would, attributes and all', () => {
  const batch: StreamBatch[] = [{ stream: TAGS, entries: TRICKY }, { stream: { ...TAGS, id: 's2', labels: { a: 'b' } }, entries: [['5', 1, 'x', 'stdout']] }, { stream: { ...TAGS, id: 's3' }, entries: [] }]
  const decoded = plain(decodeFrames(encodeFrames(batch)))
  assert.deepEqual(decoded, batch)
  assert.deepEqual(decoded, decodeBatch(encodeBatch(batch)))
})

test('frames: the tailer\'s direct writes decode to what entryFrame would have said', () => {
  const w = new EntryWriter()
  w.stream(streamFrame(TAGS))
  const want: Entry[] = []
  for (const [i, off] of [0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 40 + 1].entries()) {
    const msg = Buffer.from(`line ${i} "quoted" ✓`)
    // A message inside a larger buffer, as in a read chunk.
    const chunk = Buffer.concat([Buffer.from('junk before\n'), msg, Buffer.from('\njunk after')])
    w.begin(msg.length)
    w.ascii('1795428000')
    w.raw(Buffer.from('x12345y'), 1, 6) // fractional digits taken from the line
    w.zeros(4)
    w.finish(off, i % 2 === 0 ? 'stdout' : '', chunk, 12, 12 + msg.length)
    want.push(['1795428000123450000', off, msg.toString(), i % 2 === 0 ? 'stdout' : ''])
  }
  w.entry(['1795428001000000000', 2 ** 41, 'general way', 'stderr', { k: 'v' }])
  want.push(['1795428001000000000', 2 ** 41, 'general way', 'stderr', { k: 'v' }])
  assert.equal(w.count, want.length)
  assert.deepEqual(plain(decodeFrames(w.bytes)), [{ stream: TAGS, entries: want }])
  assert.equal(Buffer.from(entryFrame(want[0]!)).toString(), w.bytes.toString().split('\n').slice(1, 3).join('\n') + '\n')
})

/** Decoded groups as plain objects, to compare with what was encoded. */
function plain (groups: StreamBatch[]): StreamBatch[] {
  return groups.map((g) => ({ stream: g.stream, entries: g.entries }))
}

test('frames: a decoded group keeps its records as they came, and counts them without parsing', () => {
  const other: Entry[] = [['5', 1, 'x', 'stdout'], ['6', 2, 'ÿ'.repeat(3), '']]
  const body = encodeFrames([{ stream: TAGS, entries: TRICKY }, { stream: { ...TAGS, id: 's2' }, entries: other }])
  const [a, b] = decodeFrames(body)
  assert.ok(a instanceof FramedBatch && b instanceof FramedBatch)
  // The records are the body's own bytes (no copy), exactly the E records of the group.
  assert.equal(a.frames.buffer, body.buffer)
  assert.deepEqual(a.frames, encodeEntries(TRICKY))
  assert.deepEqual(b.frames, encodeEntries(other))
  assert.equal(entryCount(a), TRICKY.length)
  assert.equal(messageBytes(a), TRICKY.reduce((n, e) => n + Buffer.byteLength(e[2]), 0))
  assert.equal(messageBytes(b), 1 + 6)
  // Plain batches are counted the same way.
  assert.equal(entryCount({ stream: TAGS, entries: other }), 2)
  assert.equal(messageBytes({ stream: TAGS, entries: other }), 7)
  assert.deepEqual(entriesOf(a.frames), TRICKY)
  // Entries are parsed once, on first use.
  assert.equal(a.entries, a.entries)
  // Re-encoding a decoded group gives the same body.
  assert.deepEqual(encodeFrames([a, b]), body)
})

function refusal (body: string | Buffer): string {
  try {
    decodeFrames(Buffer.isBuffer(body) ? body : Buffer.from(body))
  } catch (err) {
    assert.ok(err instanceof DaytwoError, `a DaytwoError, not ${String(err)}`)
    assert.equal(err.code, 'DAYTWO_ERR_BAD_BATCH')
    return err.message
  }
  assert.fail(`accepted: ${JSON.stringify(String(body))}`)
}

test('frames: each malformation is refused with a message that says what and where', () => {
  const s = streamFrame(TAGS).toString()
  const cases: Array<[string, RegExp]> = [
    ['X 1\n', /byte 0: expected "S " \(a stream\) or "E " \(an entry\)/],
    ['E 1 0 stdout 1 0\na\n', /an entry before any stream line/],
    ['S {"id":', /stream line has no newline/],
    ['S {"id":\n', /stream tags are not JSON/],
    ['S {"id":"x"}\n', /group 1: stream.node must be a string/],
    [s + 'E 1 0 stdout 5 0\nab\n', /not followed by a newline/],
    [s + 'E 1 0 stdout 1 0\nabc\n', /not followed by a newline/],
    [s + 'E 1 0 stdout 900719925474099 0\na\n', /not followed by a newline/],
    [s + 'E 1 0 stdout 9999999999999999 0\na\n', /message length is too large/],
    [s + 'E 1 0 stdout 99999999999999999 0\na\n', /message length missing or longer/],
    [s + 'E 1 x stdout 1 0\na\n', /offset must be a decimal number/],
    [s + 'E 1 -1 stdout 1 0\na\n', /offset must be a decimal number/],
    [s + 'E 1 0 stdout 1\na\n', /too few fields/],
    [s + 'E 1 0 stdout 1 2\na{x\n', /attributes are not JSON/],
    [s + 'E 1 0 stdout 1 2\na[]\n', /entries\[0\]\[4\] must be an object of strings/],
    [s + 'E abc 0 stdout 1 0\na\n', /entries\[0\]\[0\] must be Unix nanoseconds/],
    [s + 'E 99999999999999999999 0 stdout 1 0\na\n', /outside signed 64-bit nanoseconds/],
    [s + 'E 1 5 stdout 1 0\na\nE 2 5 stdout 1 0\nb\n', /offsets must increase within a group/],
    [s + 'E  0 stdout 1 0\na\n', /time missing/],
    [s + 'E 1 0 stdout 1 0 7\na\n', /attribute length must be a decimal number/],
    [s + 'E 1 0 std\x01out 1 0\na\n', /entries\[0\]\[3\] must be the stdio stream/],
    [s + 'E 1 0 std\xffout 1 0\na\n', /entries\[0\]\[3\] must be the stdio stream/],
    [s + 'E 1 0 stdout 1 0\na', /not followed by a newline/],
    [s + '\n', /expected "S "/]
  ]
  for (const [body, want] of cases) assert.match(refusal(body), want, JSON.stringify(body))
})

test('frames: 20 000 mutations of a valid body are decoded or refused with DAYTWO_ERR_BAD_BATCH, never anything else', () => {
  const r = new Rng(0xf4a3e5)
  const valid = encodeFrames([{ stream: TAGS, entries: TRICKY }, { stream: { ...TAGS, id: 's2' }, entries: [['5', 1, 'x', 'stdout']] }])
  let refused = 0
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.from(valid)
    let body: Buffer = b
    switch (r.int(5)) {
      case 0: for (let k = 0; k < 1 + r.int(4); k++) b[r.int(b.length)] = r.int(256); break
      case 1: body = b.subarray(0, r.int(b.length)); break
      case 2: { const at = r.int(b.length); body = Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(20)), b.subarray(at)]); break }
      case 3: { const at = r.int(b.length); body = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r.int(10))]); break }
      default: for (let k = 0; k < 1 + r.int(3); k++) b[r.int(b.length)] = r.pick([0x20, 0x0a, 0x30, 0x39, 0x2d, 0x45, 0x53, 0xff])
    }
    try {
      const out = decodeFrames(body)
      for (const g of out) for (const e of g.entries) assert.equal(typeof e[2], 'string')
    } catch (err) {
      assert.ok(err instanceof DaytwoError && err.code === 'DAYTWO_ERR_BAD_BATCH', `mutation ${i}: ${String(err)}`)
      refused++
    }
  }
  assert.ok(refused > 10000, `most mutations are refused (${refused})`)
})

test('frames: the record index agrees with the parsed entries, across groups and after the index grew', () => {
  const r = new Rng(0x1de8)
  const X = RECORD_INDEX
  const MAX = (1n << 63n) - 1n
  // Times of every shape the validator takes: beyond double precision, before 1970, zero and
  // minus zero, few digits, and 20 digits with leading zeros.
  const time = (): string => {
    switch (r.int(7)) {
      case 0: return String(1_800_000_000_000_000_000n + BigInt(r.int(1000)))
      case 1: return '-' + String(BigInt(r.int(2 ** 31)) * BigInt(r.int(2 ** 31)) + BigInt(r.int(1e9)))
      case 2: return r.pick(['0', '-0', '5', '-5', '999999999', '-999999999', '1000000000', '-1000000000', String(MAX), '-' + String(MAX + 1n)])
      case 3: return String(BigInt(r.int(1e9))).padStart(20, '0')
      case 4: return '-' + String(BigInt(r.int(2 ** 30)) * 1_000_000_000n + BigInt(r.int(1e9))).padStart(20, '0')
      case 5: return String(r.int(1e6))
      default: return String(1_795_428_000_000_000_000n + BigInt(r.int(2 ** 31)) * 1000n + BigInt(r.int(1000)))
    }
  }
  const many = (n: number, attrsEvery = 0): Entry[] => {
    const out: Entry[] = []
    let off = r.int(10)
    for (let i = 0; i < n; i++) {
      const msg = r.str(r.int(6), 'abc é✓\n"')
      const e: Entry = [time(), off, msg, r.pick(['stdout', 'stderr', ''])]
      if (attrsEvery > 0 && i % attrsEvery === 0) e.push({ severity: String(i % 8) })
      out.push(e)
      off += 1 + r.int(r.pick([1, 10, 2 ** 40]))
    }
    return out
  }
  const groups: StreamBatch[] = [
    { stream: TAGS, entries: TRICKY },
    { stream: { ...TAGS, id: 'empty' }, entries: [] },
    { stream: { ...TAGS, id: 'g3' }, entries: many(3000) },
    { stream: { ...TAGS, id: 'g4' }, entries: many(5, 2) },
    { stream: { ...TAGS, id: 'g5' }, entries: many(2500, 97) },
    { stream: { ...TAGS, id: 'g6' }, entries: [['-1', 0, '', '']] }
  ]
  const body = encodeFrames(groups)
  const total = groups.reduce((n, g) => n + g.entries.length, 0)
  // decodeFrames starts with room for 16 + body.length / 128 records: this body needs more.
  assert.ok(total > 16 + (body.length >>> 7), `${total} records in ${body.length} bytes make the index grow`)
  const decoded = decodeFrames(body)
  assert.equal(decoded.length, groups.length)
  for (const [gi, g] of decoded.entries()) {
    const want = groups[gi]!.entries
    assert.equal(g.count, want.length, `group ${gi}: count`)
    assert.equal(g.index.length, want.length * X.width, `group ${gi}: index length`)
    assert.deepEqual(g.entries, want, `group ${gi}: entries`)
    let start = 0
    let bytes = 0
    for (const [i, e] of want.entries()) {
      const k = i * X.width
      const at = `group ${gi}, record ${i} (${e[0]})`
      const record = Buffer.from(entryFrame(e))
      assert.equal(g.index[k + X.start], start, `${at}: start`)
      assert.ok(g.frames.subarray(start, start + record.length).equals(record), `${at}: the record's bytes are at start`)
      assert.equal(g.index[k + X.offset], e[1], `${at}: offset`)
      const hi = g.index[k + X.tsHi]!
      const lo = g.index[k + X.tsLo]!
      assert.ok(Number.isSafeInteger(hi) && Number.isSafeInteger(lo) && Math.abs(lo) < 1e9, `${at}: parts ${hi}, ${lo}`)
      assert.ok(!(hi > 0 && lo < 0) && !(hi < 0 && lo > 0), `${at}: the parts carry one sign (${hi}, ${lo})`)
      assert.equal(BigInt(hi) * 1_000_000_000n + BigInt(lo), BigInt(e[0]), `${at}: hi × 1e9 + lo`)
      assert.equal(tsBigInt({ hi, lo }), BigInt(e[0]), `${at}: tsBigInt`)
      assert.equal(g.index[k + X.msgLen], Buffer.byteLength(e[2]), `${at}: message length`)
      assert.equal(g.index[k + X.level], levelOf(e), `${at}: level`)
      const msgAt = g.index[k + X.msgAt]!
      assert.equal(g.frames.toString('utf8', start + msgAt, start + msgAt + Buffer.byteLength(e[2])), e[2], `${at}: the message is at msgAt`)
      assert.equal(g.index[k + X.stdio], ['', 'stdout', 'stderr'].indexOf(e[3]), `${at}: stdio`)
      start += record.length
      bytes += Buffer.byteLength(e[2])
    }
    assert.equal(start, g.frames.length, `group ${gi}: the records fill the frames`)
    assert.equal(g.bytes, bytes, `group ${gi}: bytes`)
  }
})

test('frames: each record\'s level is its severity attribute\'s as JSON.parse reads it, else its message\'s', () => {
  const rng = new Rng(41)
  // Attributes that name a severity in every way JSON allows, and some that only look like it.
  const texts = [
    '{"facility":"user","severity":"err"}', '{"severity" : "crit"}', '{"sev\\u0065rity":"alert"}', '{"severity":"err","severity":"debug"}',
    '{"sd.x.severity":"err"}', '{"msgid":"\\"severity\\":\\"err\\""}', '{"severity":"we\\u0069rd"}', '{"severity":"4"}', '{"a":"b"}', '{}'
  ]
  const parts = ['severity', 'sd.severity', '"', '\\', ':', 'err', 'x', ' ']
  for (let i = 0; i < 500; i++) {
    const o: Record<string, string> = {}
    for (let k = 0; k < rng.int(4); k++) o[Array.from({ length: 1 + rng.int(3) }, () => rng.pick(parts)).join('')] = Array.from({ length: rng.int(4) }, () => rng.pick(parts)).join('')
    texts.push(JSON.stringify(o))
  }
  const messages = ['{"level":"warn","msg":"x"}', '{"level":50}', 'level=debug msg=x', 'E0501 10:00:00.000000 1 x.go:1] boom', '[INFO] started', 'plain', 'FATAL gone', 'é ERROR after a non-ASCII byte']
  const entries: Entry[] = texts.map((text, i) => {
    const attrs = JSON.parse(text) as Record<string, string>
    const e: Entry = [String(1_800_000_000_000_000_000n + BigInt(i)), i, messages[i % messages.length]!, '']
    if (Object.keys(attrs).length > 0) e.push(attrs)
    return e
  })
  const [g] = decodeFrames(encodeFrames([{ stream: TAGS, entries }]))
  const X = RECORD_INDEX
  const seen = new Set<number>()
  for (const [i, e] of entries.entries()) {
    assert.equal(g!.index[i * X.width + X.level], levelOf(e), `entry ${i}: ${JSON.stringify(e)}`)
    seen.add(levelOf(e))
  }
  assert.ok(seen.size >= 6, `the entries cover most levels (${[...seen].join(', ')})`)
})
