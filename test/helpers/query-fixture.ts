import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { append, corpusFiles, e2eConfig, type CorpusFile } from './corpus.js'
import { startDaytwo, tempDir, waitFor, type DaytwoProcess } from './daytwo-process.js'
import { totalStored } from './query-api.js'
import { cliPath } from './repo.js'

// A running `logs serve all` over a written corpus, for the query tests (fetch, usage).

export const OPERATOR = 'operator-secret'
export const INGEST = 'ingest-secret'
export const TENANTS = { acme: 'acme-secret', globex: 'globex-secret' }

export interface QueryFixture {
  daytwo: DaytwoProcess
  root: string
  files: CorpusFile[]
  env: NodeJS.ProcessEnv
  stop: () => Promise<void>
}

/** Start daytwo on a corpus of `linesPerFile` lines per file; resolves once the query API has them all. */
export async function startQueryFixture (linesPerFile: number, extra: Record<string, unknown> = {}): Promise<QueryFixture> {
  const tmp = tempDir('daytwo-query-')
  const files = corpusFiles(linesPerFile)
  for (const f of files) append(tmp.path, f, 0, linesPerFile)
  const base = e2eConfig(tmp.path)
  const cfg = {
    ...base,
    // Usage tests post tenant traffic whose deployments are named after their orgs (query-usage.ts), its forwarder trusted to name them.
    collector: { port: 0, tokens: [INGEST], tenants: { trustForwarderTenants: ['acme', 'globex'] } },
    query: { port: 0, tokens: [OPERATOR], tenantTokens: Object.entries(TENANTS).map(([o, t]) => `${o}=${t}`), ...extra }
  }
  const daytwo = await startDaytwo('all', cfg, tmp.path)
  const stop = async () => { await daytwo.stop(); tmp.cleanup() }
  const all = files.length * linesPerFile
  const ok = await waitFor(async () => await totalStored(daytwo.urls.query!, OPERATOR) >= all, 60000, 200)
  if (!ok) { const err = daytwo.stderr(); await stop(); throw new Error(`the store did not get ${all} lines\n${err}`) }
  return { daytwo, root: tmp.path, files, env: { DAYTWO_QUERY_URL: daytwo.urls.query, DAYTWO_TOKEN: OPERATOR }, stop }
}

export function corpusPath (fx: QueryFixture, f: CorpusFile): string {
  return join(fx.root, f.path)
}

/** Run the CLI asynchronously (so the test process keeps serving nothing but can await). */
export async function runCliAsync (args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ status: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [cliPath(), ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { status, stdout, stderr }
}
