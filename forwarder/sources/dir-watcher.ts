import { watch, type FSWatcher } from 'node:fs'

/**
 * inotify through fs.watch, one watch per directory: a `change` wakes the tailer of that
 * file, a `rename` (create, rotate, delete) asks for a scan at once. Watching is a hint, not
 * the truth: files are still polled (rarely when idle) and roots still scanned, so a lost
 * event or a file system without inotify (NFS) only makes daytwo slower, never wrong.
 */
export class DirWatcher {
  private readonly watchers = new Map<string, FSWatcher>()
  private failed = false

  constructor (private readonly onChange: (dir: string, name: string | null) => void, private readonly onRename: () => void) {}

  /** False once watching failed (e.g. inotify limits): callers then poll at full rate. */
  get working (): boolean { return !this.failed }

  /** Watch exactly these directories from now on. */
  sync (dirs: Set<string>): void {
    for (const [dir, w] of this.watchers) {
      if (!dirs.has(dir)) { w.close(); this.watchers.delete(dir) }
    }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue
      try {
        const w = watch(dir, { persistent: false }, (event, name) => {
          if (event === 'rename') this.onRename()
          else this.onChange(dir, name === null ? null : String(name))
        })
        w.on('error', () => { w.close(); this.watchers.delete(dir) })
        this.watchers.set(dir, w)
      } catch {
        this.failed = true
      }
    }
  }

  close (): void {
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
  }
}
