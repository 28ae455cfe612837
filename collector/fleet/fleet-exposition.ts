import { Counter, Gauge, Registry } from 'prom-client'
import { FAMILIES, IDENTITY_LABELS, type FamilyName } from '../../core/metric-samples.js'
import { FLEET_EVENTS, type FleetState } from './fleet-state.js'

// The one Prometheus endpoint for the fleet: every family of the catalog (core/metric-samples.ts)
// with deployment, job, index and node labels, plus what the collector itself derives per
// instance — up, silent, first seen, events — the way BOSH's health monitor reports instances.
// The registry is refilled from FleetState at each scrape, so removed instances simply vanish.

const BASE = [...IDENTITY_LABELS, 'node']

type Metric = Counter<string> | Gauge<string>

export class FleetExposition {
  readonly registry = new Registry()
  private readonly families = new Map<FamilyName, Metric>()
  private readonly up: Gauge<string>
  private readonly silent: Gauge<string>
  private readonly firstSeen: Gauge<string>
  private readonly lastReport: Gauge<string>
  private readonly events: Counter<string>
  private readonly all: Metric[]

  constructor (private readonly state: FleetState) {
    const registers = [this.registry]
    for (const [name, spec] of Object.entries(FAMILIES) as Array<[FamilyName, typeof FAMILIES[FamilyName]]>) {
      const labelNames = [...BASE, ...spec.labels]
      this.families.set(name, spec.type === 'counter'
        ? new Counter({ name, help: spec.help, labelNames, registers })
        : new Gauge({ name, help: spec.help, labelNames, registers }))
    }
    this.up = new Gauge({ name: 'daytwo_instance_up', help: '1 while the instance\'s forwarder reports it (heartbeat within collector.fleet.heartbeatTimeoutMs), else 0 until it is removed after collector.fleet.graceMs.', labelNames: BASE, registers })
    this.silent = new Gauge({ name: 'daytwo_instance_silent', help: '1 when the instance wrote no log line for longer than collector.fleet.silentAfterMs, else 0 (absent for instances that never logged).', labelNames: BASE, registers })
    this.firstSeen = new Gauge({ name: 'daytwo_instance_first_seen_timestamp_seconds', help: 'When this collector first heard of the instance, Unix seconds.', labelNames: BASE, registers })
    this.lastReport = new Gauge({ name: 'daytwo_node_last_report_timestamp_seconds', help: 'When the collector last received the node\'s metrics report, Unix seconds (collector clock).', labelNames: BASE, registers })
    this.events = new Counter({ name: 'daytwo_fleet_events_total', help: `Events per instance seen by this collector: ${FLEET_EVENTS.join(', ')}.`, labelNames: [...BASE, 'event'], registers })
    this.all = [...this.families.values(), this.up, this.silent, this.firstSeen, this.lastReport, this.events]
  }

  /** The exposition text at `now`; up/silent are evaluated first. */
  async render (now: number): Promise<string> {
    this.state.sweep(now)
    for (const m of this.all) m.reset()
    for (const inst of this.state.instances.values()) {
      const base = { deployment: inst.deployment, job: inst.job, index: inst.index, node: inst.node }
      for (const [name, samples] of inst.families) {
        const metric = this.families.get(name)!
        const extra = FAMILIES[name].labels
        for (const [values, value] of samples) {
          const labels: Record<string, string> = { ...base }
          for (let i = 0; i < extra.length; i++) labels[extra[i]!] = values[IDENTITY_LABELS.length + i]!
          if (metric instanceof Counter) metric.inc(labels, value)
          else metric.set(labels, value)
        }
      }
      this.up.set(base, inst.up ? 1 : 0)
      if (inst.lastLineMs !== null) this.silent.set(base, inst.silent ? 1 : 0)
      this.firstSeen.set(base, inst.firstSeenMs / 1000)
      for (const [event, n] of inst.events) this.events.inc({ ...base, event }, n)
    }
    for (const [node, n] of this.state.nodes) {
      this.lastReport.set({ deployment: n.self.deployment, job: n.self.job, index: n.self.index, node }, n.lastReportMs / 1000)
    }
    return await this.registry.metrics()
  }

  get contentType (): string { return this.registry.contentType }
}
