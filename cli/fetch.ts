import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { DaytwoError } from '../core/errors.js'
import { parseTimeParam, TIME_FORMS } from '../core/time.js'
import type { Command } from './main.js'
import { BundleWriter } from './bundle-writer.js'
import { QueryClient, errorBodyMessage, type ClientResponse } from './client.js'
import { FILE_FRAMES, fileFrames } from '../core/file-frames.js'
import { logGroups } from './log-groups.js'
import type { StreamBatch } from '../core/record.js'
import { Progress, formatBytes } from './progress.js'
import { TextWriter } from './text-writer.js'
import { notFoundMessage } from './not-found.js'
import { safeComponent } from './safe-name.js'
import { terminalMessage, terminalSafe } from './terminal-text.js'

interface Target { deployment: string, job?: string | undefined, index?: string | undefined }

const MAX_NUM = 10_000_000

export function parseTarget (s: string | undefined): Target {
  if (!s) throw new DaytwoError('USAGE', 'name what to fetch: <deployment>[/<job>[/<index>]]', 'fetch')
  const parts = s.split('/')
  if (parts.length > 3 || parts.some((p) => p === '')) throw new DaytwoError('USAGE', `'${s}' is not <deployment>[/<job>[/<index>]]`, 'fetch')
  return { deployment: parts[0]!, job: parts[1], index: parts[2] }
}

/** `cf.router.0-20261123-101500.tgz`, in UTC, like `bosh logs`; each name made safe for a file name (safe-name.ts). */
export function bundleName (t: Target, now = new Date()): string {
  const iso = now.toISOString()
  const stamp = iso.slice(0, 10).replace(/-/g, '') + '-' + iso.slice(11, 19).replace(/:/g, '')
  return [t.deployment, t.job, t.index].filter(Boolean).map((x) => safeComponent(x!)).join('.') + `-${stamp}.tgz`
}

const OPTIONS = {
  dir: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  num: { type: 'string', short: 'n' },
  only: { type: 'string', multiple: true },
  follow: { type: 'boolean', short: 'f' },
  format: { type: 'string' },
  'no-prefix': { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' }
} as const

export interface FetchFlags {
  target: Target
  dir: string
  since?: string | undefined
  until?: string | undefined
  num?: string | undefined
  only: string[]
  follow: boolean
  format: 'tgz' | 'text'
  prefix: boolean
  url?: string | undefined
  token?: string | undefined
}

/** Flags checked before anything is asked of the server, each mistake named. */
export function parseFetchFlags (argv: string[]): FetchFlags {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS })
  } catch (err) {
    throw new DaytwoError('USAGE', (err as Error).message.split('. ')[0]!.replace(/\.$/, ''), 'fetch')
  }
  const { positionals, values } = parsed
  if (positionals.length > 1) throw new DaytwoError('USAGE', `one target at a time, got ${positionals.join(' ')}`, 'fetch')
  const target = parseTarget(positionals[0])
  const follow = values.follow === true
  const format = values.format ?? (follow ? 'text' : 'tgz')
  if (format !== 'tgz' && format !== 'text') throw new DaytwoError('USAGE', `--format ${format}: use tgz or text`, 'fetch')
  if (follow && format === 'tgz') throw new DaytwoError('USAGE', '--follow streams lines to stdout: it works with --format text, not tgz', 'fetch')
  if (follow && values.until !== undefined) throw new DaytwoError('USAGE', '--follow waits for new lines; --until would stop them', 'fetch')
  if (values['no-prefix'] && format !== 'text') throw new DaytwoError('USAGE', '--no-prefix applies to --format text', 'fetch')
  if (values.dir !== undefined && format === 'text') throw new DaytwoError('USAGE', '--dir applies to --format tgz; text goes to stdout', 'fetch')
  if (values.num !== undefined && (!/^\d+$/.test(values.num) || Number(values.num) < 1 || Number(values.num) > MAX_NUM)) {
    throw new DaytwoError('USAGE', `--num ${values.num}: give a whole number of lines from 1 to ${MAX_NUM}`, 'fetch')
  }
  const times: Record<string, bigint> = {}
  for (const k of ['since', 'until'] as const) {
    const v = values[k]
    if (v === undefined) continue
    const t = parseTimeParam(v)
    if (t === null) throw new DaytwoError('USAGE', `--${k} ${v}: give ${TIME_FORMS}`, 'fetch')
    times[k] = t
  }
  if (times.since !== undefined && times.until !== undefined && times.since > times.until) {
    throw new DaytwoError('USAGE', `--since ${values.since} is after --until ${values.until}`, 'fetch')
  }
  return {
    target,
    dir: resolve(values.dir ?? '.'),
    since: values.since,
    until: values.until,
    num: values.num,
    only: values.only ?? [],
    follow,
    format,
    prefix: values['no-prefix'] !== true,
    url: values.url,
    token: values.token
  }
}

function query (f: FetchFlags, after?: string): URLSearchParams {
  const p = new URLSearchParams()
  p.set('deployment', f.target.deployment)
  if (f.target.job) p.set('job', f.target.job)
  if (f.target.index) p.set('index', f.target.index)
  if (f.since) p.set('since', f.since)
  if (f.until) p.set('until', f.until)
  if (f.num && after === undefined) p.set('num', f.num)
  for (const o of f.only) p.append('only', o)
  if (f.follow) p.set('follow', '1')
  if (after) p.set('after', after)
  return p
}

/** The logs response, or the error it carries. `accept`: FILE_FRAMES for a bundle. */
async function open (client: QueryClient, f: FetchFlags, after?: string, accept?: string): Promise<ClientResponse> {
  const res = await client.getQuery('/api/v1/logs', query(f, after), accept)
  if (res.status === 404) {
    const body = await res.json<{ message?: string }>()
    throw new DaytwoError('NOT_FOUND', await notFoundMessage(client, f.target, body.message ?? ''))
  }
  if (!res.ok) {
    throw new DaytwoError(res.status === 403 ? 'FORBIDDEN' : 'BAD_QUERY', terminalMessage(errorBodyMessage(await res.text())))
  }
  return res
}

const USAGE = `Usage: logs fetch <deployment>[/<job>[/<index>]] [options]

Downloads the logs of every instance of a job (or one instance, or a whole deployment)
as <deployment>.<job>[.<index>]-<YYYYMMDD-HHMMSS>.tgz, like \`bosh logs\`: one folder per
instance (<job>.<index>/), one file per original log file (<process>/<file>), lines in
their original order, byte for byte as the program wrote them. With --format text the
lines go to stdout instead, each prefixed with where it comes from.

Selecting lines:
  --since TIME       lines at or after TIME: RFC 3339 (2026-11-23T10:00:00Z), Unix
                     seconds, or a duration before now (90s, 30m, 2h, 7d)
  --until TIME       lines at or before TIME (same forms)
  -n, --num N        the last N lines of each file (after --since/--until)
  --only GLOB        only files whose name matches GLOB (*, ?, [abc]); repeatable.
                     A GLOB with a slash matches <process>/<file>: --only 'nginx/*'

Output:
  --format tgz|text  tgz (default): a bundle in --dir. text: lines on stdout,
                     prefixed "<job>/<index> <process>/<file>: "
  --no-prefix        text without the prefix, exactly the lines as written
  --dir DIR          where the bundle goes (default: the current directory)
  -f, --follow       print the history, then new lines as they arrive, until
                     interrupted (Ctrl-C); implies --format text. Reconnects by
                     itself, resuming after the last line printed: no gap, no repeat

Connection:
  --url URL          query service (default: DAYTWO_QUERY_URL, else http://127.0.0.1:9603)
  --token TOKEN      operator or tenant token (default: DAYTWO_TOKEN, else the
                     operator token that \`logs serve all\` wrote to <dataDir>)

A progress line is shown on a terminal (not when stderr is piped). An unknown
deployment, job or index is answered with the ones that exist.

Examples:
  logs fetch cf/router                          every router instance, all files
  logs fetch cf/router/0 --since 2h             one instance, the last two hours
  logs fetch cf/router --only '*.stderr.log' -n 100
  logs fetch cf/router --format text | grep -i error
  logs fetch kube-system/coredns -f             like \`bosh logs -f\` / \`kubectl logs -f\`
`

export const fetchCommand: Command = {
  summary: 'logs fetch — download a job\'s logs as a .tgz, or stream them, like `bosh logs`',
  usage: USAGE,
  async run (argv) {
    const f = parseFetchFlags(argv)
    const client = new QueryClient({ url: f.url, token: f.token })
    const label = [f.target.deployment, f.target.job, f.target.index].filter(Boolean).join('/')
    if (f.format === 'text') return await runText(client, f)

    // File frames copy each file's bytes into the tar stream unparsed; a server that does not
    // know them answers NDJSON, which works too.
    const res = await open(client, f, undefined, FILE_FRAMES)
    const bundle = await BundleWriter.create(f.dir, bundleName(f.target))
    const progress = new Progress(`fetching ${terminalSafe(label)}`)
    try {
      if (res.contentType === FILE_FRAMES) {
        for await (const ev of fileFrames(res.body)) {
          if (ev.kind === 'frame') await bundle.frame(ev.stream, ev.lines)
          else await bundle.writeBytes(ev.chunk)
          progress.update(bundle.lines, bundle.bytes)
        }
      } else {
        for await (const g of logGroups(res.body)) {
          await bundle.write(g)
          progress.update(bundle.lines, bundle.bytes)
        }
      }
      progress.update(bundle.lines, bundle.bytes, true)
      progress.done()
      const file = await bundle.finish()
      process.stdout.write(file + '\n')
      process.stderr.write(`${bundle.lines.toLocaleString('en')} lines (${formatBytes(bundle.bytes)}) from ${bundle.files} files in ${bundle.instanceCount} instances\n`)
      return 0
    } catch (err) {
      progress.done()
      await bundle.abort()
      throw err
    }
  }
}

/** Where text lines go: stdout through TextWriter, or a `logs tail` format (tail.ts). */
export interface LineSink {
  write: (g: StreamBatch) => Promise<void>
  readonly closed: boolean
}

/** Text to stdout; with --follow, reconnect after a drop and resume after the last line seen. */
export async function runText (client: QueryClient, f: FetchFlags, out: LineSink = new TextWriter(process.stdout, f.prefix)): Promise<number> {
  const seen = new Map<string, number>()
  let res = await open(client, f)
  for (;;) {
    try {
      for await (const g of logGroups(res.body)) {
        await out.write(g)
        seen.set(g.stream.id, g.entries[g.entries.length - 1]![1])
        if (out.closed) return 0
      }
      if (!f.follow) return 0
    } catch (err) {
      if (!f.follow || err instanceof DaytwoError) throw err
    }
    // The follow ended: the service restarted or the network dropped. Resume where we were.
    process.stderr.write('logs: connection to the query service lost; reconnecting…\n')
    for (;;) {
      await sleep(1000)
      try {
        res = await open(client, f, [...seen].map(([id, off]) => `${id}:${off}`).join(',') || undefined)
        break
      } catch (err) {
        if (err instanceof DaytwoError && err.code !== 'DAYTWO_ERR_UNREACHABLE') throw err
      }
    }
  }
}
