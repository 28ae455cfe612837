import type { FleetConfig } from '../../core/config/fleet.js'
import type { Logger } from '../../core/logger.js'
import { FAMILIES, IDENTITY_LABELS, checkSample, instanceKey, isFamily, type FamilyName, type Instance, type MetricsReport, type Sample } from '../../core/metric-samples.js'

// The fleet as the collector knows it: per (node, deployment/job/index) instance, the samples
// of its forwarder's last report, when it was last reported (heartbeat) and when it last
// logged. Like BOSH's health monitor it turns those into up/silent per instance and events;
// unlike a plain proxy it bounds what it keeps: series per job are capped, and instances not
// reported for `graceMs` are removed.

/** Counter families whose increase is an event, and the event's name. */
const EVENT_COUNTERS: Partial<Record<FamilyName, string>> = {
  daytwo_job_process_restarts_total: 'process_restart',
  daytwo_log_file_rotations_total: 'file_rotated',
  daytwo_log_file_truncations_total: 'file_truncated'
}

export const FLEET_EVENTS = ['instance_first_seen', 'instance_down', 'instance_up', 'instance_silent', 'instance_logging', 'process_restart', 'file_rotated', 'file_truncated'] as const
export type FleetEvent = typeof FLEET_EVENTS[number]

export interface FleetInstance extends Instance {
  node: string
  firstSeenMs: number
  lastReportedMs: number
  /** Collector clock; null if it never logged. */
  lastLineMs: number | null
  families: Map<FamilyName, Sample[]>
  series: number
  up: boolean
  silent: boolean
  events: Map<FleetEvent, number>
  /** Last value of each event counter series, for deltas. */
  eventBase: Map<string, number>
}

interface NodeState { lastReportMs: number, startedMs: number, self: Instance }

export type LimitReason = 'series_limit' | 'node_series_limit' | 'fleet_series_limit'
export type FleetDrop = (reason: LimitReason | 'unknown_metric' | 'malformed_sample', count: number, detail?: string) => void

export interface ApplyResult { accepted: number, dropped: number }

export class FleetState {
  readonly instances = new Map<string, FleetInstance>()
  readonly nodes = new Map<string, NodeState>()
  /** deployment\0job → series held across its instances. */
  private readonly jobSeries = new Map<string, number>()
  // What the whole fleet and each node (forwarder) hold, each instance counting as its series
  // plus one (its up/silent/first-seen state), so many empty instances are bounded too.
  private readonly nodeUnits = new Map<string, number>()
  private totalUnits = 0

  constructor (private readonly cfg: FleetConfig, private readonly log: Logger, private readonly drop: FleetDrop) {}

  get seriesCount (): number {
    let n = 0
    for (const v of this.jobSeries.values()) n += v
    return n
  }

  apply (report: MetricsReport, now: number): ApplyResult {
    const node = report.node
    const prevNode = this.nodes.get(node)
    const restarted = prevNode !== undefined && prevNode.startedMs !== report.startedMs
    this.nodes.set(node, { lastReportMs: now, startedMs: report.startedMs, self: report.self })

    // Group the samples by instance, checking each against the catalog.
    const byInstance = new Map<string, { inst: Instance, families: Map<FamilyName, Sample[]> }>()
    // A node can never hold more instances than maxSeriesPerNode: samples of instances past
    // that are dropped here, before any state is built for them.
    let beyond = 0
    const group = (i: Instance) => {
      const k = instanceKey(i)
      let g = byInstance.get(k)
      if (!g) {
        if (byInstance.size >= this.cfg.maxSeriesPerNode) return null
        g = { inst: { deployment: i.deployment, job: i.job, index: i.index }, families: new Map() }
        byInstance.set(k, g)
      }
      return g
    }
    group(report.self)
    for (const i of report.instances) if (group(i) === null) beyond++
    let unknown = 0; let malformed = 0
    for (const [name, list] of Object.entries(report.samples)) {
      if (!isFamily(name)) { unknown += list.length; continue }
      const spec = FAMILIES[name]
      for (const s of list as unknown[]) {
        if (!checkSample(spec, s)) { malformed++; continue }
        const g = group({ deployment: s[0][0]!, job: s[0][1]!, index: s[0][2]! })
        if (g === null) { beyond++; continue }
        let fl = g.families.get(name)
        if (!fl) { fl = []; g.families.set(name, fl) }
        fl.push(s)
      }
    }
    if (unknown > 0) this.drop('unknown_metric', unknown, `from node ${node}`)
    if (malformed > 0) this.drop('malformed_sample', malformed, `from node ${node}`)

    const ages = new Map(report.instances.map((i) => [instanceKey(i), i.lastLineAgeMs]))
    let accepted = 0
    const limited: Record<LimitReason, number> = { series_limit: 0, node_series_limit: beyond, fleet_series_limit: 0 }
    for (const [k, g] of byInstance) {
      const key = node + '\0' + k
      let inst = this.instances.get(key)
      if (!inst) {
        const full = (this.nodeUnits.get(node) ?? 0) + 1 > this.cfg.maxSeriesPerNode ? 'node_series_limit' : this.totalUnits + 1 > this.cfg.maxSeries ? 'fleet_series_limit' : null
        if (full !== null) {
          let n = 0
          for (const l of g.families.values()) n += l.length
          limited[full] += Math.max(1, n)
          continue
        }
        this.addUnits(node, 1)
        inst = { ...g.inst, node, firstSeenMs: now, lastReportedMs: now, lastLineMs: null, families: new Map(), series: 0, up: true, silent: false, events: new Map(), eventBase: new Map() }
        this.instances.set(key, inst)
        this.event(inst, 'instance_first_seen', 1)
      }
      inst.lastReportedMs = now
      const age = ages.get(k)
      if (typeof age === 'number') inst.lastLineMs = Math.max(inst.lastLineMs ?? -Infinity, now - age)
      this.countEvents(inst, g.families, restarted)
      const r = this.replaceSeries(inst, g.families)
      accepted += r.accepted
      limited[r.reason] += r.limited
    }
    const setting: Record<LimitReason, string> = {
      series_limit: `maxSeriesPerJob=${this.cfg.maxSeriesPerJob}`,
      node_series_limit: `maxSeriesPerNode=${this.cfg.maxSeriesPerNode}`,
      fleet_series_limit: `maxSeries=${this.cfg.maxSeries}`
    }
    let dropped = 0
    for (const reason of Object.keys(limited) as LimitReason[]) {
      if (limited[reason] === 0) continue
      dropped += limited[reason]
      this.drop(reason, limited[reason], `collector.fleet.${setting[reason]} reached (node ${node})`)
    }
    this.sweep(now)
    return { accepted, dropped: unknown + malformed + dropped }
  }

  private addUnits (node: string, n: number): void {
    const left = (this.nodeUnits.get(node) ?? 0) + n
    if (left > 0) this.nodeUnits.set(node, left)
    else this.nodeUnits.delete(node)
    this.totalUnits += n
  }

  /** Keep at most maxSeriesPerJob series per deployment/job (and the node's and fleet's caps): the instance's earlier series first. */
  private replaceSeries (inst: FleetInstance, families: Map<FamilyName, Sample[]>): { accepted: number, limited: number, reason: LimitReason } {
    const jk = inst.deployment + '\0' + inst.job
    const others = (this.jobSeries.get(jk) ?? 0) - inst.series
    const rooms: Array<[LimitReason, number]> = [
      ['series_limit', this.cfg.maxSeriesPerJob - others],
      ['node_series_limit', this.cfg.maxSeriesPerNode - ((this.nodeUnits.get(inst.node) ?? 0) - inst.series)],
      ['fleet_series_limit', this.cfg.maxSeries - (this.totalUnits - inst.series)]
    ]
    const [reason, tightest] = rooms.reduce((a, b) => b[1] < a[1] ? b : a)
    let room = Math.max(0, tightest)
    let limited = 0
    const kept = new Map<FamilyName, Sample[]>()
    for (const [name, list] of families) {
      if (list.length <= room) { kept.set(name, list); room -= list.length; continue }
      if (room > 0) kept.set(name, list.slice(0, room))
      limited += list.length - room
      room = 0
    }
    const count = [...kept.values()].reduce((n, l) => n + l.length, 0)
    inst.families = kept
    this.addUnits(inst.node, count - inst.series)
    inst.series = count
    this.jobSeries.set(jk, others + count)
    return { accepted: count, limited, reason }
  }

  private countEvents (inst: FleetInstance, families: Map<FamilyName, Sample[]>, restarted: boolean): void {
    for (const [name, event] of Object.entries(EVENT_COUNTERS) as Array<[FamilyName, FleetEvent]>) {
      for (const [labels, value] of families.get(name) ?? []) {
        const k = name + '\0' + labels.join('\0')
        const base = inst.eventBase.get(k)
        inst.eventBase.set(k, value)
        const delta = base === undefined ? 0 : (restarted || value < base ? value : value - base)
        if (delta > 0) this.event(inst, event, delta, { process: labels[IDENTITY_LABELS.length] })
      }
    }
  }

  private event (inst: FleetInstance, event: FleetEvent, n: number, extra: Record<string, unknown> = {}): void {
    inst.events.set(event, (inst.events.get(event) ?? 0) + n)
    this.log.info({ event, deployment: inst.deployment, job: inst.job, index: inst.index, node: inst.node, count: n, ...extra }, `${event.replace(/_/g, ' ')}: ${inst.deployment}/${inst.job}/${inst.index} on ${inst.node}`)
  }

  /** Evaluate up/silent, log transitions, remove instances past the grace period. */
  sweep (now: number): void {
    for (const [key, inst] of this.instances) {
      const since = now - inst.lastReportedMs
      if (since > this.cfg.graceMs) {
        this.instances.delete(key)
        const jk = inst.deployment + '\0' + inst.job
        const left = (this.jobSeries.get(jk) ?? 0) - inst.series
        if (left > 0) this.jobSeries.set(jk, left)
        else this.jobSeries.delete(jk)
        this.addUnits(inst.node, -(inst.series + 1))
        this.log.info({ event: 'instance_removed', deployment: inst.deployment, job: inst.job, index: inst.index, node: inst.node }, `instance removed after ${this.cfg.graceMs} ms without a report: ${inst.deployment}/${inst.job}/${inst.index} on ${inst.node}`)
        continue
      }
      const up = since <= this.cfg.heartbeatTimeoutMs
      if (up !== inst.up) { inst.up = up; this.event(inst, up ? 'instance_up' : 'instance_down', 1) }
      const silent = inst.lastLineMs !== null && now - inst.lastLineMs > this.cfg.silentAfterMs
      if (silent !== inst.silent) { inst.silent = silent; this.event(inst, silent ? 'instance_silent' : 'instance_logging', 1) }
    }
    for (const [node, n] of this.nodes) if (now - n.lastReportMs > this.cfg.graceMs) this.nodes.delete(node)
  }
}
