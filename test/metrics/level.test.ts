import assert from 'node:assert/strict'
import { test } from 'node:test'
import { detectLevel, syslogSeverity } from '../../forwarder/node-metrics/level.js'

const vectors: Array<[string, string]> = [
  ['{"level":"error","msg":"x"}', 'error'],
  ['{"level":50,"time":1,"msg":"pino"}', 'error'],
  ['{"level":30,"msg":"pino info"}', 'info'],
  ['{"severity":"WARNING","message":"gcp"}', 'warn'],
  ['{"ts":1,"lvl":"debug"}', 'debug'],
  ['ts=2024-01-01T00:00:00Z level=warn msg="slow"', 'warn'],
  ['time="2024" level=error msg=boom', 'error'],
  ['ERROR could not connect', 'error'],
  ['[WARN] disk almost full', 'warn'],
  ['2024-05-01T10:00:00Z INFO started', 'info'],
  ['[2026-01-02 03:04:05.123] ERROR --- token store', 'error'],
  ['E0501 10:00:00.000000       1 main.go:1] failed', 'error'],
  ['W0501 10:00:00.000000       1 main.go:1] careful', 'warn'],
  ['I0501 10:00:00.000000       1 main.go:1] fine', 'info'],
  ['FATAL out of memory', 'fatal'],
  ['plain line without a level', 'unknown'],
  ['an ERRORLESS word is not a level', 'unknown'],
  ['', 'unknown']
]

test('detectLevel finds JSON, logfmt, prefix and klog levels', () => {
  for (const [line, level] of vectors) assert.equal(detectLevel(line), level, line)
})

test('syslog severities map to levels (RFC 5424 numbers and keywords)', () => {
  assert.deepEqual(['0', '2', '3', '4', '5', '6', '7'].map(syslogSeverity), ['fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'])
  assert.equal(syslogSeverity('warning'), 'warn')
  assert.equal(syslogSeverity('err'), 'error')
})
