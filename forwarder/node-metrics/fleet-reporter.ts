import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { Gauge, type Registry } from 'prom-client'
import type { ForwarderConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import { counter } from '../../core/metrics.js'
import { Poster, collectorTls } from '../http-client.js'
import { REPORT_CONTENT_TYPE, SampleSet, instanceKey, type Instance, type InstanceReport, type MetricsReport } from '../../core/metric-samples.js'
import type { BoshIdentity } from '../tags.js'
import { BoshProcesses } from './bosh-processes.js'
import { collectFilesystems } from './filesystems.js'
import { Kubelet } from './kubelet.js'
import { LogCounts } from './log-counts.js'
import { collectNodeResources, parseProcStat } from './node-resources.js'
import { userAgent } from '../../core/version.js'

const gzip = promisify(gzipCb)

export interface FleetReporterOptions {
  cfg: ForwarderConfig
  node: string
  dataDir: string
  identity: BoshIdentity
  token: string
  registry: Registry
  log: Logger
}

/**
 * Every `forwarder.metrics.intervalMs`: gathers node, BOSH process, kubelet and log-derived
 * samples into one report and POSTs it to the collector's `/api/v1/metrics`. Counters are
 * cumulative since this forwarder started, so a lost report loses no count, only freshness.
 */
export class FleetReporter {
  readonly logs: LogCounts
  private readonly processes: BoshProcesses
  private readonly kubelet: Kubelet
  private readonly url: string
  private readonly poster: Poster
  private readonly startedMs = Date.now()
  private readonly reports: ReturnType<typeof counter>
  private readonly instancesGauge: Gauge
  private readonly untracked: ReturnType<typeof counter>
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private failing = false
  private podInstances = new Map<string, { inst: Instance, seenMs: number }>()

  constructor (private readonly o: FleetReporterOptions) {
    const m = o.cfg.metrics
    this.logs = new LogCounts(m.maxInstances)
    this.processes = new BoshProcesses(m.boshRunRoot, m.procPath)
    this.kubelet = new Kubelet({ url: m.kubeletUrl, tokenFile: m.kubeletTokenFile, caFile: m.kubeletCaFile, insecureSkipVerify: m.kubeletInsecureSkipVerify, timeoutMs: Math.min(10000, m.intervalMs) })
    this.url = new URL('/api/v1/metrics', o.cfg.collectorUrl).toString()
    this.poster = new Poster(this.url, { 'content-type': REPORT_CONTENT_TYPE, 'content-encoding': 'gzip', authorization: `Bearer ${o.token}`, 'user-agent': userAgent('forwarder') }, Math.max(1000, o.cfg.metrics.intervalMs), undefined, collectorTls(o.cfg))
    const p = 'daytwo_forwarder_fleet'
    this.reports = counter(o.registry, `${p}_reports_total`, 'Metric reports sent to the collector, by result (ok, failed).', ['result'])
    for (const r of ['ok', 'failed']) this.reports.inc({ result: r }, 0)
    this.instancesGauge = new Gauge({ name: `${p}_instances`, help: 'Instances (deployment/job/index) in the last metrics report.', registers: [o.registry] })
    this.untracked = counter(o.registry, `${p}_untracked_lines_total`, 'Lines shipped but not counted in fleet metrics because forwarder.metrics.maxInstances was reached.')
  }

  start (): void {
    const tick = () => {
      this.running = this.reportOnce().then(() => {}, (err: Error) => { this.o.log.error({ err }, 'metrics report failed') }).finally(() => { this.running = null })
      this.timer = setTimeout(tick, this.o.cfg.metrics.intervalMs)
    }
    this.timer = setTimeout(tick, Math.min(1000, this.o.cfg.metrics.intervalMs))
  }

  async stop (): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.running) await this.running
    this.poster.close()
  }

  /** Gather every source into one report (exported for tests and `logs` tooling). */
  async build (): Promise<MetricsReport> {
    const { cfg, identity } = this.o
    const m = cfg.metrics
    const id = [identity.deployment, identity.job, identity.index]
    const out = new SampleSet()
    const now = Date.now()
    const stat = await readFile(join(m.procPath, 'stat'), 'utf8').catch(() => null)
    const bootTime = stat !== null ? parseProcStat(stat).bootTime : null
    const [, , events, pods] = await Promise.all([
      collectNodeResources(m.procPath, id, new RegExp(m.netDeviceExclude), out),
      collectFilesystems({
        procPath: m.procPath,
        fsTypeExclude: new RegExp(m.fsTypeExclude),
        mountPointExclude: new RegExp(m.mountPointExclude),
        paths: { data_dir: this.o.dataDir, pod_log_root: cfg.podLogRoot, container_log_root: cfg.containerLogRoot, bosh_log_root: cfg.boshLogRoot }
      }, id, out),
      this.processes.collect(id, bootTime, out),
      this.kubelet.collect(id, out)
    ])
    for (const e of events) this.o.log.info({ event: e.kind, ...identity, process: e.process, pidfile: e.pidfile, oldPid: e.oldPid, newPid: e.newPid }, `process ${e.process}/${e.pidfile} restarted`)
    for (const e of this.logs.takeEvents()) this.o.log.info({ event: e.kind, deployment: e.deployment, job: e.job, index: e.index, process: e.process, path: e.path }, `${e.kind.replace(/_/g, ' ')}: ${e.deployment}/${e.job}/${e.index}`)
    if (this.kubelet.enabled && this.kubelet.lastError !== null) this.o.log.debug({ url: m.kubeletUrl, err: this.kubelet.lastError }, 'kubelet not readable; pod metrics skipped')
    this.untracked.inc(this.logs.untracked)
    this.logs.untracked = 0

    const instances = new Map<string, InstanceReport>()
    for (const i of this.logs.collect(out, m.forgetAfterMs)) instances.set(instanceKey(i), i)
    // The node's own identity is an instance as long as this forwarder runs.
    if (!instances.has(instanceKey(identity))) instances.set(instanceKey(identity), { ...identity, lastLineAgeMs: null })
    for (const p of pods ?? []) this.podInstances.set(instanceKey(p), { inst: p, seenMs: now })
    for (const [k, p] of this.podInstances) {
      if (now - p.seenMs > m.forgetAfterMs) { this.podInstances.delete(k); continue }
      if (!instances.has(k)) instances.set(k, { ...p.inst, lastLineAgeMs: null })
    }
    this.instancesGauge.set(instances.size)
    return { v: 1, node: this.o.node, self: { deployment: identity.deployment, job: identity.job, index: identity.index }, startedMs: this.startedMs, instances: [...instances.values()], samples: out.samples }
  }

  async reportOnce (): Promise<boolean> {
    const report = await this.build()
    try {
      const res = await this.poster.post(await gzip(JSON.stringify(report), { level: 1 }))
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text.slice(0, 300)}`)
      this.reports.inc({ result: 'ok' })
      if (this.failing) this.o.log.info({ url: this.url }, 'collector accepts metric reports again')
      this.failing = false
      return true
    } catch (err) {
      this.reports.inc({ result: 'failed' })
      if (!this.failing) this.o.log.warn({ url: this.url, err: (err as Error).message }, 'collector did not accept a metrics report; counters stay cumulative, the next report catches up')
      this.failing = true
      return false
    }
  }
}
