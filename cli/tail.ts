import { once } from 'node:events'
import { DaytwoError } from '../core/errors.js'
import type { StreamBatch } from '../core/record.js'
import { compileRegex, type LineRegex } from '../core/regex.js'
import { nsToRfc3339 } from '../core/time.js'
import type { Command } from './main.js'
import { QueryClient } from './client.js'
import { parseFetchFlags, runText, type LineSink } from './fetch.js'
import { TextWriter } from './text-writer.js'
import { terminalLine } from './terminal-text.js'
import { commandArgs } from './args.js'

// `logs tail`: `logs fetch --follow` under the name people type, with tail's -n (10 by
// default, per file) and a --grep applied here, line by line, before printing.

const USAGE = `Usage: logs tail <deployment>[/<job>[/<index>]] [options]

Prints the last lines of every file of a deployment, job or instance, then new lines as
they arrive, until interrupted (Ctrl-C) — \`logs fetch --follow\` under the name people
type. Reconnects by itself after the query service restarts: no gap, no repeat.

Options:
  -n, --lines N            the last N lines of each file first (default 10)
  --grep RE                only lines matching RE (RE2 syntax, as LogQL's |~)
  --since TIME             start from TIME instead (RFC 3339, Unix seconds, or 90s/2h/7d)
  --only GLOB              only files whose name matches GLOB; repeatable
  -o, --output wide|raw|jsonl
                           wide (default): "<job>/<index> <process>/<file>: <line>";
                           raw: the lines alone; jsonl: one JSON object per line
                           {deployment, job, index, process, file, ts, line}
  --url URL, --token TOKEN as for \`logs fetch\`

Examples:
  logs tail cf/router                   every router instance
  logs tail cf/router/0 --grep ' 5[0-9][0-9] '
  logs tail kube-system/coredns -o raw -n 100
  logs tail demo -o jsonl | jq .line

Exit codes: 0 stopped by a closed pipe, 1 error (an unknown deployment or job lists the
known ones; an unreachable server names the URL tried), 130 interrupted.
`

class FilteredSink implements LineSink {
  private readonly text: TextWriter | undefined
  private broken = false
  private readonly tty = process.stdout.isTTY === true

  constructor (format: 'wide' | 'raw' | 'jsonl', private readonly grep: LineRegex | undefined) {
    if (format !== 'jsonl') this.text = new TextWriter(process.stdout, format === 'wide')
    else process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') this.broken = true; else throw err })
  }

  get closed (): boolean { return this.text?.closed ?? this.broken }

  async write (g: StreamBatch): Promise<void> {
    const entries = this.grep === undefined ? g.entries : g.entries.filter((e) => this.grep!.test(e[2]))
    if (entries.length === 0) return
    if (this.text !== undefined) return await this.text.write({ stream: g.stream, entries })
    if (this.broken) return
    const s = g.stream
    const file = s.path.slice(s.path.lastIndexOf('/') + 1)
    let chunk = ''
    // JSON escapes control characters itself; terminalLine is not needed for jsonl.
    for (const e of entries) chunk += JSON.stringify({ deployment: s.deployment, job: s.job, index: s.index, process: s.process, file, ts: nsToRfc3339(e[0]), line: this.tty ? terminalLine(e[2]) : e[2] }) + '\n'
    if (!process.stdout.write(chunk)) await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'error')])
  }
}

export const tailCommand: Command = {
  summary: 'logs tail — the last lines of a deployment, job or instance, then new ones as they come',
  usage: USAGE,
  async run (argv) {
    const parsed = commandArgs(argv, { lines: { type: 'string', short: 'n' }, grep: { type: 'string' }, since: { type: 'string' }, only: { type: 'string', multiple: true }, output: { type: 'string', short: 'o' }, url: { type: 'string' }, token: { type: 'string' } }, 'tail')
    const { positionals, values } = parsed
    const output = values.output ?? 'wide'
    if (output !== 'wide' && output !== 'raw' && output !== 'jsonl') throw new DaytwoError('USAGE', `-o ${output}: use wide, raw or jsonl`, 'tail')
    let grep: LineRegex | undefined
    if (values.grep !== undefined) {
      try { grep = compileRegex(values.grep, false) } catch (err) { throw new DaytwoError('USAGE', `--grep ${values.grep}: ${(err as Error).message}`, 'tail') }
    }
    // The fetch flags check the target, -n and --since the same way `logs fetch` does.
    const args = [...positionals, '--follow']
    if (values.since !== undefined) args.push('--since', values.since)
    else args.push('--num', values.lines ?? '10')
    if (values.since !== undefined && values.lines !== undefined) args.push('--num', values.lines)
    for (const o of values.only ?? []) args.push('--only', o)
    let f
    try {
      f = parseFetchFlags(args)
    } catch (err) {
      if (err instanceof DaytwoError) throw new DaytwoError('USAGE', err.message.replace(/ \(see `logs fetch --help`\)$/, '').replace('--num', '-n'), 'tail')
      throw err
    }
    const client = new QueryClient({ url: values.url, token: values.token })
    return await runText(client, f, new FilteredSink(output, grep))
  }
}
