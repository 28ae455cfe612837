import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import split2 from 'split2'
import * as tar from 'tar'
import { DaytwoError } from '../../core/errors.js'
import { decodeGroup } from '../../core/wire.js'
import type { Command } from '../../core/cli/main.js'
import { QueryClient } from './client.js'
import { Progress, formatBytes } from './progress.js'

interface Target { deployment: string, job?: string | undefined, index?: string | undefined }

export function parseTarget (s: string | undefined): Target {
  if (!s) throw new DaytwoError('BAD_QUERY', 'name what to fetch: <deployment>/<job>[/<index>]')
  const parts = s.split('/')
  if (parts.length > 3 || parts.some((p) => p === '')) throw new DaytwoError('BAD_QUERY', `'${s}' is not <deployment>/<job>[/<index>]`)
  return { deployment: parts[0]!, job: parts[1], index: parts[2] }
}

/** `cf.router.0-20261123-101500.tgz`, in UTC, like `bosh logs`. */
export function bundleName (t: Target, now = new Date()): string {
  const iso = now.toISOString()
  const stamp = iso.slice(0, 10).replace(/-/g, '') + '-' + iso.slice(11, 19).replace(/:/g, '')
  return [t.deployment, t.job, t.index].filter(Boolean).join('.') + `-${stamp}.tgz`
}

/** One folder per instance, one file per original log file: `<job>.<index>/<process>/<file>`. */
function bundlePath (s: { job: string, index: string, process: string, path: string }): string {
  const safe = (x: string) => x.replace(/[/\\]/g, '_').replace(/^\.+$/, '_')
  return join(safe(`${s.job}.${s.index}`), safe(s.process), safe(basename(s.path)))
}

export const fetchCommand: Command = {
  summary: 'logs fetch — download a job\'s logs as a .tgz, like `bosh logs`',
  usage: `Usage: logs fetch <deployment>[/<job>[/<index>]] [options]

Writes <deployment>.<job>[.<index>]-<YYYYMMDD-HHMMSS>.tgz with one folder per instance
(<job>.<index>/) and one file per original log file, lines in their original order.

Options:
  --dir DIR        where to write the bundle (default: the current directory)
  --since TIME     only lines at or after TIME: RFC 3339, Unix time, or a duration (2h, 30m)
  --until TIME     only lines at or before TIME
  --url URL        query service (default: DAYTWO_QUERY_URL, else http://127.0.0.1:9603)
  --token TOKEN    operator or tenant token (default: DAYTWO_TOKEN, else <dataDir>/operator-token)

Examples:
  logs fetch cf/router             every router instance
  logs fetch cf/router/0 --since 2h
`,
  async run (argv) {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { dir: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } }
    })
    const target = parseTarget(positionals[0])
    const client = new QueryClient({ url: values.url, token: values.token })
    const params = { deployment: target.deployment, job: target.job, index: target.index, since: values.since, until: values.until }
    const res = await client.get('/api/v1/logs', params)
    if (res.status === 404) {
      const { jobs } = await client.json<{ jobs: Array<{ deployment: string, job: string, index: string }> }>('/api/v1/jobs')
      const known = [...new Set(jobs.map((j) => `${j.deployment}/${j.job}`))].sort()
      throw new DaytwoError('NOT_FOUND', `no logs for ${positionals[0]}. Known jobs:\n  ${known.join('\n  ') || '(none yet)'}`)
    }
    if (!res.ok || res.body === null) {
      const body = await res.text()
      let msg = body
      try { msg = (JSON.parse(body) as { message: string }).message } catch {}
      throw new DaytwoError('BAD_QUERY', msg)
    }

    const dir = resolve(values.dir ?? '.')
    await mkdir(dir, { recursive: true })
    const stage = await mkdtemp(join(dir, '.daytwo-fetch-'))
    const progress = new Progress(`fetching ${positionals[0]}`)
    let lines = 0
    let bytes = 0
    const files = new Map<string, WriteStream>()
    try {
      const groups = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream).pipe(split2({ maxLength: 512 * 1024 * 1024 }))
      for await (const text of groups as AsyncIterable<string>) {
        if (text.length === 0) continue
        const g = decodeGroup(text)
        const rel = bundlePath(g.stream)
        let out = files.get(rel)
        if (!out) {
          await mkdir(join(stage, rel, '..'), { recursive: true })
          out = createWriteStream(join(stage, rel), { flags: 'a' })
          files.set(rel, out)
        }
        let chunk = ''
        for (const e of g.entries) chunk += e[2] + '\n'
        lines += g.entries.length
        bytes += Buffer.byteLength(chunk)
        if (!out.write(chunk)) await once(out, 'drain')
        progress.update(lines, bytes)
      }
      for (const out of files.values()) { out.end(); await once(out, 'close') }
      progress.update(lines, bytes, true)
      progress.done()
      const name = bundleName(target)
      const entries = [...new Set([...files.keys()].map((k) => k.split(/[/\\]/)[0]!))].sort()
      await tar.create({ gzip: true, file: join(dir, name), cwd: stage, portable: true }, entries)
      process.stdout.write(join(dir, name) + '\n')
      process.stderr.write(`${lines.toLocaleString('en')} lines (${formatBytes(bytes)}) from ${files.size} files in ${entries.length} instances\n`)
      return 0
    } finally {
      for (const out of files.values()) out.destroy()
      await rm(stage, { recursive: true, force: true })
    }
  }
}
