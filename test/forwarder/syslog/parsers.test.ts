import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseSyslog } from '../../../forwarder/sources/syslog/parse-syslog.js'
import { parseRfc3164 } from '../../../forwarder/sources/syslog/rfc3164.js'
import { parseRfc5424 } from '../../../forwarder/sources/syslog/rfc5424.js'
import { repoRoot } from '../../helpers/repo.js'

// Golden pairs: test/fixtures/syslog/<rfc>/<case>.txt (the bytes on the wire) beside
// <case>.json (the parsed message). The RFC 5424 §6.5 and RFC 3164 §5.4 examples are there
// verbatim. UPDATE_GOLDEN=1 rewrites the .json files; review the diff before committing.

const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'syslog')
/** RFC 3164 times have no year: they are read as the year nearest to this "now". */
const NOW_MS = Date.parse('2024-03-01T00:00:00Z')

for (const dir of ['rfc5424', 'rfc3164']) {
  for (const name of readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.txt')).sort()) {
    test(`${dir}/${name}`, () => {
      const text = readFileSync(join(FIXTURES, dir, name), 'utf8')
      const got = parseSyslog(text, { zone: 'UTC', nowMs: NOW_MS })
      const golden = join(FIXTURES, dir, name.replace(/\.txt$/, '.json'))
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, JSON.stringify(got, null, 2) + '\n')
      assert.ok(existsSync(golden), `missing golden file ${golden} (UPDATE_GOLDEN=1 writes it)`)
      assert.deepEqual(got, JSON.parse(readFileSync(golden, 'utf8')))
    })
  }
}

test('RFC 5424: the examples read as the RFC explains them', () => {
  const ex1 = parseRfc5424(readFileSync(join(FIXTURES, 'rfc5424', '6.5-example1.txt'), 'utf8'))!
  assert.equal(ex1.facility, 4) // auth
  assert.equal(ex1.severity, 2) // crit
  assert.equal(ex1.tsNs, '1065910455003000000')
  assert.equal(ex1.procId, '')
  assert.equal(ex1.msgId, 'ID47')
  assert.equal(ex1.message, "'su root' failed for lonvick on /dev/pts/8", 'the BOM is not part of MSG')
  const ex2 = parseRfc5424(readFileSync(join(FIXTURES, 'rfc5424', '6.5-example2.txt'), 'utf8'))!
  assert.equal(ex2.tsNs, '1061727255000003000', 'microseconds and a -07:00 offset')
  const ex4 = parseRfc5424(readFileSync(join(FIXTURES, 'rfc5424', '6.5-example4.txt'), 'utf8'))!
  assert.equal(ex4.message, '', 'no MSG part')
  assert.deepEqual(ex4.sd.map((e) => e.id), ['exampleSDID@32473', 'examplePriority@32473'])
})

test('RFC 5424: PARAM-VALUE escapes, nanoseconds', () => {
  const m = parseRfc5424(readFileSync(join(FIXTURES, 'rfc5424', 'escapes-and-nanoseconds.txt'), 'utf8'))!
  assert.deepEqual(m.sd[0]!.params, [['q', 'say "hi"'], ['b', 'back\\slash'], ['c', 'br]acket'], ['d', 'keep\\nthis']])
  assert.equal(m.tsNs, '1795424400123456789', '10:00+01:00 is 09:00Z, all nine digits kept')
})

test('RFC 5424: not 5424 at all gives null, a broken header is kept and flagged', () => {
  assert.equal(parseRfc5424('<13>Oct 11 22:14:15 host app: x'), null)
  assert.equal(parseRfc5424('no pri'), null)
  const bad = parseRfc5424('<13>1 2026-11-23T10:00:00Z host app - - [x a="1] tail')!
  assert.match(bad.malformed ?? '', /not closed/)
  assert.equal(bad.message, '1 2026-11-23T10:00:00Z host app - - [x a="1] tail')
  assert.match(parseRfc5424('<13>1 2026-11-23T10:00:00Z ' + 'h'.repeat(256) + ' app - - - m')!.malformed ?? '', /HOSTNAME is longer than 255/)
  const v2 = parseRfc5424('<13>2 - host app - - - m')!
  assert.equal(v2.malformed, undefined, 'a VERSION other than 1 is read with the same grammar (go-syslog)')
  assert.deepEqual([v2.hostname, v2.appName, v2.message], ['host', 'app', 'm'])
})

test('RFC 3164: the latest year at most a day ahead of now, the zone as configured, PRI bounds', () => {
  const dec = parseRfc3164('<13>Dec 31 23:59:59 h a: m', { zone: 'UTC', nowMs: Date.parse('2027-01-01T00:00:10Z') })
  assert.equal(dec.tsNs, String(Date.parse('2026-12-31T23:59:59Z') / 1000) + '000000000', 'December seen in January is last year')
  const jan = parseRfc3164('<13>Jan  1 00:00:01 h a: m', { zone: 'UTC', nowMs: Date.parse('2026-12-31T23:59:00Z') })
  assert.equal(jan.tsNs, String(Date.parse('2027-01-01T00:00:01Z') / 1000) + '000000000', 'early January seen on Dec 31 is next year')
  // Received on 2026-12-02, Mar 6 is this March, not next (a time from the future).
  const mar = parseRfc3164('<13>Mar  6 16:57:54 h a: m', { zone: 'UTC', nowMs: Date.parse('2026-12-02T10:00:00Z') })
  assert.equal(mar.tsNs, String(Date.parse('2026-03-06T16:57:54Z') / 1000) + '000000000')
  // Across the new year: a few hours ahead (a sender's clock or zone) is still this year's.
  const ahead = parseRfc3164('<13>Jan  1 05:00:00 h a: m', { zone: 'UTC', nowMs: Date.parse('2026-12-31T23:00:00Z') })
  assert.equal(ahead.tsNs, String(Date.parse('2027-01-01T05:00:00Z') / 1000) + '000000000')
  const twoDays = parseRfc3164('<13>Jan  2 00:00:00 h a: m', { zone: 'UTC', nowMs: Date.parse('2026-12-31T00:00:00Z') })
  assert.equal(twoDays.tsNs, String(Date.parse('2026-01-02T00:00:00Z') / 1000) + '000000000', 'two days ahead is last January')
  const leap = parseRfc3164('<13>Feb 29 12:00:00 h a: m', { zone: 'UTC', nowMs: Date.parse('2027-06-01T00:00:00Z') })
  assert.equal(leap.tsNs, String(Date.parse('2024-02-29T12:00:00Z') / 1000) + '000000000', 'Feb 29: the latest leap year')
  const off = parseRfc3164('<13>Nov 23 10:00:00 h a: m', { zone: '-07:00', nowMs: Date.parse('2026-11-23T17:00:00Z') })
  assert.equal(off.tsNs, String(Date.parse('2026-11-23T17:00:00Z') / 1000) + '000000000')
  for (const bad of ['<192>Nov 23 10:00:00 h a: m', '<013>Nov 23 10:00:00 h a: m', '<>x', '<1234>x']) {
    const m = parseRfc3164(bad, { zone: 'UTC', nowMs: NOW_MS })
    assert.equal(m.format, 'none', bad)
    assert.equal(m.message, bad, 'an invalid PRI is content')
    assert.equal(m.severity, 5)
  }
})
