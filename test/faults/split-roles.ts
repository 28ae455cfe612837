import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../helpers/daytwo-process.js'

// The forwarder and the collector (with the query service) as two processes on one machine,
// each with its own config and data dir, as the Helm chart runs them; and writers of BOSH
// job logs that rotate by rename (logrotate without copytruncate) while they write.

export const FWD_TOKEN = 'fault-forwarder-token'
export const OP_TOKEN = 'fault-operator-token'

export class RotatingWriter {
  private fd: number
  private n = 0
  private generation = 0
  readonly lines: string[] = []
  bytes = 0
  constructor (readonly path: string, readonly name: string) { this.fd = openSync(path, 'a') }

  write (count: number): void {
    let s = ''
    for (let i = 0; i < count; i++) {
      const n = this.n++
      // Unique, of varied length, with multi-byte characters so bytes ≠ characters.
      const line = `${this.name} ${n} ${n % 7 === 0 ? 'ünïcödé ✓ ' : ''}${'x'.repeat(n % 61)}`
      this.lines.push(line)
      this.bytes += Buffer.byteLength(line)
      s += line + '\n'
    }
    writeSync(this.fd, s)
  }

  /** Rename rotation: the live file becomes `<path>.<k>` (never deleted), the app reopens. */
  rotate (): void {
    renameSync(this.path, `${this.path}.${++this.generation}`)
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a')
  }

  close (): void { closeSync(this.fd) }
}

export interface SplitRoles {
  base: string
  boshRoot: string
  deployment: string
  fwdConfig: Record<string, unknown>
  colConfig: Record<string, unknown>
  forwarder: DaytwoProcess
  collector: DaytwoProcess
  startForwarder: () => Promise<void>
  startCollector: () => Promise<void>
}

type T = { after: (fn: () => unknown) => void }

/** Start both processes; both are killed before the temp dir is removed, even on failure. */
export async function splitRoles (t: T, forwarder: Record<string, unknown> = {}, collectorExtra: Record<string, unknown> = {}, storeCfg: Record<string, unknown> = {}): Promise<SplitRoles> {
  const tmp = tempDir('daytwo-faults-')
  const boshRoot = join(tmp.path, 'bosh')
  mkdirSync(boshRoot, { recursive: true })
  const [cport, qport] = [await freePort(), await freePort()]
  const deployment = 'faults'
  const fwdConfig = {
    dataDir: join(tmp.path, 'fwd-data'),
    logLevel: 'warn',
    forwarder: {
      podLogRoot: '', containerLogRoot: '', boshLogRoot: boshRoot, boshSpecFile: join(tmp.path, 'none.json'),
      deployment, job: 'vm', index: '0', port: 0, scanIntervalMs: 100, pollIntervalMs: 20, checkpointIntervalMs: 50,
      collectorUrl: `http://127.0.0.1:${cport}`, token: FWD_TOKEN, retryMaxMs: 1000, ...forwarder
    }
  }
  const colConfig = {
    dataDir: join(tmp.path, 'col-data'),
    logLevel: 'warn',
    collector: { port: cport, tokens: [FWD_TOKEN], ...collectorExtra },
    query: { port: qport, tokens: [OP_TOKEN] },
    ...(Object.keys(storeCfg).length ? { store: storeCfg } : {})
  }
  const s = { base: tmp.path, boshRoot, deployment, fwdConfig, colConfig } as unknown as SplitRoles
  t.after(async () => {
    await s.forwarder?.kill()
    await s.collector?.kill()
    tmp.cleanup()
  })
  s.startCollector = async () => { s.collector = await startDaytwo('collector,query', colConfig, tmp.path) }
  s.startForwarder = async () => { s.forwarder = await startDaytwo('forwarder', fwdConfig, tmp.path) }
  await s.startCollector()
  await s.startForwarder()
  return s
}
