import { DaytwoError } from '../core/errors.js'
import { durationToNs, nowNs } from '../core/time.js'
import type { Command } from './main.js'
import { QueryClient } from './client.js'
import { lokiGet, logqlString, type LokiVector } from './loki-client.js'
import { notFoundMessage } from './not-found.js'
import { formatBytes } from './progress.js'
import { terminalSafe } from './terminal-text.js'
import { commandArgs } from './args.js'

// `logs ls`: what is running and whether it still speaks, like `bosh instances`. The
// instances and their files' last line times come from /api/v1/instances (the store's
// stream summaries, no line read); the recent rate and today's bytes from two Loki metric
// queries, which the store answers from its block summaries as well.

interface InstanceFile { process: string, path: string, lines: number, bytes: number, lastTsNs: string }
interface Instance { deployment: string, job: string, index: string, files: InstanceFile[] }

export interface LsRow {
  deployment: string
  job: string
  index: string
  files: number
  /** The newest line's time, RFC 3339. */
  lastLine: string
  lastLineAgeSeconds: number
  /** Lines per second over the --rate-window. */
  linesPerSecond: number
  bytesToday: number
  /** `silent`: no line for --silent-after (the store's last line time, not the fleet's daytwo_instance_silent). */
  state: 'up' | 'silent'
}

const USAGE = `Usage: logs ls [<deployment>[/<job>]] [options]

Lists deployments, jobs and instances, like \`bosh instances\`: for each instance its
files, how long ago its last line was stored, its recent rate, the bytes it stored today
(since midnight UTC) and whether it is up or silent.

"silent" here means the store's newest line of the instance is older than --silent-after.
(The fleet metrics daytwo_instance_up / daytwo_instance_silent, and their alerts, judge
from the forwarders' side; this command needs nothing but the query service.)

Options:
  -o, --output table|json  table (default) or one JSON document with a row per instance
  --silent-after DUR       an instance is silent after this long without a line (default 5m)
  --rate-window DUR        the window of the lines/s column (default 5m)
  --url URL, --token TOKEN as for \`logs fetch\` (default: DAYTWO_QUERY_URL, DAYTWO_TOKEN,
                           else http://127.0.0.1:9603 and the token \`logs serve all\` wrote)

Examples:
  logs ls                         every deployment
  logs ls cf                      the instances of deployment cf
  logs ls cf/router -o json | jq '.[] | select(.state == "silent")'

Exit codes: 0 listed, 1 error (unknown deployment or job: the known ones are listed;
unreachable server: the URL tried), 2 no command given.
`

function age (seconds: number): string {
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${Math.floor(seconds)}s`
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86400)}d`
}

function parseDuration (flag: string, v: string | undefined, dflt: string): bigint {
  const ns = durationToNs(v ?? dflt)
  if (ns === null || ns <= 0n) throw new DaytwoError('USAGE', `${flag} ${v}: give a duration (90s, 5m, 2h)`, 'ls')
  return ns
}

const key = (m: { deployment?: string, job?: string, index?: string }) => `${m.deployment ?? ''}\0${m.job ?? ''}\0${m.index ?? ''}`

/** One Loki instant metric query, as a map from instance to value. */
async function perInstance (client: QueryClient, selector: string, fn: string, rangeNs: bigint, at: bigint): Promise<Map<string, number>> {
  const range = `${(rangeNs + 999_999_999n) / 1_000_000_000n}s`
  const data = await lokiGet(client, 'query', { query: `sum by (deployment, job, index) (${fn}(${selector}[${range}]))`, time: at.toString() })
  const out = new Map<string, number>()
  for (const s of data.result as LokiVector) out.set(key(s.metric), Number(s.value[1]))
  return out
}

export async function listInstances (client: QueryClient, target: { deployment?: string | undefined, job?: string | undefined }, silentNs: bigint, rateNs: bigint): Promise<LsRow[]> {
  const { instances } = await client.json<{ instances: Instance[] }>('/api/v1/instances', { deployment: target.deployment, job: target.job })
  if (instances.length === 0 && target.deployment !== undefined) {
    throw new DaytwoError('NOT_FOUND', await notFoundMessage(client, { deployment: target.deployment, job: target.job }, ''))
  }
  if (instances.length === 0) return []
  const now = BigInt(nowNs())
  const matchers = [`deployment=~".+"`]
  if (target.deployment !== undefined) matchers[0] = `deployment=${logqlString(target.deployment)}`
  if (target.job !== undefined) matchers.push(`job=${logqlString(target.job)}`)
  const sel = `{${matchers.join(', ')}}`
  const dayNs = 86_400_000_000_000n
  const midnight = now - now % dayNs
  const [counts, bytes] = await Promise.all([
    perInstance(client, sel, 'count_over_time', rateNs, now),
    perInstance(client, sel, 'bytes_over_time', now - midnight || 1_000_000_000n, now)
  ])
  const rows = instances.map((i): LsRow => {
    const last = i.files.reduce((m, f) => BigInt(f.lastTsNs) > m ? BigInt(f.lastTsNs) : m, 0n)
    const ageNs = now - last
    const k = key(i)
    return {
      deployment: i.deployment,
      job: i.job,
      index: i.index,
      files: i.files.length,
      lastLine: new Date(Number(last / 1_000_000n)).toISOString(),
      lastLineAgeSeconds: Number(ageNs / 1_000_000n) / 1000,
      linesPerSecond: Math.round(((counts.get(k) ?? 0) / (Number(rateNs) / 1e9)) * 100) / 100,
      bytesToday: bytes.get(k) ?? 0,
      state: ageNs > silentNs ? 'silent' : 'up'
    }
  })
  return rows.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
}

export function lsTable (rows: LsRow[]): string {
  if (rows.length === 0) return 'No instances yet: is a forwarder shipping to this collector? (`logs serve all` tails this machine\'s logs)\n'
  const head = ['DEPLOYMENT', 'JOB/INDEX', 'STATE', 'LAST LINE', 'LINES/S', 'BYTES TODAY', 'FILES']
  const body = rows.map((r) => [terminalSafe(r.deployment), terminalSafe(`${r.job}/${r.index}`), r.state, `${age(r.lastLineAgeSeconds)} ago`, r.linesPerSecond.toFixed(2), formatBytes(r.bytesToday), String(r.files)])
  const all = [head, ...body]
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)))
  const fmt = (cells: string[]) => cells.map((x, c) => c >= 4 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!)).join('  ').trimEnd()
  const up = rows.filter((r) => r.state === 'up').length
  return all.map(fmt).join('\n') + `\n\n${rows.length} instances, ${up} up, ${rows.length - up} silent\n`
}

export const lsCommand: Command = {
  summary: 'logs ls — deployments, jobs and instances, with last line age, rate, bytes today, up/silent',
  usage: USAGE,
  async run (argv) {
    const parsed = commandArgs(argv, { output: { type: 'string', short: 'o' }, 'silent-after': { type: 'string' }, 'rate-window': { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } }, 'ls')
    const { positionals, values } = parsed
    if (positionals.length > 1) throw new DaytwoError('USAGE', `one deployment[/job] at a time, got ${positionals.join(' ')}`, 'ls')
    const parts = positionals[0]?.split('/') ?? []
    if (parts.length > 2 || parts.some((p) => p === '')) throw new DaytwoError('USAGE', `'${positionals[0]}' is not <deployment>[/<job>]`, 'ls')
    const output = values.output ?? 'table'
    if (output !== 'table' && output !== 'json') throw new DaytwoError('USAGE', `-o ${output}: use table or json`, 'ls')
    const silentNs = parseDuration('--silent-after', values['silent-after'], '5m')
    const rateNs = parseDuration('--rate-window', values['rate-window'], '5m')
    const client = new QueryClient({ url: values.url, token: values.token })
    const rows = await listInstances(client, { deployment: parts[0], job: parts[1] }, silentNs, rateNs)
    process.stdout.write(output === 'json' ? JSON.stringify(rows, null, 2) + '\n' : lsTable(rows))
    return 0
  }
}
