import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { fleetDashboard } from './fleet.js'
import { pipelineDashboard } from './pipeline.js'
import { tenantsDashboard } from './tenants.js'

// The dashboards' JSON files, generated: `npm run dashboards` writes
// charts/daytwo/dashboards/<name>.json (checked in, embedded by the chart's ConfigMaps);
// test/alerts/dashboards.test.ts checks that the files equal this output.

const DASHBOARDS: Record<string, () => DashboardBuilder> = {
  fleet: fleetDashboard,
  tenants: tenantsDashboard,
  pipeline: pipelineDashboard
}

/** File name → JSON text, as written. */
export function dashboardFiles (): Map<string, string> {
  const out = new Map<string, string>()
  for (const [name, build] of Object.entries(DASHBOARDS)) out.set(`daytwo-${name}.json`, JSON.stringify(build().build(), null, 2) + '\n')
  return out
}

/** Every PromQL expression of every panel, with the dashboard and panel it is in. */
export function dashboardExpressions (): Array<{ dashboard: string, panel: string, expr: string }> {
  const out: Array<{ dashboard: string, panel: string, expr: string }> = []
  for (const [file, text] of dashboardFiles()) {
    const d = JSON.parse(text) as { panels?: Array<{ title?: string, targets?: Array<{ expr?: string }> }> }
    for (const p of d.panels ?? []) for (const t of p.targets ?? []) if (t.expr) out.push({ dashboard: file, panel: p.title ?? '', expr: t.expr })
  }
  return out
}

export function dashboardsDir (): string {
  // dist/charts/tools/dashboards/ or charts/tools/dashboards/: the chart is charts/daytwo/.
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!dir.endsWith('/charts/tools/dashboards')) dir = dirname(dir)
  const root = resolve(dir, '..', '..', '..')
  const chartsRoot = root.endsWith('/dist') ? dirname(root) : root
  return join(chartsRoot, 'charts', 'daytwo', 'dashboards')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = dashboardsDir()
  mkdirSync(dir, { recursive: true })
  for (const [file, text] of dashboardFiles()) {
    const path = join(dir, file)
    let old = ''
    try { old = readFileSync(path, 'utf8') } catch { /* a new dashboard: nothing to compare */ }
    if (old !== text) writeFileSync(path, text)
    console.log(`${old === text ? 'unchanged' : 'wrote'} ${path}`)
  }
}
