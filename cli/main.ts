#!/usr/bin/env node
import { isDaytwoError } from '../core/errors.js'
import { VERSION } from '../core/version.js'

// `logs`: the one command of daytwo. This file is the composition root: it maps each
// subcommand to the module that implements it and loads only that one, so `logs fetch`
// never loads SQLite and `serve forwarder` never loads the query service.

export interface Command {
  summary: string
  usage: string
  run (argv: string[]): Promise<number>
}

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  ls: async () => (await import('./ls.js')).lsCommand,
  tail: async () => (await import('./tail.js')).tailCommand,
  query: async () => (await import('./query.js')).queryCommand,
  fetch: async () => (await import('./fetch.js')).fetchCommand,
  usage: async () => (await import('./usage.js')).usageCommand,
  config: async () => (await import('./config-command.js')).configCommand
}

const HELP = `logs — daytwo, logs and metrics for Kubernetes, Cloud Foundry and BOSH operators

Usage: logs <command> [options]

Commands:
  serve <roles>            run roles: forwarder, collector, query (comma-separated) or all
  ls [<dep>[/<job>]]       deployments, jobs and instances: last line, lines/s, up/silent
  tail <dep>[/<job>[/<i>]] the last lines, then new ones as they arrive
  query '<LogQL>'          a LogQL query over a time range, like \`logcli query\`
  fetch <dep>/<job>[/<i>]  download a job's logs as a .tgz, like \`bosh logs\`
  usage [--org O]          per-tenant bytes, lines, drops and cost
  config check|reference   validate the configuration, or print every key

Run \`logs <command> --help\` for a command's options.

Examples:
  logs serve all                          everything in one process, embedded store in ./.data
  logs ls                                 what is running, and whether it still speaks
  logs tail cf/router --grep error
  logs query 'sum by (job) (count_over_time({deployment="cf"}[5m]))' --since 1h
  logs fetch cf/router                    all instances of router in deployment cf
  logs fetch kube-system/coredns --dir /tmp --since 2h

The query commands find the server at DAYTWO_QUERY_URL (default http://127.0.0.1:9603)
with DAYTWO_TOKEN (default: the operator token \`logs serve all\` wrote to ./.data).

Exit codes: 0 success; 1 an error, explained on stderr with its code (DAYTWO_ERR_…);
2 no command or an unknown one.
`

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP)
    return name === undefined ? 2 : 0
  }
  if (name === '--version') {
    process.stdout.write(`daytwo ${VERSION}\n`)
    return 0
  }
  const load = commands[name]
  if (!load) {
    process.stderr.write(`logs: unknown command '${name}'\n\n${HELP}`)
    return 2
  }
  const cmd = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.summary}\n\n${cmd.usage}`)
    return 0
  }
  return await cmd.run(rest)
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  if (isDaytwoError(err)) process.stderr.write(`logs: ${err.message} [${err.code}]\n`)
  else process.stderr.write(`logs: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
