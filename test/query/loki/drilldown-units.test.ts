import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isLogExpr } from '../../../query/loki/ast.js'
import { categorizedData, categorizeLines, splitLabels, wantsCategorizedLabels } from '../../../query/loki/categorize-labels.js'
import { Drain } from '../../../query/loki/drilldown/drain.js'
import type { StreamResult } from '../../../query/loki/log-query.js'
import { detectFields, fieldValues } from '../../../query/loki/drilldown/field-detection.js'
import { displayValue, fieldType } from '../../../query/loki/drilldown/field-types.js'
import { detectLogFormat, tokenizerFor } from '../../../query/loki/drilldown/pattern-tokenizers.js'
import { bySteps } from '../../../query/loki/drilldown/patterns.js'
import { serviceName } from '../../../query/loki/labels.js'
import { parseLogQL } from '../../../query/loki/parser.js'
import { compilePipeline, leadingJsonObject, patternMatcher } from '../../../query/loki/pipeline.js'
import type { StreamInfo } from '../../../store/log-store.js'

// The stages behind the Drilldown endpoints and the categorize-labels answer, each against
// the behaviour of the Loki code it follows (cited per test).

function run (query: string, line: string, labels: Record<string, string> = { job: 'router' }) {
  const e = parseLogQL(query)
  assert.ok(isLogExpr(e))
  return compilePipeline(e.stages, new Set(Object.keys(labels)))(line, labels)
}

// Loki's JSONParser (pkg/logql/log/parser.go) walks the first object with jsonparser.ObjectEach
// and ignores what follows it.
test('| json reads the leading object of a line followed by text; an incomplete object is an error', () => {
  assert.deepEqual(run('{job="router"} | json', '{"status":500,"msg":"a } in a string"} GET /v2/info took 3ms'),
    { job: 'router', status: '500', msg: 'a } in a string' })
  assert.deepEqual(run('{job="router"} | json', '  {"a":{"b":[1,2]}}{"second":1}'), { job: 'router', a_b: '[1,2]' })
  assert.equal(run('{job="router"} | json', '{"a":"unterminated} tail')?.__error__, 'JSONParserErr')
  assert.equal(run('{job="router"} | json', 'text {"a":1}')?.__error__, 'JSONParserErr')
  assert.equal(run('{job="router"} | json', '["not", "an object"]')?.__error__, 'JSONParserErr')
  assert.deepEqual(leadingJsonObject('{"esc":"q\\"}"} rest'), { esc: 'q"}' })
})

// Loki's logfmt decoder stops at a `"` where a key should be: a JSON line is not logfmt.
test('| logfmt marks a JSON line as an error instead of inventing keys from it', () => {
  assert.deepEqual(run('{job="router"} | logfmt', '{"level":"info","msg":"x"}'), { job: 'router', __error__: 'LogfmtParserErr' })
  assert.deepEqual(run('{job="router"} | logfmt', 'a=1 b="two words"'), { job: 'router', a: '1', b: 'two words' })
  assert.equal(run('{job="router"} | logfmt', 'a=b"c')?.__error__, 'LogfmtParserErr')
})

// pkg/querier/queryrange/detected_fields.go determineType: ParseInt, ParseFloat, ParseBool,
// time.ParseDuration, humanize.ParseBytes, in that order.
test('field types in Loki order, and byte sizes shown as Loki lists them', () => {
  const cases: Array<[string, string]> = [
    ['200', 'int'], ['-3', 'int'], ['1.5', 'float'], ['1e3', 'float'], ['NaN', 'float'], ['true', 'boolean'], ['F', 'boolean'],
    ['150ms', 'duration'], ['1h30m', 'duration'], ['10MB', 'bytes'], ['5 KiB', 'bytes'], ['GET', 'string'], ['/v2/info', 'string'], ['9223372036854775808', 'float']
  ]
  for (const [v, t] of cases) assert.equal(fieldType(v), t, v)
  assert.equal(displayValue('1536KiB'), '1.6MB')
  assert.equal(displayValue('10 MB'), '10MB')
  assert.equal(displayValue('512b'), '512B')
  assert.equal(displayValue('GET'), 'GET')
})

test('detected fields: json first, logfmt for the rest, parsers, jsonPath, cardinality; values with their bytes form', () => {
  const streams: StreamResult[] = [
    { stream: { job: 'router', level: 'info' }, values: [['3', '{"status":200,"req":{"path":"/a"},"size":"2KiB"} trailer'], ['2', '{"status":500,"req":{"path":"/b"},"size":"1536KiB"}']] },
    { stream: { job: 'router', level: 'warn', status: '1' }, values: [['1', 'status=404 took=1.5s job=x'], ['0', 'plain words only']] }
  ]
  const base = new Set(['job', 'level'])
  const fields = detectFields(streams, base, 1000)
  assert.deepEqual(fields, [
    { label: 'job_extracted', type: 'string', cardinality: 1, parsers: ['logfmt'] },
    { label: 'req_path', type: 'string', cardinality: 2, parsers: ['json'], jsonPath: ['req', 'path'] },
    { label: 'size', type: 'bytes', cardinality: 2, parsers: ['json'], jsonPath: ['size'] },
    { label: 'status', type: 'int', cardinality: 4, parsers: ['json', 'logfmt'], jsonPath: ['status'] },
    { label: 'took', type: 'duration', cardinality: 1, parsers: ['logfmt'] }
  ])
  assert.equal(detectFields(streams, base, 2).length, 2)
  assert.deepEqual(fieldValues(streams, base, 'size', 1000), ['1.6MB', '2.0kB'])
  assert.deepEqual(fieldValues(streams, base, 'status', 1000), ['1', '200', '404', '500'])
})

function train (lines: string[], format = detectLogFormat(lines[0]!)) {
  const d = new Drain(tokenizerFor(format))
  lines.forEach((l, i) => d.train(l, 1_700_000_000_000 + i * 1000))
  return d.all().map((c) => [d.pattern(c), c.size])
}

// pkg/pattern/drain: the punctuation, logfmt and JSON tokenizers and the cluster template.
test('Drain clusters lines into <_> patterns per format, as Loki\'s pattern ingester', () => {
  assert.deepEqual(train(['ERROR upstream timeout after 0s', 'ERROR upstream timeout after 1s', 'ERROR upstream timeout after 12s', 'WARN disk 80% full on /var/vcap/store']),
    [['ERROR upstream timeout after <_>', 3], ['WARN disk 80% full on /var/vcap/store', 1]])
  assert.deepEqual(train(['level=warn msg="slow request" duration_ms=1500 ts=1', 'level=warn msg="slow request" duration_ms=2500 ts=2']),
    [['level=warn msg="slow request" duration_ms=<_> ts=<_>', 2]])
  assert.deepEqual(train(['{"msg":"user 12 logged in from 10.0.0.1"}', '{"msg":"user 7 logged in from 10.0.0.2"}'], 'json'),
    [['<_>user <_> logged in from <_>', 2]])
  // Fewer than four tokens are not clustered.
  assert.deepEqual(train(['started', 'stopped now']), [])
})

test('pattern samples: 10 s samples as counts per step, zero steps between', () => {
  const s = new Map([[0, 2], [10_000, 1], [130_000, 4]])
  assert.deepEqual(bySteps(s, 60_000), [[0, 3], [60, 0], [120, 4]])
  assert.deepEqual(bySteps(s, 10_000), [[0, 2], [10, 1], [130, 4]])
})

function info (over: Partial<StreamInfo>): StreamInfo {
  return { id: 'x', source: 'file', node: 'n', deployment: 'cf', job: 'router', index: '0', process: 'router', path: '/p', firstSeenNs: '0', lastTsNs: '0', lines: 0, bytes: 0, ...over }
}

test('service_name: an explicit label, the app, the Kubernetes name label, the container, then the job', () => {
  assert.equal(serviceName(info({ labels: { service_name: 'svc' }, app: 'a', container: 'c' })), 'svc')
  assert.equal(serviceName(info({ app: 'a', container: 'c' })), 'a')
  assert.equal(serviceName(info({ labels: { 'app.kubernetes.io/name': 'k' }, container: 'c' })), 'k')
  assert.equal(serviceName(info({ container: 'c' })), 'c')
  assert.equal(serviceName(info({ labels: { app_name: '-' } })), 'router')
  assert.equal(serviceName(info({ job: '' })), 'unknown_service')
})

// Loki pkg/util/marshal/query.go encodeStream with FlagCategorizeLabels.
test('categorize-labels: streams by stream labels only, metadata and parsed labels per value', () => {
  assert.equal(wantsCategorizedLabels('categorize-labels'), true)
  assert.equal(wantsCategorizedLabels('other, Categorize-Labels'), true)
  assert.equal(wantsCategorizedLabels(undefined), false)
  const stream = { job: 'router', level: 'info' }
  const out = categorizeLines([
    { ts: '2', line: 'a', stream, attributes: { severity: 'info', 'sd.origin@1.ip': '10.0.0.1' }, parsed: { status: '200' } },
    { ts: '1', line: 'b', stream: { level: 'info', job: 'router' }, podLabels: { 'app.kubernetes.io/name': 'router' } },
    { ts: '0', line: 'c', stream: { job: 'api', level: 'info' } }
  ])
  assert.deepEqual(out, [
    { stream: { job: 'router', level: 'info' }, values: [['2', 'a', { structuredMetadata: { sd_origin_1_ip: '10.0.0.1', severity: 'info' }, parsed: { status: '200' } }], ['1', 'b', { structuredMetadata: { app_kubernetes_io_name: 'router' } }]] },
    { stream: { job: 'api', level: 'info' }, values: [['0', 'c', {}]] }
  ])
  assert.deepEqual(splitLabels({ job: 'r', level: 'warn', detected_level: 'warn', status: '500', __error__: 'JSONParserErr' }, new Set(['job', 'level']), new Set(['detected_level'])),
    { stream: { job: 'r', level: 'warn' }, metadata: { detected_level: 'warn' }, parsed: { status: '500', __error__: 'JSONParserErr' } })
  assert.deepEqual(categorizedData([], { s: 1 }), { resultType: 'streams', encodingFlags: ['categorize-labels'], result: [], stats: { s: 1 } })
})

// Loki's pattern filters (`|>`, `!>`; logs-drilldown src/services/renderPatternFilters.ts writes
// them), matched as pkg/logql/log/pattern does: a leading literal anchors, literals in order.
test('pattern filters |> (any of, with or) and !> (none of) keep or drop lines by pattern', () => {
  const m = patternMatcher('ERROR upstream timeout after <_>')
  assert.equal(m('ERROR upstream timeout after 3s'), true)
  assert.equal(m('WARN ERROR upstream timeout after 3s'), false)
  assert.equal(patternMatcher('<_> took <_>ms')('GET /x took 12ms'), true)
  assert.equal(patternMatcher('<_> took <_>ms')('GET /x took 12s'), false)
  assert.equal(patternMatcher('<_> b <_> a')('x a y b z'), false, 'literals in order')
  assert.equal(patternMatcher('<_>user <_> logged in<_>')('{"msg":"user 7 logged in"}'), true)
  const line = 'level=warn msg="slow request" duration_ms=1500'
  assert.notEqual(run('{job="router"} |> "level=warn msg=\\"slow request\\" duration_ms=<_>"', line), null)
  assert.notEqual(run('{job="router"} |> "nothing <_>" or "level=<_> msg=<_>"', line), null)
  assert.equal(run('{job="router"} !> "level=warn <_>" |= "slow"', line), null)
  assert.notEqual(run('{job="router"} !> "ERROR <_>" !> "INFO <_>" | logfmt', line), null)
  assert.throws(() => parseLogQL('{job="router"} !> "a" or "b"'), /`or` in !> filters/)
})
