import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RE2JS } from 're2js'
import { compileRegex, literalOf, requiredLiterals } from '../../core/regex.js'
import { DaytwoError } from '../../core/errors.js'

// compileRegex takes shortcuts (indexOf for literals, a literal screen before the regex):
// they must never change an answer. Every pattern here is checked against re2js run plainly.
const PATTERNS = [
  'error', 'GET /api\\.v1', 'a.b', '(?i)error', 'status=5\\d\\d', 'users/(12|34)\\b', 'took [0-9]{3}ms',
  'ab+c', 'ab*c', 'ab?c', 'a{0}b', 'a{2}b', 'a{0,2}bc', 'x(y|z)w', 'a|b', '^abc', 'abc$', 'a\\sb', '[]a]b',
  '[^]a]bc', '(?i)ab(?-i)cd', 'ab(?i)cd', 'a(?i:b)c', 'a\\pLb', 'a\\x41b', 'a\\Qb.c\\Ed', 'é+x', '日本', '😀x',
  'a+?b', 'a*?bc', 'a[[:digit:]]b', '', '.*', '\\.', 'a\\|b', 'ab\\*', '(?s)a.b', 'a\\nb', 'K', '(?i)k'
]
const LINES = [
  '', 'error', 'ERROR at line 3', 'GET /api.v1/x', 'GET /apiXv1', 'status=503 ok', 'status=200', 'users/12 ', 'users/123',
  'took 123ms', 'took 12ms', 'ac', 'abc', 'abbbc', 'bc', 'b', 'aab', 'xyw', 'xzw', 'xw', 'a b', ']b', 'a]b', 'xbc', 'abCD',
  'abcd', 'aBc', 'aéb', 'aAb', 'ab.cd', 'éééx', '日本語', 'a😀x', '😀x', 'aaab', 'a5b', 'a\nb', '.', 'a|b', 'ab*', 'K',
  '\u212a', 'k', 'abcdef', 'aXb'
]

function reference (src: string, anchored: boolean): (s: string) => boolean {
  const re = RE2JS.compile(src)
  return anchored ? (s) => re.testExact(s) : (s) => re.test(s)
}

test('shortcuts never change an answer: same result as re2js, anchored and not', () => {
  for (const p of PATTERNS) {
    for (const anchored of [false, true]) {
      const ours = compileRegex(p, anchored)
      const ref = reference(p, anchored)
      for (const line of LINES) {
        assert.equal(ours.test(line), ref(line), `${JSON.stringify(p)} ${anchored ? 'anchored' : 'unanchored'} on ${JSON.stringify(line)}`)
        // Embedded in longer text, unanchored patterns must find it too.
        if (!anchored) assert.equal(ours.test(`xx ${line} yy`), ref(`xx ${line} yy`), `${JSON.stringify(p)} within ${JSON.stringify(line)}`)
      }
    }
  }
})

test('literalOf: the exact string of a plain literal, null for anything else', () => {
  assert.equal(literalOf('error'), 'error')
  assert.equal(literalOf('GET /api\\.v1'), 'GET /api.v1')
  assert.equal(literalOf('a\\*b\\\\c'), 'a*b\\c')
  assert.equal(literalOf('日本'), '日本')
  for (const p of ['a.b', '(?i)error', 'a+', 'a|b', '\\d', '\\Qa\\E', '[a]', '^a', 'a$', 'a{2}', '😀']) assert.equal(literalOf(p), null, p)
})

test('requiredLiterals: substrings every match contains, nothing when unsure', () => {
  assert.deepEqual(requiredLiterals('status=5\\d\\d'), ['status=5'])
  assert.deepEqual(requiredLiterals('users/(12|34)\\b'), ['users/'])
  assert.deepEqual(requiredLiterals('took [0-9]{3}ms'), ['took ', 'ms'])
  assert.deepEqual(requiredLiterals('ab*c'), ['a', 'c'])
  assert.deepEqual(requiredLiterals('ab+c'), ['ab', 'c'])
  assert.deepEqual(requiredLiterals('ab{0,2}cd'), ['a', 'cd'])
  assert.deepEqual(requiredLiterals('a|b'), [])
  assert.deepEqual(requiredLiterals('(?i)error'), [])
  assert.deepEqual(requiredLiterals('ab(?i)cd'), ['ab'])
  assert.deepEqual(requiredLiterals('x\\pLy'), ['x'])
})

test('RE2 syntax: (?i), (?P<name>…) and flags work; backreferences, lookaround and huge repeats are refused as Loki refuses them', () => {
  assert.equal(compileRegex('(?i)ERROR', false).test('an error here'), true)
  assert.equal(compileRegex('(?P<code>5\\d\\d)', true).test('503'), true)
  assert.equal(compileRegex('(?s)a.b', false).test('a\nb'), true)
  assert.equal(compileRegex('a.b', false).test('a\nb'), false)
  for (const [p, why] of [['(?=a*a*b)', 'lookahead'], ['x(?<!y)', 'lookbehind'], ['(a)\\1*\\1*b', 'backreferences'], ['a{0,3000}a{0,3000}b', 'invalid repeat count'], ['[', 'missing closing ]'], ['(a|b)'.repeat(500), 'pattern too large']]) {
    assert.throws(() => compileRegex(p!, false), (err: unknown) => err instanceof DaytwoError && err.code === 'DAYTWO_ERR_BAD_LOGQL' && err.message.includes(why!), p)
  }
})

test('linear time: patterns that backtrack for seconds on V8 answer on a 30 000-character line', () => {
  const line = 'a'.repeat(30000)
  const json = `{"level":"info","msg":"${'x'.repeat(2000)}"}`
  // Run a few times each; any exponential or cubic behaviour would take minutes, not milliseconds.
  for (const [p, input, want] of [['(?i)a*a*b', line, false], ['(a+)+$', line, true], ['(a|aa)+b', line, false], ['.*.*.*#', json, false], ['(.*a){30}', line, true]] as const) {
    const re = compileRegex(p, false)
    for (let i = 0; i < 3; i++) assert.equal(re.test(input), want, p)
  }
})
