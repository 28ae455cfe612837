import { parseArgs } from 'node:util'
import { DaytwoError } from '../core/errors.js'
import { parseTimeParam, TIME_FORMS } from '../core/time.js'
import type { Command } from './main.js'
import { QueryClient, errorBodyMessage } from './client.js'
import { formatBytes } from './progress.js'
import { terminalMessage, terminalSafe } from './terminal-text.js'

interface Row { org: string, app?: string, day?: string, lines: number, bytes: number, droppedLines: number, droppedBytes: number, cost: number }
interface Report { from: string, to: string, by: string, currency: string, pricePerGiB: number, rows: Row[], totals: Row, drops: Array<{ reason: string, lines: number, bytes: number }> }

const USAGE = `Usage: logs usage [--org ORG] [--from T] [--to T] [--by org|app|day] [--format table|csv|json]

Bytes and lines stored per tenant, records dropped by rate limits, and what it costs at
query.usage.pricePerGiB. A tenant token sees its own org only.

Options:
  --org ORG                    one org (a tenant token may only name its own)
  --from T                     start: RFC 3339, Unix seconds, or a duration before now
                               (default: 30d)
  --to T                       end (default: now)
  --by org|app|day             one row per org (default), per org and app, or per day and org
  --format table|csv|json      table (default) for people; csv for spreadsheets; json is
                               the API's answer as is (with the chart's time series)
  --url URL, --token TOKEN     as for \`logs fetch\`

The same report over HTTP: GET /api/v1/usage?org=&from=&to=&by=&format=json|csv, and as a
page with a chart at <query URL>/usage.

Examples:
  logs usage                               every org, the last 30 days
  logs usage --by app --from 24h
  logs usage --org acme --by day --from 2026-11-01T00:00:00Z --format csv > acme.csv
`

function table (r: Report): string {
  const keys = r.by === 'app' ? ['org', 'app'] : r.by === 'day' ? ['day', 'org'] : ['org']
  const head = [...keys.map((k) => k.toUpperCase()), 'LINES', 'BYTES', 'DROPPED LINES', 'DROPPED BYTES', `COST (${r.currency})`]
  const line = (row: Row, label?: string) => [
    ...keys.map((k, i) => label !== undefined ? (i === 0 ? label : '') : (terminalSafe(String((row as unknown as Record<string, string>)[k] ?? '')) || '(none)')),
    row.lines.toLocaleString('en'), formatBytes(row.bytes), row.droppedLines.toLocaleString('en'), formatBytes(row.droppedBytes), row.cost.toFixed(2)
  ]
  const body = [head, ...r.rows.map((row) => line(row)), line(r.totals, 'TOTAL')]
  const widths = head.map((_, i) => Math.max(...body.map((b) => b[i]!.length)))
  const fmt = (cells: string[]) => cells.map((c, i) => i < keys.length ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ').trimEnd()
  let out = `Usage from ${r.from} to ${r.to}, at ${r.pricePerGiB} ${r.currency}/GiB\n\n`
  out += body.map(fmt).join('\n') + '\n'
  if (r.drops.length > 0) out += '\nDropped before the store:\n' + r.drops.map((d) => `  ${d.reason}: ${d.lines.toLocaleString('en')} lines, ${formatBytes(d.bytes)}`).join('\n') + '\n'
  return out
}

export const usageCommand: Command = {
  summary: 'logs usage — bytes, lines, drops and cost per org, app or day',
  usage: USAGE,
  async run (argv) {
    let values
    try {
      values = parseArgs({
        args: argv,
        options: { org: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, by: { type: 'string' }, format: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } }
      }).values
    } catch (err) {
      throw new DaytwoError('USAGE', (err as Error).message.split('. ')[0]!.replace(/\.$/, ''), 'usage')
    }
    const by = values.by ?? 'org'
    if (!['org', 'app', 'day'].includes(by)) throw new DaytwoError('USAGE', `--by ${by}: use org, app or day`, 'usage')
    const format = values.format ?? 'table'
    if (!['table', 'csv', 'json'].includes(format)) throw new DaytwoError('USAGE', `--format ${format}: use table, csv or json`, 'usage')
    for (const k of ['from', 'to'] as const) {
      const v = values[k]
      if (v !== undefined && parseTimeParam(v) === null) throw new DaytwoError('USAGE', `--${k} ${v}: give ${TIME_FORMS}`, 'usage')
    }
    const client = new QueryClient({ url: values.url, token: values.token })
    const params = { org: values.org, from: values.from, to: values.to, by, format: format === 'csv' ? 'csv' : 'json' }
    if (format === 'csv') {
      const res = await client.get('/api/v1/usage', params)
      const text = await res.text()
      if (!res.ok) {
        throw new DaytwoError(res.status === 403 ? 'FORBIDDEN' : 'BAD_QUERY', terminalMessage(errorBodyMessage(text)))
      }
      // The server's CSV is already neutralised for spreadsheets (query/usage/report.ts).
      process.stdout.write(text)
      return 0
    }
    const report = await client.json<Report>('/api/v1/usage', params)
    process.stdout.write(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : table(report))
    return 0
  }
}
