import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { repoRoot } from '../helpers/repo.js'

// The alert rules file (the one source the chart's PrometheusRule embeds) and its promtool
// unit tests, parsed for the tests that check them.

export const RULES_FILE = join(repoRoot(), 'charts', 'daytwo', 'rules', 'daytwo.rules.yaml')
export const RULES_TEST_FILE = join(repoRoot(), 'test', 'alerts', 'daytwo.rules.test.yaml')

export interface AlertRule {
  alert: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

export interface RuleGroups { groups: Array<{ name: string, rules: AlertRule[] }> }

export function alertRules (text = readFileSync(RULES_FILE, 'utf8')): AlertRule[] {
  return (parse(text) as RuleGroups).groups.flatMap((g) => g.rules)
}

interface RulesTest { tests: Array<{ alert_rule_test?: Array<{ alertname: string, exp_alerts: unknown[] }> }> }

/** Per alert name: whether a promtool case expects it firing, and one expecting it not. */
export function testedCases (): Map<string, { firing: boolean, quiet: boolean }> {
  const out = new Map<string, { firing: boolean, quiet: boolean }>()
  for (const t of (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as RulesTest).tests) {
    for (const c of t.alert_rule_test ?? []) {
      const e = out.get(c.alertname) ?? { firing: false, quiet: false }
      if (c.exp_alerts.length > 0) e.firing = true
      else e.quiet = true
      out.set(c.alertname, e)
    }
  }
  return out
}
