import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { Header, Pax } from 'tar'
import type { StreamBatch } from '../core/record.js'
import { GzipAssembler, type Segment } from './gzip-assembler.js'
import { MAX_COMPONENT, safeComponent } from './safe-name.js'

/**
 * One folder per instance, one file per original log file: `<job>.<index>/<process>/<file>`,
 * each part made safe (safe-name.ts): a member never names a folder outside the bundle.
 */
export function bundlePath (s: { job: string, index: string, process: string, path: string }): string {
  let instance = safeComponent(s.job) + '.' + safeComponent(s.index)
  if (Buffer.byteLength(instance) > MAX_COMPONENT) instance = safeComponent(`${s.job}.${s.index}`)
  return [instance, safeComponent(s.process), safeComponent(posix.basename(s.path))].join('/')
}

/** gzip's default level, the one `tar czf` uses: bundles compare like for like. */
const LEVEL = 6
const EOF = Buffer.alloc(1024)

/**
 * A tar header as `tar` (node-tar, portable mode) writes it: no owner, folders 0755 without
 * a time, files 0644 with the time they were written. A path that does not fit the ustar
 * fields gets a pax header naming it; sizes over 8 GiB use base-256 (read by GNU and BSD tar).
 */
function tarHeader (path: string, type: 'File' | 'Directory', size: number, mtime: Date | undefined): Buffer {
  const h = new Header({ path, mode: type === 'File' ? 0o644 : 0o755, size, mtime, type, uid: undefined, gid: undefined, uname: undefined, gname: undefined })
  h.encode()
  // needPax is about the path here: a size too large for octal is already base-256 in the block.
  const long = new Header({ path, mode: 0o644, size: 0, type }).encode()
  return long ? Buffer.concat([new Pax({ path }).encode(), h.block!]) : h.block!
}

/**
 * Writes a `.tgz` while the frames arrive. The server sends each bundle file's lines
 * contiguously (rotated generations included), so each file's bytes are gzipped as they
 * come, into the archive itself, behind room for the tar header that needs the file's size;
 * the header is put there when the file ends (gzip-assembler.ts). Nothing is staged on disk,
 * gzip (on libuv's thread pool) starts with the first bytes, and memory stays flat: the
 * download waits for gzip (backpressure), never the other way round.
 */
export class BundleWriter {
  lines = 0
  bytes = 0
  files = 0
  private readonly instances = new Set<string>()
  private readonly dirs = new Set<string>()
  private current: { rel: string, head: number, size: number, segment: Segment } | null = null

  private constructor (private readonly fh: FileHandle, private readonly gz: GzipAssembler, readonly file: string) {}

  static async create (dir: string, name: string): Promise<BundleWriter> {
    await mkdir(dir, { recursive: true })
    const file = join(dir, name)
    const fh = await open(file + '.part', 'w')
    return new BundleWriter(fh, await GzipAssembler.create(fh), file)
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
    this.current!.size += chunk.length
    await this.current!.segment.write(chunk)
  }

  private async open (rel: string): Promise<void> {
    await this.closeCurrent()
    // Parent folders first, as `tar czf` lists them.
    const parts = rel.split('/')
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/')
      if (this.dirs.has(d)) continue
      this.dirs.add(d)
      await this.gz.stored(tarHeader(d + '/', 'Directory', 0, undefined))
    }
    this.instances.add(parts[0]!)
    this.files++
    // A name seen before (not contiguous) would be a second entry; the server's order prevents it.
    const path = parts.join('/')
    const head = tarHeader(path, 'File', 0, new Date()).length
    this.current = { rel: path, head, size: 0, segment: this.gz.segment(head, LEVEL) }
  }

  private async closeCurrent (): Promise<void> {
    if (!this.current) return
    const { rel, size, segment } = this.current
    const pad = (512 - size % 512) % 512
    if (pad > 0) await segment.write(EOF.subarray(0, pad))
    await segment.end(tarHeader(rel, 'File', size, new Date()))
    this.current = null
  }

  /** Finish the archive and move it into place; returns its path. */
  async finish (): Promise<string> {
    await this.closeCurrent()
    await this.gz.finish(EOF)
    await this.fh.close()
    await rename(this.file + '.part', this.file)
    return this.file
  }

  /** Give up: remove the partial archive. */
  async abort (): Promise<void> {
    this.current?.segment.destroy()
    await this.fh.close().catch(() => {})
    await rm(this.file + '.part', { force: true })
  }
}
