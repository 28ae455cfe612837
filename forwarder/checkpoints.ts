import { DaytwoError } from '../core/errors.js'
import { readStateFile, writeStateFile } from '../core/state-file.js'

// Acknowledged read positions, one per file fingerprint, in a state file (core/state-file.ts:
// temp file, fsync, rename; unreadable stops the start), written on a timer and on stop
// (Promtail's positions), and only when something changed.

export const CHECKPOINT_VERSION = 1
/** How many bytes before a stream position identify it (checkpoints' `anchor`). */
export const ANCHOR_BYTES = 64

export interface Checkpoint {
  /** Fingerprint: dev, inode and a hash of the first line (the key). */
  fingerprint: string
  /**
   * The fingerprint the stream id is derived from: the file's own, or — for the copy that
   * copytruncate made — the original's, so the copy continues the original stream.
   */
  streamKey: string
  /** Counts truncations of a file whose first line stayed the same. */
  generation: number
  /** Resume here: every record before it is acknowledged. */
  offset: number
  /** Where the file was last seen, and the live name it was written under. */
  path: string
  logicalPath: string
  dev: number
  ino: number
  firstLine: string
  /**
   * The bytes just before `offset` (up to ANCHOR_BYTES, base64): a resumed or matched stream
   * continues only from a file that has these bytes there, so a (stream, offset) never names
   * other bytes than the ones first shipped under it. Absent in checkpoints of older versions.
   */
  anchor?: string
  /** Set when the file was truncated: kept a while so its copy can continue the stream. */
  truncated?: boolean
  /** A truncated file's read position and the bytes before it (a copy holds at least these). */
  readOffset?: number
  readAnchor?: string
  updatedMs: number
}

export interface CheckpointStore {
  readonly firstStart: boolean
  /** By key: a fingerprint, or `<fingerprint>@<generation>` for a truncated file's last state. */
  get (fingerprint: string): Checkpoint | undefined
  set (cp: Checkpoint, key?: string): void
  delete (fingerprint: string): void
  all (): Checkpoint[]
  keys (): string[]
  flush (): void
}

export class FileCheckpoints implements CheckpointStore {
  readonly firstStart: boolean
  private readonly entries = new Map<string, Checkpoint>()
  private dirty = false

  constructor (private readonly file: string) {
    const doc = readStateFile(file, 'the checkpoints file', 'move the file away to re-read every file from its start') as { version?: unknown, files?: unknown } | null
    this.firstStart = doc === null
    if (doc !== null) {
      if (doc.version !== CHECKPOINT_VERSION || !Array.isArray(doc.files)) {
        throw new DaytwoError('CONFIG', `checkpoints ${file} have version ${String(doc.version)}; this daytwo reads version ${CHECKPOINT_VERSION}`)
      }
      for (const cp of doc.files as Array<Checkpoint & { key?: string }>) {
        const { key, ...rest } = cp
        this.entries.set(key ?? cp.fingerprint, rest)
      }
    }
  }

  get (fingerprint: string): Checkpoint | undefined { return this.entries.get(fingerprint) }

  set (cp: Checkpoint, key = cp.fingerprint): void {
    const prev = this.entries.get(key)
    if (prev && prev.streamKey === cp.streamKey && prev.generation === cp.generation && prev.offset === cp.offset && prev.path === cp.path && prev.truncated === cp.truncated && prev.anchor === cp.anchor) return
    this.entries.set(key, cp)
    this.dirty = true
  }

  delete (fingerprint: string): void {
    if (this.entries.delete(fingerprint)) this.dirty = true
  }

  all (): Checkpoint[] { return [...this.entries.values()] }

  keys (): string[] { return [...this.entries.keys()] }

  flush (): void {
    if (!this.dirty) return
    writeStateFile(this.file, { version: CHECKPOINT_VERSION, files: [...this.entries].map(([key, cp]) => key === cp.fingerprint ? cp : { key, ...cp }) })
    this.dirty = false
  }
}
