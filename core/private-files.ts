import { chmodSync, lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

// Everything daytwo keeps on disk holds tenants' logs or secrets: the embedded store and its
// WAL, the syslog spool, checkpoints (file paths), tokens. It is private to the user daytwo
// runs as, whatever the umask it was started with: `logs serve` sets umask 077 before it
// creates anything (cli/serve.ts), and tightens what an older version or a looser umask
// left readable by others.

/** The umask every role runs with: files 0600, folders 0700. */
export const PRIVATE_UMASK = 0o077

export interface PrivatePath {
  path: string
  /** Also everything below it (folders daytwo owns entirely). */
  recursive: boolean
}

/**
 * Remove group and other permissions from these paths (and, when recursive, what is below
 * them; symbolic links are left alone). Returns the paths changed, and those that could not
 * be (another user's files: the caller warns, starting is not refused); missing paths are skipped.
 */
export function tightenPrivate (paths: PrivatePath[]): { changed: string[], failed: string[] } {
  const changed: string[] = []
  const failed: string[] = []
  const visit = (p: string, recursive: boolean) => {
    let st
    try { st = lstatSync(p) } catch { return }
    if (st.isSymbolicLink()) return
    if ((st.mode & 0o077) !== 0) {
      try {
        chmodSync(p, st.mode & 0o7700)
        changed.push(p)
      } catch (err) {
        failed.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
    if (!recursive || !st.isDirectory()) return
    let names: string[]
    try { names = readdirSync(p) } catch (err) { failed.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); return }
    for (const name of names) visit(join(p, name), true)
  }
  for (const { path, recursive } of paths) visit(path, recursive)
  return { changed, failed }
}
