import type { Registry } from 'prom-client'
import { counter } from '../../core/metrics.js'
import type { StreamBatch } from '../../core/record.js'
import type { DropRow, WriteResult } from '../../store/log-store.js'
import { OrgLabels } from './org-labels.js'

// Per-org work metrics of the collector: records and bytes the store newly committed, and
// records and bytes dropped by rate limits. The org label is bounded (OrgLabels): never a
// label per app, pod or file — per-app figures are in the store's usage rollups.

const RERANK_MS = 60_000

export class OrgMetrics {
  private readonly records
  private readonly bytes
  private readonly droppedRecords
  private readonly droppedBytes
  readonly labels: OrgLabels
  private readonly timer: NodeJS.Timeout

  constructor (registry: Registry, topN: number) {
    const p = 'daytwo_collector_org'
    this.records = counter(registry, `${p}_records_total`, `Records newly stored, by org (the ${topN} busiest orgs; the rest as "other").`, ['org'])
    this.bytes = counter(registry, `${p}_bytes_total`, `Message bytes newly stored, by org (the ${topN} busiest orgs; the rest as "other").`, ['org'])
    this.droppedRecords = counter(registry, `${p}_dropped_records_total`, 'Records dropped by log rate limits, by org (bounded like daytwo_collector_org_records_total).', ['org'])
    this.droppedBytes = counter(registry, `${p}_dropped_bytes_total`, 'Message bytes dropped by log rate limits, by org (bounded like daytwo_collector_org_records_total).', ['org'])
    this.labels = new OrgLabels(topN, (org) => {
      for (const c of [this.records, this.bytes, this.droppedRecords, this.droppedBytes]) c.remove({ org })
    })
    this.timer = setInterval(() => this.labels.rerank(), RERANK_MS)
    this.timer.unref()
  }

  /** Count what the store newly committed, by the org of each stream written. */
  committed (batches: StreamBatch[], result: WriteResult): void {
    const orgOf = new Map<string, string>()
    for (const b of batches) orgOf.set(b.stream.id, b.stream.org ?? '')
    const perOrg = new Map<string, [number, number]>()
    for (const [id, { lines, bytes }] of result.perStream) {
      const org = orgOf.get(id) ?? ''
      const t = perOrg.get(org)
      if (t) { t[0] += lines; t[1] += bytes } else perOrg.set(org, [lines, bytes])
    }
    for (const [org, [lines, bytes]] of perOrg) {
      if (lines === 0) continue
      const label = this.labels.label(org, bytes)
      this.records.inc({ org: label }, lines)
      this.bytes.inc({ org: label }, bytes)
    }
  }

  dropped (rows: DropRow[]): void {
    for (const r of rows) {
      const label = this.labels.label(r.org, r.bytes)
      this.droppedRecords.inc({ org: label }, r.lines)
      this.droppedBytes.inc({ org: label }, r.bytes)
    }
  }

  stop (): void { clearInterval(this.timer) }
}
