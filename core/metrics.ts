import { Counter, Registry, collectDefaultMetrics } from 'prom-client'
import type { Logger } from './logger.js'

// Metrics helpers shared by every role. Each role has its own Registry so `serve all` can
// serve three /metrics endpoints from one process; none of them has a label per pod, line
// or file (bounded labels: docs/metrics.md "Metrics").

export function createRegistry (role: string): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ role })
  collectDefaultMetrics({ register: registry })
  // prom-client names three gauges `*_total`, which promtool's lint refuses (a `_total`
  // suffix promises a counter). The same numbers stay available per type in
  // nodejs_active_handles / nodejs_active_requests / nodejs_active_resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name)
  return registry
}

export type DropFn = (reason: string, count?: number, detail?: string) => void

const EPISODE_MS = 60_000

/**
 * Every drop goes through here: it increments `<prefix>_dropped_total{reason}` and logs once
 * per episode (the first drop of a reason after a minute without one), like Vector's
 * internal events. `reasons` are pre-created at zero so dashboards see them before a drop.
 */
export function createDropCounter (registry: Registry, prefix: string, reasons: string[], log: Logger, what: { name?: string, help?: string } = {}): DropFn {
  const name = what.name ?? `${prefix}_dropped_total`
  const counter = new Counter({
    name,
    help: what.help ?? 'Lines, messages or requests dropped, by reason.',
    labelNames: ['reason'],
    registers: [registry]
  })
  for (const r of reasons) counter.inc({ reason: r }, 0)
  const lastSeen = new Map<string, number>()
  return (reason, count = 1, detail) => {
    counter.inc({ reason }, count)
    const now = Date.now()
    const prev = lastSeen.get(reason)
    if (prev === undefined || now - prev > EPISODE_MS) {
      log.warn({ reason, count, detail }, `dropping: ${reason}${detail ? ` (${detail})` : ''}; further drops of this reason are only counted in ${name} for a minute`)
    }
    lastSeen.set(reason, now)
  }
}

export function counter (registry: Registry, name: string, help: string, labelNames: string[] = []): Counter<string> {
  return new Counter({ name, help, labelNames, registers: [registry] })
}
