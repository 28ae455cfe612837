import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileMatcher } from '../../query/file-glob.js'

// `--only` globs: shell semantics on a file's name (or `<process>/<file>`), in time bounded by
// pattern × name, whatever the pattern (query/file-glob.ts).

test('globs match as the shell does: *, ?, [sets], [!negated], and <process>/<file>', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['*.log', 'p', '/a/router.log', true], ['*.log', 'p', '/a/router.txt', false],
    ['nginx/*.log', 'nginx', '/x/access.log', true], ['nginx/*.log', 'web', '/x/access.log', false],
    ['r?uter.log', 'p', '/r/router.log', true], ['[a-c]*.log', 'p', '/b.log', true], ['[!a-c]*.log', 'p', '/b.log', false],
    ['*', 'p', '/x', true], ['*x', 'p', '/abc', false], ['a*b*c', 'p', '/aXbYc', true], ['a*b*c', 'p', '/aXbYd', false],
    ['*', 'nginx', '/x/access.log', true], ['*/access.log', 'nginx', '/x/access.log', true], ['[', 'p', '/[', true]
  ]
  for (const [glob, proc, path, want] of cases) assert.equal(fileMatcher([glob])(proc, path), want, `${glob} on ${proc} ${path}`)
  assert.throws(() => fileMatcher(['[z-a].log']), /not a valid file-name glob/)
})

test('a hostile glob (stars a backtracking regex would explode on) is answered at once', () => {
  const started = process.hrtime.bigint()
  assert.equal(fileMatcher(['*'.repeat(300) + 'x'])('p', '/' + 'a'.repeat(250)), false)
  assert.equal(fileMatcher(['*a'.repeat(2000) + 'b'])('p', '/' + 'a'.repeat(250)), false)
  // Not a timing assertion on speed, only that it returns: a regex took minutes here.
  assert.ok(process.hrtime.bigint() - started < 30_000_000_000n)
})
