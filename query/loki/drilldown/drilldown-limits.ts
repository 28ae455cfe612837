import { LEVEL_FIELDS } from './level-fields.js'
import { MAX_ENTRIES } from '../params.js'
import { VERSION } from '../../../core/version.js'

// GET /loki/api/v1/drilldown-limits: the limits Logs Drilldown reads when it opens
// (grafana/logs-drilldown src/services/datasource.ts `getConfig`, LokiConfig in
// datasourceTypes.ts). It hides the Patterns tab when `pattern_ingester_enabled` is false,
// caps lines at `max_entries_limit_per_query` and trims its time picker to
// `retention_period` (0s: no limit). Shape of Loki's pkg/loki/config_handler.go.


export function drilldownLimits (): Record<string, unknown> {
  return {
    limits: {
      discover_log_levels: true,
      discover_service_name: ['service_name', 'service', 'app', 'application', 'app_kubernetes_io_name', 'container', 'job'],
      log_level_fields: LEVEL_FIELDS,
      max_entries_limit_per_query: MAX_ENTRIES,
      max_line_size_truncate: false,
      max_query_bytes_read: '0B',
      max_query_length: '0s',
      max_query_lookback: '0s',
      max_query_range: '0s',
      max_query_series: 500,
      metric_aggregation_enabled: false,
      pattern_persistence_enabled: false,
      query_timeout: '1m',
      retention_period: '0s',
      volume_enabled: true,
      volume_max_series: 1000
    },
    pattern_ingester_enabled: true,
    version: `daytwo-${VERSION}`
  }
}
