import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { daytwoDashboard, row, series } from './panels.js'

// Pipeline: forwarder → collector → store → query throughput, queues and drops, from each
// role's own /metrics (label role).

const R = '$__rate_interval'

export function pipelineDashboard (): DashboardBuilder {
  return daytwoDashboard('daytwo-pipeline', 'daytwo / Pipeline', 'Forwarder, collector, store and query throughput, queues and drops.')
    .withRow(row('Forwarders'))
    .withPanel(series('Lines read and shipped', 'short', [
      { expr: `sum by (source) (rate(daytwo_forwarder_lines_read_total[${R}]))`, legend: 'read {{source}}' },
      { expr: `sum(rate(daytwo_forwarder_lines_shipped_total[${R}]))`, legend: 'shipped' }
    ]))
    .withPanel(series('Batches by result', 'short', [{ expr: `sum by (result) (rate(daytwo_forwarder_batches_total[${R}]))`, legend: '{{result}}' }], 'retry with no ok: the collector is unreachable (alert DaytwoForwarderCannotReachCollector).'))
    .withPanel(series('Queued batches (of the bound)', 'percentunit', [{ expr: 'max by (instance) (daytwo_forwarder_queued_batches / daytwo_forwarder_max_queued_batches)', legend: '{{instance}}' }], 'At 100 % the forwarder stops reading (alert DaytwoForwarderBacklogFull).'))
    .withPanel(series('Syslog spool fill', 'percentunit', [{ expr: 'max by (instance) (daytwo_forwarder_syslog_spool_bytes / daytwo_forwarder_syslog_spool_max_bytes)', legend: '{{instance}}' }], 'At 100 % new syslog messages are dropped (alert DaytwoSyslogSpoolFilling).'))
    .withPanel(series('Forwarder drops by reason', 'short', [{ expr: `sum by (reason) (rate(daytwo_forwarder_dropped_total[${R}]))`, legend: '{{reason}}' }]))
    .withPanel(series('Lines altered by reason', 'short', [{ expr: `sum by (reason) (rate(daytwo_forwarder_lines_altered_total[${R}]))`, legend: '{{reason}}' }]))
    .withRow(row('Collectors'))
    .withPanel(series('Records received, stored, duplicate', 'short', [
      { expr: `sum(rate(daytwo_collector_records_received_total[${R}]))`, legend: 'received' },
      { expr: `sum(rate(daytwo_collector_records_stored_total[${R}]))`, legend: 'stored' },
      { expr: `sum(rate(daytwo_collector_duplicates_total[${R}]))`, legend: 'duplicate (retries)' }
    ]))
    .withPanel(series('Bytes stored', 'Bps', [{ expr: `sum(rate(daytwo_collector_bytes_stored_total[${R}]))`, legend: 'stored' }]))
    .withPanel(series('Ingest answers by code', 'short', [{ expr: `sum by (code) (rate(daytwo_collector_batches_total[${R}]))`, legend: '{{code}}' }]))
    .withPanel(series('Collector drops and refusals by reason', 'short', [
      { expr: `sum by (reason) (rate(daytwo_collector_dropped_total[${R}]))`, legend: 'dropped {{reason}}' },
      { expr: `sum by (reason) (rate(daytwo_collector_rejected_requests_total[${R}]))`, legend: 'refused {{reason}}' }
    ]))
    .withRow(row('Store'))
    .withPanel(series('Store refusals', 'short', [
      { expr: `sum by (store) (rate(daytwo_store_dead_lettered_records_total[${R}]))`, legend: 'dead-lettered {{store}}' },
      { expr: `sum by (store) (rate(daytwo_store_lost_records_total[${R}]))`, legend: 'lost {{store}}' },
      { expr: `sum by (store) (rate(daytwo_store_bulk_retried_items_total[${R}]))`, legend: 'retried (429/5xx) {{store}}' }
    ], 'Search-engine stores only; 0 on the embedded store.'))
    .withPanel(series('Store write failures', 'short', [{ expr: `sum(rate(daytwo_collector_rejected_requests_total{reason="store_unavailable"}[${R}]))`, legend: 'store_unavailable' }], 'Batches answered 503 because the store write failed (alert DaytwoStoreWriteErrors).'))
    .withRow(row('Query'))
    .withPanel(series('Query requests by route and code', 'short', [{ expr: `sum by (route, code) (rate(daytwo_query_requests_total[${R}]))`, legend: '{{route}} {{code}}' }]))
    .withPanel(series('Lines served', 'short', [{ expr: `sum(rate(daytwo_query_lines_served_total[${R}]))`, legend: 'lines' }]))
}
