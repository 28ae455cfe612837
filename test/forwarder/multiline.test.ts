import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MultilineJoiner, continuation, type Piece, type Preset } from '../../forwarder/formats/multiline.js'

function join (preset: Preset, lines: string[], start = ''): string[] {
  const j = new MultilineJoiner(continuation(preset, start), 500, 1 << 20, 1000)
  const out: Piece[] = []
  lines.forEach((message, i) => j.add({ ts: String(i), stdio: 'stdout', message, truncated: false, offset: i * 10, resume: i * 10 }, 0, out))
  j.flush(out)
  return out.map((p) => p.message)
}

test('Java stack traces become one record', () => {
  const lines = [
    '2026-11-23 10:00:00 ERROR request failed',
    'java.lang.IllegalStateException: boom',
    '\tat com.example.App.handle(App.java:42)',
    '\tat com.example.App.main(App.java:10)',
    'Caused by: java.io.IOException: disk',
    '\tat com.example.Disk.write(Disk.java:7)',
    '\t... 3 more',
    '2026-11-23 10:00:01 INFO next'
  ]
  // The exception's name line follows the message line unindented, as logback prints it.
  assert.deepEqual(join('java', lines), [lines.slice(0, 7).join('\n'), '2026-11-23 10:00:01 INFO next'])
})

test('Python tracebacks, chained, end at the exception line', () => {
  const lines = [
    'ERROR:root:failed',
    'Traceback (most recent call last):',
    '  File "app.py", line 3, in <module>',
    '    main()',
    'KeyError: \'x\'',
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    '  File "app.py", line 5, in <module>',
    'ValueError: bad',
    'INFO:root:next'
  ]
  const out = join('python', lines)
  assert.deepEqual(out, [lines.slice(0, 11).join('\n'), 'INFO:root:next'])
})

test('Go panics keep their goroutine dumps', () => {
  const lines = [
    'starting',
    'panic: runtime error: index out of range [3] with length 3',
    '',
    'goroutine 1 [running]:',
    'main.main()',
    '\t/app/main.go:8 +0x1d',
    'exit status 2',
    'restarted'
  ]
  assert.deepEqual(join('go', lines), ['starting', lines.slice(1, 7).join('\n'), 'restarted'])
})

test('a custom start pattern', () => {
  assert.deepEqual(join('custom', ['[1] a', 'more', '[2] b', '[3] c', '  x'], '^\\['), ['[1] a\nmore', '[2] b', '[3] c\n  x'])
})

test('a record is shipped after the flush timeout, keeps its first offset and resume point', () => {
  const j = new MultilineJoiner(continuation('java', ''), 500, 1 << 20, 1000)
  const out: Piece[] = []
  j.add({ ts: '1', stdio: 'stdout', message: 'Exception', truncated: false, offset: 100, resume: 90 }, 0, out)
  j.add({ ts: '2', stdio: 'stdout', message: '\tat x', truncated: false, offset: 110, resume: 90 }, 10, out)
  assert.equal(j.safeOffset(200), 90)
  j.flushIdle(500, out)
  assert.equal(out.length, 0)
  j.flushIdle(1010, out)
  assert.deepEqual(out.map((p) => [p.message, p.offset]), [['Exception\n\tat x', 100]])
  assert.equal(j.safeOffset(200), 200)
})

test('a change of stdio stream or maxLines ends a record', () => {
  const j = new MultilineJoiner(continuation('java', ''), 2, 1 << 20, 1000)
  const out: Piece[] = []
  const add = (stdio: string, message: string, i: number) => j.add({ ts: '1', stdio, message, truncated: false, offset: i, resume: i }, 0, out)
  add('stdout', 'a', 0); add('stderr', ' b', 1); add('stderr', ' c', 2); add('stderr', ' d', 3)
  j.flush(out)
  assert.deepEqual(out.map((p) => p.message), ['a', ' b\n c', ' d'])
})
