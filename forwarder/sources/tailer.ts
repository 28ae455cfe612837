import { isUtf8 } from 'node:buffer'
import type { FileHandle } from 'node:fs/promises'
import { streamId } from '../../core/ids.js'
import type { Entry, StreamTags } from '../../core/record.js'
import { nowNs } from '../../core/time.js'
import type { Checkpoint, CheckpointStore } from '../checkpoints.js'
import { PartialAssembler, type Assembled } from '../formats/assembler.js'
import { parseCri } from '../formats/cri.js'
import { parseDocker } from '../formats/docker.js'
import { LineSplitter, type RawLine } from '../line-splitter.js'
import type { ForwarderMetrics } from '../metrics.js'
import { StreamHandle, type Shipper } from '../shipper.js'
import type { PathTags } from '../tags.js'

const READ_CHUNK = 256 * 1024

export interface TailerInit {
  node: string
  path: string
  file: FileHandle
  dev: number
  ino: number
  fingerprint: string
  tags: PathTags
  startOffset: number
  generation: number
  maxLineBytes: number
}

/**
 * Reads one file from an offset to its end, again and again: splits lines, takes off the
 * CRI or Docker envelope, joins partial lines, and hands records to the shipper. The stream
 * id is (node, fingerprint, generation); a truncation starts a new generation at offset 0.
 */
export class Tailer {
  readonly path: string
  readonly dev: number
  readonly ino: number
  readonly fingerprint: string
  private file: FileHandle | null
  private generation: number
  private readOffset: number
  private acked: number
  private handle!: StreamHandle
  private readonly splitter: LineSplitter
  private readonly assembler: PartialAssembler
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK)
  private readonly lines: RawLine[] = []
  /** Set when the path no longer leads to this file (renamed away or deleted). */
  goneSinceMs = 0

  constructor (private readonly init: TailerInit, private readonly shipper: Shipper, private readonly checkpoints: CheckpointStore, private readonly metrics: ForwarderMetrics) {
    this.path = init.path
    this.dev = init.dev
    this.ino = init.ino
    this.fingerprint = init.fingerprint
    this.file = init.file
    this.generation = init.generation
    this.readOffset = init.startOffset
    this.acked = init.startOffset
    this.splitter = new LineSplitter(init.maxLineBytes)
    this.splitter.reset(init.startOffset)
    this.assembler = new PartialAssembler(init.maxLineBytes)
    this.newHandle()
    this.saveCheckpoint(init.startOffset)
  }

  get closed (): boolean { return this.file === null }
  get lagBytes (): number { return this.readOffset - this.acked }

  private newHandle (): void {
    const t = this.init.tags
    const tags: StreamTags = {
      id: streamId(this.init.node, this.fingerprint, this.generation),
      source: 'file', node: this.init.node, deployment: t.deployment, job: t.job, index: t.index, process: t.process, path: this.path
    }
    if (t.namespace !== undefined) tags.namespace = t.namespace
    if (t.pod !== undefined) tags.pod = t.pod
    if (t.container !== undefined) tags.container = t.container
    const generation = this.generation
    this.handle = new StreamHandle(tags, (offset) => {
      // An ack for an older generation (before a truncation) must not move the new one.
      if (generation !== this.generation) return
      this.acked = offset
      this.saveCheckpoint(offset)
    })
  }

  private saveCheckpoint (offset: number): void {
    const cp: Checkpoint = { fingerprint: this.fingerprint, generation: this.generation, offset, path: this.path, dev: this.dev, ino: this.ino, updatedMs: Date.now() }
    this.checkpoints.set(cp)
  }

  /**
   * Read what is new, while the shipper has room. Returns true if it read anything.
   * `final`: the file will not grow any more (rotated or deleted and drained): its
   * unfinished last line and pending partials are shipped as they are.
   */
  async poll (final = false): Promise<boolean> {
    if (this.file === null) return false
    const st = await this.file.stat()
    if (st.size < this.readOffset) this.truncated()
    let any = false
    while (this.shipper.hasCapacity) {
      const { bytesRead } = await this.file.read(this.buf, 0, READ_CHUNK, this.readOffset)
      if (bytesRead === 0) break
      any = true
      this.metrics.bytesRead.inc({ source: 'file' }, bytesRead)
      this.splitter.push(this.buf.subarray(0, bytesRead), this.readOffset, this.lines)
      this.readOffset += bytesRead
      this.emitLines()
    }
    if (final && this.shipper.hasCapacity) {
      this.splitter.flush(this.readOffset, this.lines)
      this.emitLines()
      // Drained partials get offsets past the end: unique and increasing, like real ones.
      let k = 0
      for (const a of this.assembler.drain()) this.emit(a, this.readOffset + k++, this.readOffset)
      this.shipper.advance(this.handle, this.readOffset)
    }
    return any
  }

  private truncated (): void {
    // copytruncate: the file starts over. Its new lines are a new generation of the stream.
    this.generation++
    this.readOffset = 0
    this.splitter.reset(0)
    this.assembler.reset()
    this.newHandle()
    this.acked = 0
    this.saveCheckpoint(0)
  }

  private emitLines (): void {
    const lines = this.lines
    const container = this.init.tags.format === 'container'
    if (lines.length > 0) this.metrics.linesRead.inc({ source: 'file' }, lines.length)
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!
      let text: string
      if (isUtf8(raw.bytes)) {
        text = raw.bytes.toString('utf8')
      } else {
        text = raw.bytes.toString('utf8') // invalid sequences become U+FFFD
        this.metrics.altered.inc({ reason: 'invalid_utf8' })
      }
      if (raw.truncated) this.metrics.altered.inc({ reason: 'truncated' })
      if (!container) {
        this.emit({ ts: nowNs(), stdio: '', message: text, truncated: false }, raw.offset, raw.end)
        continue
      }
      const parsed = text.charCodeAt(0) === 0x7b ? parseDocker(text) : parseCri(text)
      if (parsed === null) {
        // Not the envelope this file should have (a line cut by maxLineBytes, or garbage).
        this.metrics.drop('unparsed_envelope', 1, this.path)
        this.shipper.advance(this.handle, this.assembler.safeOffset(raw.end))
        continue
      }
      const done = this.assembler.add(parsed, raw.offset)
      if (done === null) continue
      if (done.truncated) this.metrics.altered.inc({ reason: 'truncated' })
      this.emit(done, raw.offset, this.assembler.safeOffset(raw.end))
    }
    lines.length = 0
  }

  private emit (a: Assembled, offset: number, resume: number): void {
    const entry: Entry = [a.ts, offset, a.message, a.stdio]
    this.shipper.add(this.handle, entry, Buffer.byteLength(a.message), resume)
  }

  async close (): Promise<void> {
    const f = this.file
    this.file = null
    if (f) await f.close()
  }
}
