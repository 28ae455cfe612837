import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { PROMTOOL, prometheusMissing } from '../helpers/prometheus.js'
import { repoRoot } from '../helpers/repo.js'
import { RULES_FILE, RULES_TEST_FILE, alertRules, testedCases } from './rules-file.js'

// The alert rules through Debian's promtool: syntax and lint (check rules), and the unit tests
// of test/alerts/daytwo.rules.test.yaml (test rules), which must cover every alert both
// firing and not firing. Each alert's runbook_url must land on a section of docs/alerts.md.

function promtool (args: string[], cwd: string): { code: number | null, out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

describe('alert rules', () => {
  const missing = prometheusMissing()

  it('pass promtool check rules (syntax and lint)', { skip: missing }, () => {
    const r = promtool(['check', 'rules', '--lint=all', '--lint-fatal', RULES_FILE], repoRoot())
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, new RegExp(`SUCCESS: ${alertRules().length} rules found`))
  })

  it('pass their promtool unit tests', { skip: missing }, () => {
    const r = promtool(['test', 'rules', RULES_TEST_FILE], dirname(RULES_TEST_FILE))
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /SUCCESS/)
  })

  it('each have a unit test firing and one not firing', () => {
    const cases = testedCases()
    for (const a of alertRules()) {
      assert.deepEqual(cases.get(a.alert), { firing: true, quiet: true }, `promtool cases of ${a.alert}`)
    }
  })

  it('each carry severity, summary, description and a runbook in docs/alerts.md', () => {
    const doc = readFileSync(join(repoRoot(), 'docs', 'alerts.md'), 'utf8')
    for (const a of alertRules()) {
      assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert} severity`)
      assert.ok(a.annotations?.summary, `${a.alert} summary`)
      assert.ok(a.annotations?.description, `${a.alert} description`)
      const anchor = a.alert.toLowerCase()
      assert.equal(a.annotations?.runbook_url, `https://example.invalid/daytwo/docs/alerts.md#${anchor}`, `${a.alert} runbook_url`)
      // GitHub's anchor for a heading "### DaytwoInstanceDown" is its lower-cased text.
      assert.match(doc, new RegExp(`^### ${a.alert}\\n+\\S`, 'm'), `docs/alerts.md has a runbook section for ${a.alert}`)
    }
  })
})
