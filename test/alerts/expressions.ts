import { dashboardExpressions } from '../../charts/tools/dashboards/write.js'
import type { PrometheusServer } from '../helpers/prometheus.js'
import { alertRules } from './rules-file.js'

// Every PromQL expression of the dashboards and the alert rules, asked of a real Prometheus
// (test/metrics/fleet-acceptance.test.ts scrapes `serve all` with it). Grafana's variables
// are replaced by what "All" and a short time range would send.

const VARIABLES: Record<string, string> = {
  deployment: '.*',
  job: '.*',
  org: '.*',
  price_per_gib: '0.5',
  __rate_interval: '15s',
  __range: '1m'
}

export function substitute (expr: string): string {
  return expr.replace(/\$(\w+)/g, (all, name: string) => VARIABLES[name] ?? all)
}

/** Dashboard expressions that fail or return no series, with their panel. */
export async function unansweredPanels (prom: PrometheusServer): Promise<string[]> {
  const out: string[] = []
  for (const e of dashboardExpressions()) {
    try {
      if ((await prom.query(substitute(e.expr))).length === 0) out.push(`${e.dashboard} "${e.panel}": no data for ${e.expr}`)
    } catch (err) {
      out.push(`${e.dashboard} "${e.panel}": ${(err as Error).message}`)
    }
  }
  return out
}

/**
 * Alert expressions that Prometheus refuses, and the series they read that it does not have.
 * A quiet alert returns nothing by design, so "evaluates" means: the query runs, and every
 * metric it names has series (an alert on a misspelt or missing metric would never fire).
 */
export async function alertProblems (prom: PrometheusServer): Promise<string[]> {
  const out: string[] = []
  for (const a of alertRules()) {
    try {
      await prom.query(a.expr)
    } catch (err) {
      out.push(`${a.alert}: ${(err as Error).message}`)
      continue
    }
    for (const name of new Set(a.expr.match(/\bdaytwo_[a-z_]+\b/g) ?? [])) {
      if ((await prom.query(`count(${name})`)).length === 0) out.push(`${a.alert}: no series ${name}`)
    }
  }
  return out
}
