import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../core/config.js'
import { DaytwoError } from '../core/errors.js'
import { createLogger } from '../core/logger.js'
import { PRIVATE_UMASK, tightenPrivate } from '../core/private-files.js'
import type { RoleStarter, RunningRole } from '../core/role.js'
import type { LogStore } from '../store/log-store.js'
import type { Command } from './main.js'
import { VERSION } from '../core/version.js'
import { DEMO_DEPLOYMENT, DEMO_JOB, rootsEmpty, startDemo, type DemoSource } from './demo-source.js'

const ROLES = ['collector', 'query', 'forwarder'] as const // start order: sinks first
type Role = typeof ROLES[number]

const starters: Record<Role, () => Promise<RoleStarter>> = {
  collector: async () => (await import('../collector/role.js')).start,
  query: async () => (await import('../query/role.js')).start,
  forwarder: async () => (await import('../forwarder/role.js')).start
}

function parseRoles (arg: string | undefined): Role[] {
  if (arg === undefined) throw new DaytwoError('CONFIG', 'name the roles to run: all, or any of forwarder,collector,query')
  if (arg === 'all') return [...ROLES]
  const wanted = arg.split(',').map((s) => s.trim())
  for (const r of wanted) if (!(ROLES as readonly string[]).includes(r)) throw new DaytwoError('CONFIG', `unknown role '${r}': use forwarder, collector, query or all`)
  return ROLES.filter((r) => wanted.includes(r))
}

/** A secret kept in the data dir so that it survives restarts (mode 0600). */
function localSecret (dataDir: string, name: string): string {
  const file = join(dataDir, name)
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const token = randomBytes(24).toString('base64url')
    writeFileSync(file, token + '\n', { mode: 0o600 })
    return token
  }
}

/**
 * On a laptop (`serve all`) nobody should have to invent tokens: roles that run together
 * share a generated forwarder token, and an operator token is written for the CLI.
 */
function fillLocalTokens (config: Config, roles: Role[]): void {
  if (roles.includes('forwarder') && roles.includes('collector')) {
    if (!config.forwarder.token) config.forwarder.token = localSecret(config.dataDir, 'forwarder-token')
    if (!config.collector.tokens.includes(config.forwarder.token)) config.collector.tokens.push(config.forwarder.token)
  }
  if (roles.includes('query') && config.query.tokens.length === 0) {
    config.query.tokens.push(localSecret(config.dataDir, 'operator-token'))
  }
}

/**
 * The environment a `logs` command typed in this directory needs to reach this process:
 * nothing at the defaults, else the query URL and the data dir holding the operator token.
 */
function cliEnv (queryUrl: string, dataDir: string): string {
  let env = ''
  if (queryUrl.replace(/\/+$/, '') !== 'http://127.0.0.1:9603') env += `DAYTWO_QUERY_URL=${queryUrl} `
  if (dataDir !== resolve('.data')) env += `DAYTWO_DATA_DIR=${dataDir} `
  return env
}

export const serveCommand: Command = {
  summary: 'logs serve — run daytwo roles in this process',
  usage: `Usage: logs serve <all | forwarder,collector,query> [--config FILE]

Options:
  -c, --config FILE   JSON config file (also DAYTWO_CONFIG); every key can be set as a
                      DAYTWO_* environment variable too: \`logs config reference\` lists them

Roles:
  forwarder   tails container and BOSH job logs on this node and ships them to a collector
  collector   receives batches from forwarders and writes them to the store
  query       serves logs to \`logs fetch\` and other clients

With \`all\`, every role runs here with the embedded store in <dataDir>/store, tokens are
generated into <dataDir>, and the forwarder ships to this process's collector.
`,
  async run (argv) {
    // Before anything is created: data files 0600, folders 0700 (core/private-files.ts).
    process.umask(PRIVATE_UMASK)
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' } } })
    const roles = parseRoles(positionals[0])
    const config = loadConfig(values.config ? { file: values.config } : {})
    config.dataDir = resolve(config.dataDir)
    const log = createLogger(config.logLevel)
    const { changed: loosened, failed } = tightenPrivate([
      { path: config.dataDir, recursive: false },
      { path: join(config.dataDir, 'forwarder-token'), recursive: false },
      { path: join(config.dataDir, 'operator-token'), recursive: false },
      { path: join(config.dataDir, 'forwarder'), recursive: true },
      { path: config.store.path || join(config.dataDir, 'store'), recursive: true }
    ])
    if (loosened.length > 0) log.warn({ count: loosened.length, paths: loosened.slice(0, 10) }, `${loosened.length} data files or folders were open to other users: made private to this user (files 0600, folders 0700)`)
    if (failed.length > 0) log.warn({ paths: failed.slice(0, 10) }, `${failed.length} data files or folders are open to other users and could not be made private`)
    fillLocalTokens(config, roles)

    let storePromise: Promise<LogStore> | undefined
    const store = async () => {
      storePromise ??= import('../store/open-store.js').then((m) => m.openStore(config))
      return await storePromise
    }
    const running: RunningRole[] = []
    const stopAll = async () => {
      demo?.stop()
      for (const r of running.reverse()) {
        try { await r.stop() } catch (err) { log.error({ err, role: r.name }, 'stopping failed') }
      }
      if (storePromise) await (await storePromise).close()
    }
    // First run on a laptop: nothing to tail, so a demo job to look at (cli/demo-source.ts).
    let demo: DemoSource | undefined
    if (roles.length === ROLES.length && config.demo && rootsEmpty(config)) demo = startDemo(config)
    try {
      for (const role of roles) {
        if (role === 'forwarder') {
          const collector = running.find((r) => r.name === 'collector')
          // In one process the forwarder ships to its own collector, wherever it listens.
          if (collector && !process.env.DAYTWO_FORWARDER_COLLECTOR_URL) config.forwarder.collectorUrl = collector.url
        }
        const start = await starters[role]()
        running.push(await start({ config, log, store }))
      }
    } catch (err) {
      await stopAll()
      throw err
    }

    const lines = [`daytwo ${VERSION} — ${roles.join(', ')} (data in ${config.dataDir})`]
    for (const r of running) lines.push(`  ${r.name.padEnd(10)} ${r.url}  ${r.summary}`)
    if (demo) lines.push('', `No logs under the forwarder's roots here: tailing a demo job's files in ${demo.root} (deployment '${DEMO_DEPLOYMENT}'; config demo=false turns it off).`)
    if (roles.includes('query')) {
      const target = demo ? `${DEMO_DEPLOYMENT}/${DEMO_JOB}` : '<deployment>/<job>'
      const env = cliEnv(running.find((r) => r.name === 'query')!.url, config.dataDir)
      lines.push('', 'Try (`npx logs` inside the checkout, `logs` after `npm install -g .`):')
      lines.push(`  ${env}logs ls`, `  ${env}logs tail ${target}`, `  ${env}logs fetch ${target}`)
      lines.push(`  curl -s ${running[0]!.url}/metrics | head`)
    }
    process.stdout.write(lines.join('\n') + '\n')

    await new Promise<void>((resolveStop) => {
      const onSignal = (sig: string) => {
        log.info({ signal: sig }, 'stopping: shipping what is buffered and saving checkpoints (a second signal exits at once)')
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.once('SIGINT', () => process.exit(130))
        process.once('SIGTERM', () => process.exit(143))
        resolveStop()
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
    })
    // A stop that hangs (a peer that never answers) must not keep the process: a deadline.
    const deadline = setTimeout(() => {
      log.error('stopping took longer than 20 s; exiting anyway')
      process.exit(1)
    }, 20_000)
    deadline.unref()
    await stopAll()
    clearTimeout(deadline)
    // Everything is stopped and flushed; idle keep-alive sockets and the like must not keep
    // the process alive after that.
    log.flush()
    setImmediate(() => process.exit(0))
    return 0
  }
}
