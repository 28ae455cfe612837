import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LEVELS, detectLevel, detectLevelBytes, levelIndex, syslogSeverityLevel } from '../../core/level.js'

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
  ['{"level":60,"msg":"pino fatal"}', 'fatal'],
  ['F0501 10:00:00.000000       1 main.go:1] dead', 'fatal'],
  ['CRITICAL disk failed', 'critical'],
  ['level=crit msg=x', 'critical'],
  ['{"level":"panic"}', 'fatal'],
  ['plain line without a level', 'unknown'],
  ['an ERRORLESS word is not a level', 'unknown'],
  ['', 'unknown']
]

test('detectLevel finds JSON, logfmt, prefix and klog levels', () => {
  for (const [line, level] of vectors) assert.equal(detectLevel(line), level, line)
})

test('syslog severities map to levels (RFC 5424 numbers and keywords)', () => {
  assert.deepEqual(['0', '1', '2', '3', '4', '5', '6', '7'].map(syslogSeverityLevel), ['critical', 'critical', 'critical', 'error', 'warn', 'info', 'info', 'debug'])
  // The keywords the syslog source writes into the `severity` attribute, in severity order.
  assert.deepEqual(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'].map(syslogSeverityLevel), ['critical', 'critical', 'critical', 'error', 'warn', 'info', 'info', 'debug'])
  assert.equal(syslogSeverityLevel('8'), 'unknown')
  assert.equal(syslogSeverityLevel('nonsense'), 'unknown')
})

test('levels are Loki\'s detected_level names, unknown first; levelIndex finds them', () => {
  assert.deepEqual([...LEVELS].sort(), ['critical', 'debug', 'error', 'fatal', 'info', 'trace', 'unknown', 'warn'])
  assert.equal(LEVELS[0], 'unknown')
  for (const [i, l] of LEVELS.entries()) assert.equal(levelIndex(l), i)
  assert.equal(levelIndex('warning'), -1)
})

// detectLevelBytes (the tailer's direct way) must say what detectLevel says, for any line.
const PIECES = ['{', '}', '"', '"level"', '"lvl"', '"severity"', '"log.level"', '"loglevel"', ':', ' : ', '"error"', '"Warn"', '"info"', '50', '30', '"x"', ',',
  'level=', 'lvl=', 'severity=', '="', 'warn', 'ERROR', 'ERR', 'ERRORS', 'WARNING', 'WARN', 'Warn', 'Info', 'Debug', 'TRACE', 'CRITICAL', 'CRIT', 'NOTICE',
  ' ', '\t', '[', ']', '<', '>', '|', '(', ')', '-', '=', 'x', 'abc', 'I0501 10:00:00.000000', 'E1231 23:59:59', 'W0501 1:00:00', '\u00a0', 'é', '✓', '\u2003', '0', '9']

function generated (n: number): string[] {
  let seed = 42
  const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return (seed >>> 8) % k }
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    let s = ''
    const parts = 1 + rnd(12)
    for (let k = 0; k < parts; k++) s += PIECES[rnd(PIECES.length)]!
    // Some lines put the interesting part past the 80- and 256-character heads.
    if (rnd(8) === 0) s = 'y'.repeat(70 + rnd(200)) + s
    out.push(s)
  }
  return out
}

test('detectLevelBytes agrees with detectLevel on vectors and 20 000 generated lines, also inside a larger buffer', () => {
  const lines = [...vectors.map(([l]) => l), ...generated(20000)]
  let found = 0
  for (const line of lines) {
    const want = detectLevel(line)
    if (want !== 'unknown') found++
    const alone = Buffer.from(line)
    assert.equal(detectLevelBytes(alone, 0, alone.length), want, JSON.stringify(line))
    // As the tailer sees it: a range of a read buffer with other lines around it.
    const framed = Buffer.from('ERROR before\n' + line + '\nWARN after')
    assert.equal(detectLevelBytes(framed, 13, 13 + alone.length), want, JSON.stringify(line))
    // With the tailer's hint that the line is ASCII (given only when it is).
    if (/^[\x00-\x7f]*$/.test(line)) assert.equal(detectLevelBytes(framed, 13, 13 + alone.length, true), want, JSON.stringify(line))
  }
  assert.ok(found > 2000, `the generated lines exercise the detectors (${found} with a level)`)
})
