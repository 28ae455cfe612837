import { randomBytes } from 'node:crypto'
import { DaytwoError } from '../../../core/errors.js'
import { readStateFile, writeStateFile } from '../../../core/state-file.js'

// The journald source's acknowledged position: the cursor of the last entry the collector
// acknowledged together with every entry before it, and — in the same write — each stream's
// next offset at that cursor. A state file (core/state-file.ts: temp file, fsync, rename;
// unreadable → the start is refused, as re-reading the whole journal silently would ship it
// again), written on a timer and on stop, only when changed.

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
    const doc = readStateFile(file, 'the journald cursor', 'move it away to start over (forwarder.journald.readFrom decides where)') as { version?: unknown, epoch?: unknown, cursor?: unknown, offsets?: unknown } | null
    if (doc === null) {
      this.state = { epoch: randomBytes(8).toString('hex'), cursor: null, offsets: {} }
      this.dirty = true
    } else {
      if (doc.version !== JOURNALD_CHECKPOINT_VERSION || typeof doc.epoch !== 'string' || (doc.cursor !== null && typeof doc.cursor !== 'string') || typeof doc.offsets !== 'object' || doc.offsets === null) {
        throw new DaytwoError('CONFIG', `the journald cursor ${file} has version ${String(doc.version)} or an unknown shape; this daytwo reads version ${JOURNALD_CHECKPOINT_VERSION}`)
      }
      this.state = { epoch: doc.epoch, cursor: doc.cursor, offsets: doc.offsets as Record<string, number> }
    }
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
    writeStateFile(this.file, { version: JOURNALD_CHECKPOINT_VERSION, ...this.state })
    this.dirty = false
  }
}
