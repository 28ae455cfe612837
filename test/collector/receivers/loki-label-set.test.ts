import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLabelSet } from '../../../collector/receivers/loki/label-set.js'

// The label sets of Loki protobuf pushes: Prometheus' labels.String() (values quoted by Go's
// strconv.Quote), as Promtail and Alloy write them, and the looser forms Loki's parser takes.

test('label sets: Go-quoted values, spacing, backticks, quoted names', () => {
  assert.deepEqual(parseLabelSet('{}'), {})
  assert.deepEqual(parseLabelSet('{app="cart", pod="cart-1"}'), { app: 'cart', pod: 'cart-1' })
  assert.deepEqual(parseLabelSet(' { app = "cart" ,pod="x" , } '), { app: 'cart', pod: 'x' })
  // strconv.Quote's escapes: \a \v, \x for bytes of invalid UTF-8 (here a valid sequence split in bytes), \u, \U, octal.
  assert.deepEqual(parseLabelSet('{m="q\\"b\\\\s\\n\\t\\a\\v", x="\\xc3\\xa9", u="\\u00e9\\U0001F600", o="\\101"}'), { m: 'q"b\\s\n\t\x07\v', x: 'é', u: 'é😀', o: 'A' })
  assert.deepEqual(parseLabelSet('{raw=`a\\nb"c`}'), { raw: 'a\\nb"c' })
  assert.deepEqual(parseLabelSet('{"service.name"="api"}'), { 'service.name': 'api' })
})

test('label sets: what is wrong is said, with where', () => {
  const bad: Array<[string, RegExp]> = [
    ['app="x"', /expected \{ at character 0/],
    ['{app="x"', /expected , or \}/],
    ['{app="x}', /unterminated string/],
    ['{1app="x"}', /expected a label name at character 1/],
    ['{app=x}', /expected a quoted value for app/],
    ['{app="\\q"}', /unknown escape \\q/],
    ['{app="\\xZZ"}', /bad byte escape/],
    ['{app="\\U00110000"}', /bad unicode escape/],
    ['{app="x"} extra', /text after \}/]
  ]
  for (const [text, why] of bad) assert.throws(() => parseLabelSet(text), why, text)
})
