import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as table from '@grafana/grafana-foundation-sdk/table'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'

// The few panel shapes the daytwo dashboards use, built with Grafana's foundation SDK. Every
// query reads the `datasource` variable, so one JSON file works on any Prometheus data source.

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

export interface Query { expr: string, legend?: string }

function target (q: Query, i: number, instant = false): prometheus.DataqueryBuilder {
  const t = new prometheus.DataqueryBuilder().expr(q.expr).refId(String.fromCharCode(65 + i)).datasource(DATASOURCE)
  if (q.legend) t.legendFormat(q.legend)
  return instant ? t.instant().format(prometheus.PromQueryFormat.Table) : t.range()
}

/** A time series panel, half a row wide unless `span` says otherwise. */
export function series (title: string, unit: string, queries: Query[], description = '', span = 12): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder().title(title).unit(unit).datasource(DATASOURCE).height(8).span(span)
  if (description) p.description(description)
  queries.forEach((q, i) => p.withTarget(target(q, i)))
  return p
}

/** One number (the last value of one query), a quarter of a row wide. */
export function single (title: string, unit: string, q: Query, description = ''): stat.PanelBuilder {
  const p = new stat.PanelBuilder().title(title).unit(unit).datasource(DATASOURCE).height(4).span(6).withTarget(target(q, 0))
  if (description) p.description(description)
  return p
}

/** A table of one instant query, a full row wide. */
export function tabulate (title: string, unit: string, q: Query, description = ''): table.PanelBuilder {
  const p = new table.PanelBuilder().title(title).unit(unit).datasource(DATASOURCE).height(8).span(24).withTarget(target(q, 0, true))
  if (description) p.description(description)
  return p
}

export function row (title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title)
}

export function datasourceVariable (): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus')
}

/** A multi-value label variable, "All" by default, for `label=~"$name"` matchers. */
export function labelVariable (name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .query({ query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 })
    .definition(query)
    .datasource(DATASOURCE)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
}

/** A new dashboard with daytwo's common settings: tag, refresh, the datasource variable. */
export function daytwoDashboard (uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['daytwo'])
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
}
