import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { daytwoDashboard, labelVariable, row, series, single, tabulate } from './panels.js'

// Fleet: what BOSH's health monitor and `bosh instances` answer — instances up and silent by
// deployment and job — then log rate per job, node and process resources. Series from the
// collector's /fleet/metrics (labels deployment, job, index, node).

const SEL = 'deployment=~"$deployment", job=~"$job"'
const BY = 'max by (deployment, job, index, node) '

export function fleetDashboard (): DashboardBuilder {
  return daytwoDashboard('daytwo-fleet', 'daytwo / Fleet', 'Instances up and silent by deployment and job, log rate per job, node and process resources.')
    .withVariable(labelVariable('deployment', 'Deployment', 'label_values(daytwo_instance_up, deployment)'))
    .withVariable(labelVariable('job', 'Job', 'label_values(daytwo_instance_up{deployment=~"$deployment"}, job)'))
    .withRow(row('Instances'))
    .withPanel(single('Instances up', 'none', { expr: `sum(daytwo_instance_up{${SEL}})` }))
    .withPanel(single('Instances down', 'none', { expr: `count(daytwo_instance_up{${SEL}} == 0) or vector(0)` }, 'Reported by no forwarder within collector.fleet.heartbeatTimeoutMs (alert DaytwoInstanceDown).'))
    .withPanel(single('Instances silent', 'none', { expr: `sum(daytwo_instance_silent{${SEL}})` }, 'Up, but no log line for longer than collector.fleet.silentAfterMs (alert DaytwoInstanceSilent).'))
    .withPanel(single('Nodes reporting', 'none', { expr: 'count(count by (node) (daytwo_node_last_report_timestamp_seconds))' }))
    .withPanel(tabulate('Instances', 'none', { expr: `${BY}(daytwo_instance_up{${SEL}}) + 2 * (${BY}(daytwo_instance_silent{${SEL}}) or 0 * ${BY}(daytwo_instance_up{${SEL}}))` }, '1 up and logging, 3 up and silent, 0 down, 2 down and silent (an instance that never logged counts as not silent).'))
    .withPanel(series('Up by deployment/job', 'none', [{ expr: `sum by (deployment, job) (daytwo_instance_up{${SEL}})`, legend: '{{deployment}}/{{job}}' }]))
    .withPanel(series('Silent by deployment/job', 'none', [{ expr: `sum by (deployment, job) (daytwo_instance_silent{${SEL}})`, legend: '{{deployment}}/{{job}}' }]))
    .withRow(row('Logs'))
    .withPanel(series('Log lines per job', 'short', [{ expr: `sum by (deployment, job) (rate(daytwo_log_lines_total{${SEL}}[$__rate_interval]))`, legend: '{{deployment}}/{{job}}' }], 'Lines per second, as the forwarders read them.'))
    .withPanel(series('Log bytes per job', 'Bps', [{ expr: `sum by (deployment, job) (rate(daytwo_log_bytes_total{${SEL}}[$__rate_interval]))`, legend: '{{deployment}}/{{job}}' }]))
    .withPanel(series('Error and warning lines per job', 'short', [{ expr: `sum by (deployment, job, level) (rate(daytwo_log_lines_by_level_total{${SEL}, level=~"error|warn"}[$__rate_interval]))`, legend: '{{deployment}}/{{job}} {{level}}' }]))
    .withPanel(series('Log file rotations per job', 'short', [{ expr: `sum by (deployment, job) (increase(daytwo_log_file_rotations_total{${SEL}}[1h]))`, legend: '{{deployment}}/{{job}}' }], 'Rotations in the last hour.'))
    .withRow(row('Nodes'))
    .withPanel(series('CPU busy per node', 'percentunit', [{ expr: '1 - avg by (node) (rate(daytwo_node_cpu_seconds_total{mode="idle"}[$__rate_interval]))', legend: '{{node}}' }]))
    .withPanel(series('Memory used per node', 'percentunit', [{ expr: '1 - max by (node) (daytwo_node_memory_available_bytes) / max by (node) (daytwo_node_memory_total_bytes)', legend: '{{node}}' }]))
    .withPanel(series('Load per node', 'short', [{ expr: 'max by (node) (daytwo_node_load1)', legend: '{{node}} 1m' }, { expr: 'max by (node) (daytwo_node_load15)', legend: '{{node}} 15m' }]))
    .withPanel(series('Free space of daytwo\'s paths', 'percentunit', [{ expr: 'min by (node, use) (daytwo_node_path_avail_bytes / daytwo_node_path_size_bytes)', legend: '{{node}} {{use}}' }], 'Data directory and log roots.'))
    .withRow(row('Job processes'))
    .withPanel(series('Processes up', 'none', [{ expr: `sum by (deployment, job, process) (daytwo_job_process_up{${SEL}})`, legend: '{{deployment}}/{{job}} {{process}}' }]))
    .withPanel(series('Process restarts', 'short', [{ expr: `sum by (deployment, job, process) (increase(daytwo_job_process_restarts_total{${SEL}}[1h]))`, legend: '{{deployment}}/{{job}} {{process}}' }], 'Restarts in the last hour.'))
    .withPanel(series('Process CPU', 'percentunit', [{ expr: `sum by (deployment, job, process) (rate(daytwo_job_process_cpu_seconds_total{${SEL}}[$__rate_interval]))`, legend: '{{deployment}}/{{job}} {{process}}' }]))
    .withPanel(series('Process resident memory', 'bytes', [{ expr: `sum by (deployment, job, process) (daytwo_job_process_resident_memory_bytes{${SEL}})`, legend: '{{deployment}}/{{job}} {{process}}' }]))
}
