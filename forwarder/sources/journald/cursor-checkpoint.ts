import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { DaytwoError } from '../../../core/errors.js'

// The journald source's acknowledged position: the cursor of the last entry the collector
// acknowledged together with every entry before it, and — in the same write — each stream's
// next offset at that cursor. Written as forwarder/checkpoints.ts writes (temp file, fsync,
// rename; on a timer and on stop; only when changed); unreadable → the start is refused, as
// re-reading the whole journal silently would ship it again.

export const JOURNALD_CHECKPOINT_VERSION = 1

export interface JournaldState {
  /** Random per file: part of every stream id, so a wiped file never reuses (stream, offset). */
  epoch: string
  /** Resume after this entry (`journalctl --after-cursor`); null: never acknowledged anything. */
  cursor: string | null
  /** Stream key (host NUL unit) → the offset its next entry after `cursor` gets. */
  offsets: Record<string, number>
}

export class JournaldCheckpoint {
  readonly state: JournaldState
  private dirty = false

  constructor (private readonly file: string) {
    let text: string | null = null
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DaytwoError('CONFIG', `cannot read the journald cursor ${file}: ${(err as Error).message}`)
    }
    if (text === null) {
      this.state = { epoch: randomBytes(8).toString('hex'), cursor: null, offsets: {} }
      this.dirty = true
    } else {
      let doc: { version?: unknown, epoch?: unknown, cursor?: unknown, offsets?: unknown }
      try {
        doc = JSON.parse(text) as typeof doc
      } catch (err) {
        throw new DaytwoError('CONFIG', `the journald cursor ${file} is corrupt (${(err as Error).message}); move it away to start over (forwarder.journald.readFrom decides where)`)
      }
      if (doc.version !== JOURNALD_CHECKPOINT_VERSION || typeof doc.epoch !== 'string' || (doc.cursor !== null && typeof doc.cursor !== 'string') || typeof doc.offsets !== 'object' || doc.offsets === null) {
        throw new DaytwoError('CONFIG', `the journald cursor ${file} has version ${String(doc.version)} or an unknown shape; this daytwo reads version ${JOURNALD_CHECKPOINT_VERSION}`)
      }
      this.state = { epoch: doc.epoch, cursor: doc.cursor, offsets: doc.offsets as Record<string, number> }
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  }

  /** Entries up to `cursor` are acknowledged; `offsets` are the streams' next offsets there. */
  set (cursor: string, offsets: ReadonlyMap<string, number>): void {
    if (cursor === this.state.cursor) return
    this.state.cursor = cursor
    for (const [k, v] of offsets) this.state.offsets[k] = v
    this.dirty = true
  }

  flush (): void {
    if (!this.dirty) return
    const tmp = this.file + '.new'
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, JSON.stringify({ version: JOURNALD_CHECKPOINT_VERSION, ...this.state }))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.file)
    this.dirty = false
  }
}
