import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isLogExpr } from '../../../query/loki/ast.js'
import { detectLevel } from '../../../query/loki/labels.js'
import { parseLogQL } from '../../../query/loki/parser.js'
import { compilePipeline } from '../../../query/loki/pipeline.js'

test('level is detected from JSON, logfmt and common prefixes, else unknown', () => {
  const cases: Array<[string, string]> = [
    ['{"level":"error","msg":"x"}', 'error'],
    ['{"ts":1,"lvl":"WARN"}', 'warn'],
    ['{"severity":"Information"}', 'info'],
    ['ts=2026-11-23T10:00:00Z level=debug msg="cache miss"', 'debug'],
    ['level="warning" msg=slow', 'warn'],
    ['ERROR upstream timeout', 'error'],
    ['[WARN] disk almost full', 'warn'],
    ['2026-11-23 10:00:00.123 INFO  started in 3s', 'info'],
    ['2026/11/23 10:00:00 [nats] FATAL: cannot bind', 'fatal'], // Loki's detected_level keeps fatal apart from critical
    ['panic: runtime error', 'unknown'],
    ['GET /v2/info 200', 'unknown'],
    ['an error happened here', 'unknown'],
    ['', 'unknown']
  ]
  for (const [line, level] of cases) assert.equal(detectLevel(line), level, line)
})

function run (query: string, line: string, labels: Record<string, string> = { job: 'router' }) {
  const e = parseLogQL(query)
  assert.ok(isLogExpr(e))
  return compilePipeline(e.stages, new Set(Object.keys(labels)))(line, labels)
}

test('json flattens nested keys, renames keys that collide with stream labels, and marks non-JSON', () => {
  assert.deepEqual(run('{job="router"} | json', '{"status":500,"req":{"path":"/x","ms":1.5},"job":"inner"}'),
    { job: 'router', status: '500', req_path: '/x', req_ms: '1.5', job_extracted: 'inner' })
  assert.equal(run('{job="router"} | json', 'not json')?.__error__, 'JSONParserErr')
  assert.equal(run('{job="router"} | json | __error__=""', 'not json'), null)
  assert.deepEqual(run('{job="router"} | json | drop __error__', 'not json'), { job: 'router' })
})

test('logfmt with quoted values; numeric label filters', () => {
  assert.deepEqual(run('{job="router"} | logfmt', 'level=warn msg="slow \\"db\\"" duration_ms=1500 flag'),
    { job: 'router', level: 'warn', msg: 'slow "db"', duration_ms: '1500', flag: '' })
  assert.notEqual(run('{job="router"} | logfmt | duration_ms > 1000', 'duration_ms=1500'), null)
  assert.equal(run('{job="router"} | logfmt | duration_ms > 1000', 'duration_ms=999'), null)
  assert.equal(run('{job="router"} | logfmt | duration_ms > 1000', 'duration_ms=abc')?.__error__, 'LabelFilterErr')
})

test('line filters: contains, not contains, regex unanchored with (?i)', () => {
  assert.notEqual(run('{job="r"} |= "time" != "debug" |~ "(?i)UPSTREAM"', 'upstream timeout'), null)
  assert.equal(run('{job="r"} |= "time" != "debug"', 'debug timeout'), null)
  assert.equal(run('{job="r"} !~ "^GET"', 'GET /'), null)
})
