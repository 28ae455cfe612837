import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { repoRoot } from '../helpers/repo.js'

// A real single-node OpenSearch 2.19.6 on 127.0.0.1 (test/opensearch/launcher, built from
// Maven Central artifacts by .ci/setup.d/opensearch.sh). The node stops when its stdin closes,
// so it never outlives the process that started it.

export interface OpenSearchNode {
  url: string
  stop (): Promise<void>
}

export function launcherDir (): string {
  return join(repoRoot(), 'test', 'opensearch', 'launcher')
}

export async function startOpenSearch (opts: { timeoutMs?: number } = {}): Promise<OpenSearchNode> {
  const dir = launcherDir()
  const cpFile = join(dir, 'target', 'classpath.txt')
  const classes = join(dir, 'target', 'classes')
  if (!existsSync(cpFile) || !existsSync(classes)) {
    throw new Error(`the OpenSearch test node is not built: run .ci/setup.d/opensearch.sh (or \`mvn -q -B package\` in ${dir})`)
  }
  const cp = classes + ':' + readFileSync(cpFile, 'utf8').trim()
  const child: ChildProcess = spawn('java', ['-Xms512m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', cp, 'daytwo.OpenSearchTestNode'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000) })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`OpenSearch did not start within ${opts.timeoutMs ?? 180000} ms:\n${stderr}`)) }, opts.timeoutMs ?? 180000)
    const rl = createInterface({ input: child.stdout! })
    rl.on('line', (line) => {
      const m = /^OPENSEARCH_URL=(\S+)$/.exec(line)
      if (m) { clearTimeout(timer); resolve(m[1]!) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`OpenSearch exited with ${code} before it answered:\n${stderr}`)) })
  })
  return {
    url,
    async stop () {
      if (child.exitCode !== null) return
      child.stdin!.end()
      const t = setTimeout(() => child.kill('SIGKILL'), 30000)
      await exited
      clearTimeout(t)
    }
  }
}
