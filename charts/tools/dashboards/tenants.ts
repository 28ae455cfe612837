import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { TextBoxVariableBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { daytwoDashboard, labelVariable, row, series, tabulate } from './panels.js'

// Tenants: bytes, lines, cost and rate-limit drops per org, from the collector's /metrics
// (daytwo_collector_org_*, bounded to collector.tenants.metricsTopOrgs orgs plus "other").
// Per-app figures live in the store's usage rollups (`logs usage`, the usage page), not in
// Prometheus labels; the rate-limit notice line in the tenant's stream names the app.

const ORG = 'org=~"$org"'
const GIB = 1073741824

export function tenantsDashboard (): DashboardBuilder {
  return daytwoDashboard('daytwo-tenants', 'daytwo / Tenants', 'Bytes, lines, cost and rate-limit drops per org.')
    .withVariable(labelVariable('org', 'Org', 'label_values(daytwo_collector_org_records_total, org)'))
    .withVariable(new TextBoxVariableBuilder('price_per_gib').label('Price per GiB').defaultValue('0').description('Price of one GiB stored (query.usage.pricePerGiB), for the cost columns.'))
    .withRow(row('Volume'))
    .withPanel(series('Bytes stored per org', 'Bps', [{ expr: `sum by (org) (rate(daytwo_collector_org_bytes_total{${ORG}}[$__rate_interval]))`, legend: '{{org}}' }]))
    .withPanel(series('Lines stored per org', 'short', [{ expr: `sum by (org) (rate(daytwo_collector_org_records_total{${ORG}}[$__rate_interval]))`, legend: '{{org}}' }]))
    .withPanel(tabulate('Per org over the time range', 'bytes', { expr: `sort_desc(sum by (org) (increase(daytwo_collector_org_bytes_total{${ORG}}[$__range])))` }, 'Message bytes newly stored in the dashboard\'s time range.'))
    .withPanel(series('Cost per org (per hour)', 'currencyUSD', [{ expr: `sum by (org) (rate(daytwo_collector_org_bytes_total{${ORG}}[$__rate_interval])) * 3600 / ${GIB} * $price_per_gib`, legend: '{{org}}' }], 'Bytes stored per hour × price per GiB (the variable above).'))
    .withPanel(series('Cost per org over the time range', 'currencyUSD', [{ expr: `sum by (org) (increase(daytwo_collector_org_bytes_total{${ORG}}[$__range])) / ${GIB} * $price_per_gib`, legend: '{{org}}' }]))
    .withRow(row('Log-rate limits'))
    .withPanel(series('Lines dropped by rate limits per org', 'short', [{ expr: `sum by (org) (rate(daytwo_collector_org_dropped_records_total{${ORG}}[$__rate_interval]))`, legend: '{{org}}' }], 'An app over its log-rate limit (alert DaytwoLogRateLimited).'))
    .withPanel(series('Bytes dropped by rate limits per org', 'Bps', [{ expr: `sum by (org) (rate(daytwo_collector_org_dropped_bytes_total{${ORG}}[$__rate_interval]))`, legend: '{{org}}' }]))
    .withPanel(series('Tenant claims ignored', 'short', [{ expr: 'sum(rate(daytwo_collector_untrusted_tenant_claims_total[$__rate_interval]))', legend: 'ignored' }], 'Records whose forwarder named an org, space or app it may not (collector.tenants.trustForwarderTenants).'))
}
