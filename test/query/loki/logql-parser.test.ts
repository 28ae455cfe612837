import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DaytwoError } from '../../../core/errors.js'
import { parseLogQL } from '../../../query/loki/parser.js'
import { repoRoot } from '../../helpers/repo.js'

function fixture (name: string): string[] {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', 'loki', name), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))
}

test('every query Grafana and the LogQL docs use (accepted list) parses', () => {
  const queries = fixture('logql-accepted.txt')
  assert.ok(queries.length >= 20)
  for (const q of queries) assert.doesNotThrow(() => parseLogQL(q), q)
})

test('malformed and unsupported LogQL is refused with a 400 that says which', () => {
  const rows = fixture('logql-refused.txt')
  assert.ok(rows.length >= 20)
  for (const row of rows) {
    const [q, kind, part] = row.split('\t') as [string, string, string]
    assert.throws(() => parseLogQL(q), (err: unknown) => {
      assert.ok(err instanceof DaytwoError, `${q}: ${String(err)}`)
      assert.equal(err.statusCode, 400, q)
      assert.equal(err.code, kind === 'BAD' ? 'DAYTWO_ERR_BAD_LOGQL' : 'DAYTWO_ERR_UNSUPPORTED_LOGQL', `${q}: ${err.message}`)
      assert.ok(err.message.includes(part), `${q}: "${err.message}" should mention "${part}"`)
      return true
    }, q)
  }
})

test('a log query: matchers, line filters, parsers and label filters in order', () => {
  assert.deepEqual(parseLogQL('{deployment="cf", job=~"router|api"} |= "error" != `timeout` | json | status >= 500 and path="/x" | drop __error__'), {
    kind: 'log',
    matchers: [{ name: 'deployment', op: '=', value: 'cf' }, { name: 'job', op: '=~', value: 'router|api' }],
    stages: [
      { kind: 'line', op: '|=', value: 'error' },
      { kind: 'line', op: '!=', value: 'timeout' },
      { kind: 'json' },
      { kind: 'label', filters: [{ name: 'status', op: '>=', value: 500 }, { name: 'path', op: '=', value: '/x' }] },
      { kind: 'drop', names: ['__error__'] }
    ]
  })
})

test('metric queries: range functions, grouping before or after, arithmetic precedence', () => {
  const e = parseLogQL('sum(count_over_time({job="r"}[1m30s])) by (level) + vector(1) * 2')
  assert.deepEqual(e, {
    kind: 'binary',
    op: '+',
    left: { kind: 'agg', op: 'sum', grouping: { mode: 'by', labels: ['level'] }, expr: { kind: 'range', fn: 'count_over_time', log: { kind: 'log', matchers: [{ name: 'job', op: '=', value: 'r' }], stages: [] }, rangeNs: 90_000_000_000n } },
    right: { kind: 'binary', op: '*', left: { kind: 'vector', value: 1 }, right: { kind: 'number', value: 2 } }
  })
  assert.deepEqual(parseLogQL('vector(1)+vector(1)'), { kind: 'binary', op: '+', left: { kind: 'vector', value: 1 }, right: { kind: 'vector', value: 1 } })
})

test('strings: Go escapes in double quotes, nothing escaped in backticks', () => {
  const e = parseLogQL('{job="a\\"b"} |= "tab\\there" |= `c:\\dir`')
  assert.equal(e.kind, 'log')
  if (e.kind !== 'log') return
  assert.equal(e.matchers[0]!.value, 'a"b')
  assert.deepEqual(e.stages.map((s) => s.kind === 'line' ? s.value : ''), ['tab\there', 'c:\\dir'])
})

test('error positions count lines and columns like Loki', () => {
  assert.throws(() => parseLogQL('{job="a"}\n  |= nope'), /parse error at line 2, col 6/)
})
