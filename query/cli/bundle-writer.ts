import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { once } from 'node:events'
import { basename, join } from 'node:path'
import { createGzip } from 'node:zlib'
import { Pack } from 'tar'
import type { StreamBatch } from '../../core/record.js'

/** One folder per instance, one file per original log file: `<job>.<index>/<process>/<file>`. */
export function bundlePath (s: { job: string, index: string, process: string, path: string }): string {
  const safe = (x: string) => x.replace(/[/\\]/g, '_').replace(/^\.*$/, '_')
  return join(safe(`${s.job}.${s.index}`), safe(s.process), safe(basename(s.path)))
}

/**
 * Writes a `.tgz` while the groups arrive. The server sends each bundle file's lines
 * contiguously (rotated generations included), so a file is staged on disk only until the
 * next one starts; it then goes into the tar stream, which gzips on libuv's thread pool
 * while the next file downloads. Memory stays flat whatever the bundle's size.
 */
export class BundleWriter {
  lines = 0
  bytes = 0
  files = 0
  private readonly instances = new Set<string>()
  private readonly dirs = new Set<string>()
  private current: { rel: string, out: WriteStream } | null = null
  private readonly pack: Pack
  private readonly done: Promise<void>

  private constructor (private readonly stage: string, readonly file: string) {
    this.pack = new Pack({ cwd: stage, portable: true, noDirRecurse: true, jobs: 1, maxReadSize: 256 * 1024 })
    // Level 6, zlib's default and gzip's (`tar czf`); 64 KiB output chunks rather than 16 KiB
    // cut the callbacks from the thread pool by four. The bytes are the same either way.
    const gz = createGzip({ level: 6, chunkSize: 64 * 1024 })
    const out = createWriteStream(file + '.part')
    this.pack.pipe(gz)
    gz.pipe(out)
    this.done = new Promise<void>((resolve, reject) => {
      for (const s of [gz, out]) s.once('error', reject)
      this.pack.once('error', reject)
      out.once('close', resolve)
    })
    this.done.catch(() => {}) // surfaced by finish()
  }

  static async create (dir: string, name: string): Promise<BundleWriter> {
    await mkdir(dir, { recursive: true })
    const stage = await mkdtemp(join(dir, '.daytwo-fetch-'))
    return new BundleWriter(stage, join(dir, name))
  }

  get instanceCount (): number { return this.instances.size }

  /** A group of lines decoded from NDJSON. */
  async write (g: StreamBatch): Promise<void> {
    let chunk = ''
    for (const e of g.entries) chunk += e[2] + '\n'
    await this.frame(g.stream, g.entries.length)
    await this.writeBytes(Buffer.from(chunk))
  }

  /** A frame of `lines` lines of this stream starts; its bytes follow through writeBytes(). */
  async frame (stream: { job: string, index: string, process: string, path: string }, lines: number): Promise<void> {
    const rel = bundlePath(stream)
    if (this.current?.rel !== rel) await this.open(rel)
    this.lines += lines
  }

  /** Bytes of the current file, as they will be in the bundle (lines ending in "\n"). */
  async writeBytes (chunk: Buffer): Promise<void> {
    this.bytes += chunk.length
    const out = this.current!.out
    if (!out.write(chunk)) await once(out, 'drain')
  }

  private async open (rel: string): Promise<void> {
    await this.closeCurrent()
    // Parent folders first, as `tar czf` lists them.
    const parts = rel.split(/[/\\]/)
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/')
      if (this.dirs.has(d)) continue
      this.dirs.add(d)
      await mkdir(join(this.stage, d), { recursive: true })
      this.pack.add(d)
    }
    this.instances.add(parts[0]!)
    this.files++
    // A name seen before (not contiguous) would be appended; the server's order prevents it.
    // A 1 MiB buffer lets the staged file take the received chunks in a few large writev()s.
    this.current = { rel, out: createWriteStream(join(this.stage, rel), { flags: 'a', highWaterMark: 1 << 20 }) }
  }

  private async closeCurrent (): Promise<void> {
    if (!this.current) return
    const { rel, out } = this.current
    this.current = null
    out.end()
    await once(out, 'close')
    this.pack.add(rel)
  }

  /** Finish the archive and move it into place; returns its path. */
  async finish (): Promise<string> {
    try {
      await this.closeCurrent()
      this.pack.end()
      await this.done
      await rename(this.file + '.part', this.file)
      return this.file
    } finally {
      await rm(this.stage, { recursive: true, force: true })
    }
  }

  /** Give up: remove the staged files and the partial archive. */
  async abort (): Promise<void> {
    this.current?.out.destroy()
    this.pack.end()
    await this.done.catch(() => {})
    await rm(this.stage, { recursive: true, force: true })
    await rm(this.file + '.part', { force: true })
  }
}
