import { DaytwoError } from '../core/errors.js'
import { compareNs, nowNs, nsToRfc3339, parseTimeArg } from '../core/time.js'
import type { Command } from './main.js'
import { QueryClient } from './client.js'
import { lokiGet, type LokiMatrix, type LokiStreams } from './loki-client.js'
import { terminalLine, terminalSafe } from './terminal-text.js'
import { commandArgs } from './args.js'

// `logs query '<LogQL>'`: like `logcli query`, through the query service's Loki API
// (GET /loki/api/v1/query_range), so a query answers here what it answers in Grafana.

const USAGE = `Usage: logs query '<LogQL>' [options]

Runs a LogQL query over a time range, like \`logcli query\`. A log query prints lines,
newest first unless --forward; a metric query (count_over_time, rate, sum by …) prints
one table per series: time and value.

Time range (default: the last hour):
  --since DUR          the range ends now and starts DUR before (90s, 30m, 2h, 7d)
  --from TIME          start: RFC 3339 (2026-11-23T10:00:00Z), Unix seconds, or a duration
  --to TIME            end (default: now)
  --step DUR           a metric query's resolution (default: the server's, about 250 points)

Lines:
  --limit N            at most N lines (default 100)
  --forward            oldest first
  -o, --output raw|jsonl|wide
                       wide (default): "<time> {labels} <line>"; raw: the lines alone;
                       jsonl: one JSON object per line {ts, labels, line}
  --url URL, --token TOKEN as for \`logs fetch\`

Examples:
  logs query '{deployment="cf", job="router"} |= "error"'
  logs query '{job="router"} |~ " 5[0-9]{2} "' --since 15m --limit 20 -o raw
  logs query 'sum by (job) (count_over_time({deployment="cf"}[5m]))' --since 2h
  logs query '{deployment="demo"} | json | level="error"' --forward -o jsonl

A query the server cannot parse is answered with its parse error, as Loki words it.
Exit codes: 0 answered, 1 error (bad LogQL, unreachable server: the URL tried), 2 no command.
`

function labelString (l: Record<string, string>): string {
  return '{' + Object.keys(l).sort().map((k) => `${k}=${JSON.stringify(l[k])}`).join(', ') + '}'
}

export function printStreams (result: LokiStreams, output: string, forward: boolean, limit: number): string {
  const lines: Array<{ ts: string, labels: Record<string, string>, line: string }> = []
  for (const s of result) for (const [ts, line] of s.values) lines.push({ ts, labels: s.stream, line })
  lines.sort((a, b) => (forward ? 1 : -1) * compareNs(a.ts, b.ts))
  const tty = process.stdout.isTTY === true
  const safe = (s: string) => tty ? terminalLine(s) : s
  let out = ''
  for (const l of lines.slice(0, limit)) {
    if (output === 'jsonl') out += JSON.stringify({ ts: nsToRfc3339(l.ts), labels: l.labels, line: l.line }) + '\n'
    else if (output === 'raw') out += safe(l.line) + '\n'
    else out += `${nsToRfc3339(l.ts)} ${terminalSafe(labelString(l.labels))} ${safe(l.line)}\n`
  }
  return out
}

export function printMatrix (result: LokiMatrix, output: string): string {
  if (output === 'jsonl') return result.map((s) => JSON.stringify(s)).join('\n') + (result.length > 0 ? '\n' : '')
  let out = ''
  for (const s of result) {
    out += terminalSafe(labelString(s.metric)) + '\n'
    out += '  TIME                      VALUE\n'
    for (const [t, v] of s.values) out += `  ${new Date(t * 1000).toISOString().padEnd(24)}  ${v}\n`
    out += '\n'
  }
  return out || '(no series)\n'
}

export const queryCommand: Command = {
  summary: 'logs query — run a LogQL query, like `logcli query`',
  usage: USAGE,
  async run (argv) {
    const parsed = commandArgs(argv, { since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, step: { type: 'string' }, limit: { type: 'string' }, forward: { type: 'boolean' }, output: { type: 'string', short: 'o' }, url: { type: 'string' }, token: { type: 'string' } }, 'query')
    const { positionals, values } = parsed
    if (positionals.length !== 1) throw new DaytwoError('USAGE', positionals.length === 0 ? "give a LogQL query, e.g. '{deployment=\"cf\"}'" : 'one query at a time: quote it', 'query')
    const output = values.output ?? 'wide'
    if (!['raw', 'jsonl', 'wide'].includes(output)) throw new DaytwoError('USAGE', `-o ${output}: use raw, jsonl or wide`, 'query')
    const limit = values.limit ?? '100'
    if (!/^\d+$/.test(limit) || Number(limit) < 1) throw new DaytwoError('USAGE', `--limit ${limit}: give a whole number from 1`, 'query')
    if (values.since !== undefined && values.from !== undefined) throw new DaytwoError('USAGE', '--since and --from both set the start: give one', 'query')
    const now = BigInt(nowNs())
    const time = (flag: string, v: string | undefined, dflt: bigint) => {
      if (v === undefined) return dflt
      const t = parseTimeArg(v, now)
      if (t === null) throw new DaytwoError('USAGE', `${flag} ${v}: give RFC 3339 (2026-11-23T10:00:00Z), Unix seconds, or a duration before now (90s, 2h, 7d)`, 'query')
      return t
    }
    const end = time('--to', values.to, now)
    const start = time(values.since !== undefined ? '--since' : '--from', values.since ?? values.from, end - 3_600_000_000_000n)
    if (start > end) throw new DaytwoError('USAGE', 'the range starts after it ends', 'query')
    const client = new QueryClient({ url: values.url, token: values.token })
    const data = await lokiGet(client, 'query_range', {
      query: positionals[0],
      start: start.toString(),
      end: end.toString(),
      limit,
      step: values.step,
      direction: values.forward === true ? 'forward' : 'backward'
    })
    if (data.resultType === 'streams') process.stdout.write(printStreams(data.result as LokiStreams, output, values.forward === true, Number(limit)))
    else process.stdout.write(printMatrix(data.result as LokiMatrix, output))
    return 0
  }
}
