import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { DaytwoError } from './errors.js'

// A small JSON file of acknowledged state (the forwarder's checkpoints, the journald cursor).
// Written to a temp file, fsynced and renamed (Vector's checkpointer), so a crash leaves the
// old state or the new, never half of one; private to daytwo (0600, folder 0700). A file that
// exists but cannot be read or parsed stops the start, as Alloy does: silently starting over
// would ship everything again.

/**
 * The parsed document, or null when the file does not exist (a first start). `what` names it
 * in errors ("checkpoints", "the journald cursor"); `advice` says what the operator can do
 * about a corrupt one. The folder is created for the writes to come.
 */
export function readStateFile (file: string, what: string, advice: string): unknown {
  let text: string | null = null
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DaytwoError('CONFIG', `cannot read ${what} ${file}: ${(err as Error).message}`)
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  if (text === null) return null
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new DaytwoError('CONFIG', `${what} ${file} is corrupt (${(err as Error).message}); ${advice}`)
  }
}

/** Replace the file with `doc` as JSON: temp file, fsync, rename. */
export function writeStateFile (file: string, doc: unknown): void {
  const tmp = file + '.new'
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, JSON.stringify(doc))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}
