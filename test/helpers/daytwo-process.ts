import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath } from './repo.js'

export interface DaytwoProcess {
  child: ChildProcess
  /** The config file it was started with (a test may open the same store: store/open-store.ts). */
  configFile: string
  /** Base URL per role, parsed from the start banner. */
  urls: Record<string, string>
  stdout: () => string
  stderr: () => string
  /** SIGTERM and wait for exit (SIGKILL after 15 s, so a hung stop cannot hang the test). */
  stop: () => Promise<number | null>
  /** SIGKILL and wait for exit. */
  kill: () => Promise<void>
}

/** A free TCP port on 127.0.0.1 (for listeners that must be known before start). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

export function tempDir (prefix = 'daytwo-test-'): { path: string, cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/**
 * The store a suite runs on when the runner says so: `npm run test:opensearch` sets
 * TEST_STORE_KIND=opensearch and OPENSEARCH_URL, and every daytwo started without a store of
 * its own gets OpenSearch indices of its own.
 */
function testStore (): { store?: Record<string, unknown> } {
  if (process.env.TEST_STORE_KIND !== 'opensearch' || !process.env.OPENSEARCH_URL) return {}
  const run = Math.random().toString(36).slice(2, 10)
  return {
    store: {
      kind: 'opensearch',
      opensearch: {
        url: process.env.OPENSEARCH_URL,
        dataStream: `logs-daytwotest-${run}`,
        deadLetterDataStream: `logs-daytwotest-${run}-deadletter`,
        usageIndex: `daytwotest-${run}-usage`,
        streamsIndex: `daytwotest-${run}-streams`,
        ismPolicy: ''
      }
    }
  }
}

/**
 * Start `logs serve <roles>` with a JSON config written to `dir/config.json`; resolves once
 * the banner shows every role's URL. Rejects with the process's stderr if it exits first.
 */
export async function startDaytwo (roles: string, config: Record<string, unknown>, dir: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20000): Promise<DaytwoProcess> {
  const cfgFile = join(dir, `config-${Date.now()}-${Math.random().toString(36).slice(2)}.json`)
  // Test fixtures carry fixed times (2026-11-23…); a collector refuses lines older than the
  // store keeps (collector/limits/old-lines.ts), so tests keep lines forever unless they say.
  const store = (config.store ?? testStore().store ?? {}) as Record<string, unknown>
  // Tests that start on empty roots and write files later must not get the first-run demo job
  // (cli/demo-source.ts) in their counts: off unless a test asks for it.
  writeFileSync(cfgFile, JSON.stringify({ demo: false, ...config, store: { retentionDays: 0, ...store } }))
  const childEnv: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DAYTWO_')) childEnv[k] = v
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof': Node flags for the daytwo process (profiling a benchmark).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const child = spawn(process.execPath, [...nodeArgs, cliPath(), 'serve', roles, '--config', cfgFile], { env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const expected = roles === 'all' ? 3 : roles.split(',').length
  const urls: Record<string, string> = {}
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`daytwo did not start in ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`)) }, timeoutMs)
    const check = () => {
      for (const m of out.matchAll(/^ {2}(forwarder|collector|query)\s+(http:\/\/\S+)/gm)) urls[m[1]!] = m[2]!
      if (Object.keys(urls).length >= expected) { clearTimeout(timer); resolve() }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`daytwo exited with ${code} before it was up\nstdout:\n${out}\nstderr:\n${err}`)) })
  })
  return {
    child,
    configFile: cfgFile,
    urls,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000)
      try { return await exited } finally { clearTimeout(timer) }
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    }
  }
}

/** Poll `fn` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function waitFor (fn: () => boolean | Promise<boolean>, timeoutMs = 15000, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await fn()) return true
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return await fn()
}
