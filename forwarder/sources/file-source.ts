import { open, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import fg from 'fast-glob'
import picomatch from 'picomatch'
import type { ForwarderConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import type { Checkpoint, CheckpointStore } from '../checkpoints.js'
import { fingerprint } from '../fingerprint.js'
import { MultilineJoiner, continuation } from '../formats/multiline.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Shipper } from '../shipper.js'
import { discoveryPatterns, tagsForPath, type BoshIdentity, type PathTags } from '../tags.js'
import { DirWatcher } from './dir-watcher.js'
import { COMPRESSED, isRotatedName, logicalPath } from './rotation.js'
import { READ_CHUNK, Tailer } from './tailer.js'

/** How long a renamed or deleted file is still read, for writers that have not reopened. */
const ROTATE_WAIT_MS = 2000
/** How long a truncated file's last state waits for its copy to be found. */
const FROZEN_TTL_MS = 10 * 60_000
/** Checkpoints of files not seen for this long are forgotten. */
const UNSEEN_TTL_MS = 60 * 60_000

interface Found { path: string, size: number, dev: number, ino: number }

export type TagRefiner = (tailer: Tailer, tags: PathTags) => void

/**
 * Finds log files under the configured roots and keeps one Tailer per file (by device and
 * inode, so a file reached by two paths — /var/log/containers links, a rotated name — is
 * read once). A file that only a rotated name leads to is read on until it is idle and
 * acknowledged; one that no name leads to (deleted) likewise, and then its checkpoint goes.
 */
export class FileSource {
  private readonly tailers = new Map<string, Tailer>()
  /** The same tailers by current path: an inotify event names a file, not an inode. */
  private readonly byPath = new Map<string, Tailer>()
  /** Shared by the tailers: pollDue reads one file at a time. */
  private readonly readBuffer = Buffer.allocUnsafe(READ_CHUNK)
  private readonly lastSeen = new Map<string, number>()
  private scanTimer: NodeJS.Timeout | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private scans = 0
  private scanning: Promise<void> | null = null
  private rescan = false
  private polling = false
  private kicked = false
  private stopped = false
  private readonly exclude: (p: string) => boolean
  private readonly watcher: DirWatcher | null
  private readonly multilineRules: Array<{ match: (p: string) => boolean, make: () => MultilineJoiner }>
  /** Asked for every new file; may refine its tags later (kubelet metadata). */
  refine: TagRefiner | null = null

  constructor (
    private readonly cfg: ForwarderConfig,
    private readonly node: string,
    private readonly bosh: BoshIdentity,
    private readonly shipper: Shipper,
    private readonly checkpoints: CheckpointStore,
    private readonly metrics: ForwarderMetrics,
    private readonly log: Logger
  ) {
    const ex = cfg.exclude.length > 0 ? picomatch(cfg.exclude, { dot: true }) : () => false
    const inc = cfg.include.length > 0 ? picomatch(cfg.include, { dot: true }) : () => true
    // Globs apply to the live name, so a rotated file follows its live file's fate.
    this.exclude = (p) => COMPRESSED.test(p) || ex(logicalPath(p)) || !inc(logicalPath(p))
    this.watcher = cfg.watch ? new DirWatcher((dir, name) => this.onChange(dir, name), () => this.requestScan()) : null
    this.multilineRules = cfg.multiline.map((r) => ({
      match: picomatch(r.paths, { dot: true }),
      make: () => new MultilineJoiner(continuation(r.preset, r.start), r.maxLines, cfg.maxLineBytes, r.flushMs)
    }))
  }

  get openFiles (): number { return this.tailers.size }
  get all (): Iterable<Tailer> { return this.tailers.values() }

  async start (): Promise<void> {
    await this.scan()
    const scanLoop = async () => {
      if (this.stopped) return
      await this.scan()
      if (!this.stopped) this.scanTimer = setTimeout(scanLoop, this.scanEveryMs)
    }
    this.scanTimer = setTimeout(scanLoop, this.scanEveryMs)
    this.pollTimer = setTimeout(this.pollLoop, 0)
    // Reading stopped for a full queue resumes as soon as a batch is acknowledged, not at the
    // next tick (a 250 ms wait per batch was most of the forwarder's time).
    this.shipper.onCapacity.push(() => this.kick())
  }

  private readonly pollLoop = async (): Promise<void> => {
    if (this.stopped) return
    this.pollTimer = null
    do {
      this.kicked = false
      await this.pollDue()
    } while (this.kicked && !this.stopped && this.shipper.hasCapacity)
    if (!this.stopped) this.pollTimer = setTimeout(this.pollLoop, this.cfg.pollIntervalMs)
  }

  /** Poll now (the shipper has room again). */
  private kick (): void {
    if (this.stopped) return
    if (this.polling || this.pollTimer === null) { this.kicked = true; return }
    clearTimeout(this.pollTimer)
    this.pollTimer = setTimeout(this.pollLoop, 0)
  }

  /**
   * Full scans find what inotify missed; while inotify works they can be rarer (a new file
   * or rename in a watched directory triggers a scan at once).
   */
  private get scanEveryMs (): number {
    return this.watcher?.working ? this.cfg.scanIntervalMs * 5 : this.cfg.scanIntervalMs
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.scanTimer) clearTimeout(this.scanTimer)
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.watcher?.close()
    while (this.polling || this.scanning) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const t of this.tailers.values()) await t.close()
    this.tailers.clear()
    this.byPath.clear()
    this.metrics.openFiles.set(0)
  }

  private onChange (dir: string, name: string | null): void {
    if (name !== null) { this.byPath.get(join(dir, name))?.wake(); return }
    for (const t of this.tailers.values()) if (dirname(t.path) === dir) t.wake()
  }

  private moved (t: Tailer, path: string): void {
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path)
    t.path = path
    this.byPath.set(path, t)
  }

  private requestScan (): void {
    if (this.stopped) return
    if (this.scanning) { this.rescan = true; return }
    setTimeout(() => { void this.scan() }, 10).unref()
  }

  /** One discovery pass (never two at once). */
  async scan (): Promise<void> {
    if (this.scanning) { this.rescan = true; return await this.scanning }
    this.scanning = this.scanOnce().catch((err) => this.log.error({ err }, 'scanning log roots failed'))
    try { await this.scanning } finally { this.scanning = null }
    if (this.rescan && !this.stopped) { this.rescan = false; await this.scan() }
  }

  private async scanOnce (): Promise<void> {
    const first = this.scans++ === 0
    const now = Date.now()
    const found = new Map<string, Found>() // dev:ino → where it is now (a live name wins)
    for (const pattern of discoveryPatterns(this.cfg)) {
      for (const pat of this.cfg.readRotated ? [pattern, pattern + '.*'] : [pattern]) {
        const paths = await fg(pat, { onlyFiles: true, followSymbolicLinks: true, suppressErrors: true, absolute: true })
        for (const path of paths) {
          if (this.exclude(path)) continue
          let st
          try { st = await stat(path) } catch { continue }
          const key = `${st.dev}:${st.ino}`
          const prev = found.get(key)
          if (prev && !isRotatedName(prev.path)) continue
          found.set(key, { path, size: st.size, dev: st.dev, ino: st.ino })
        }
      }
    }
    for (const key of found.keys()) this.lastSeen.set(key, now)

    // Open tailers follow their file: live, rotated away, or gone.
    for (const [key, t] of this.tailers) {
      const f = found.get(key)
      if (!f) { if (t.state !== 'gone') { t.setState('gone', now); this.metrics.rotations.inc() } continue }
      if (f.path !== t.path) this.moved(t, f.path)
      const rotated = isRotatedName(f.path) || logicalPath(f.path) !== t.logicalPath
      if (rotated && t.state === 'live') this.metrics.rotations.inc()
      t.setState(rotated ? 'rotated' : 'live', now)
      if (!rotated) await t.verify().catch(() => {})
    }

    // New files: live names first, so a truncated file's last state exists before its copy is seen.
    const fresh = [...found.entries()].filter(([key]) => !this.tailers.has(key))
    fresh.sort(([, a], [, b]) => Number(isRotatedName(a.path)) - Number(isRotatedName(b.path)))
    for (const [, f] of fresh) await this.openFile(f, first)

    this.forgetStale(now)
    if (this.watcher) this.watcher.sync(await this.watchedDirs())
  }

  /**
   * Every directory a log file can appear in, not only those that hold one now: a file
   * created (and maybe rotated away) between two full scans must still wake a scan.
   */
  private async watchedDirs (): Promise<Set<string>> {
    const dirs = new Set<string>()
    const patterns: string[] = []
    const { podLogRoot: pods, containerLogRoot: containers, boshLogRoot: bosh } = this.cfg
    if (pods) { dirs.add(pods); patterns.push(`${pods}/*`, `${pods}/*/*`) }
    if (containers) dirs.add(containers)
    if (bosh) { dirs.add(bosh); patterns.push(`${bosh}/**`) }
    if (patterns.length > 0) {
      for (const d of await fg(patterns, { onlyDirectories: true, suppressErrors: true, absolute: true, followSymbolicLinks: false })) dirs.add(d)
    }
    for (const t of this.tailers.values()) dirs.add(dirname(t.path))
    return dirs
  }

  private checkpointByInode (dev: number, ino: number): Checkpoint | undefined {
    for (const cp of this.checkpoints.all()) if (cp.dev === dev && cp.ino === ino && !cp.truncated) return cp
    return undefined
  }

  private async openFile (f: Found, firstScan: boolean): Promise<void> {
    const live = logicalPath(f.path)
    const tags = tagsForPath(live, this.cfg, this.bosh)
    if (tags === null) return
    // A file already read to the end (a rotated one, closed after its last ack) stays closed.
    const known = this.checkpointByInode(f.dev, f.ino)
    if (known && known.offset === f.size && isRotatedName(f.path)) return
    let file
    try { file = await open(f.path, 'r') } catch (err) {
      this.log.warn({ path: f.path, err: (err as Error).message }, 'cannot open log file')
      return
    }
    try {
      const st = await file.stat()
      // Tailers read synchronously (see Tailer.poll): only regular files, never a FIFO or a device.
      if (!st.isFile()) { await file.close(); return }
      const key = `${st.dev}:${st.ino}`
      if (this.tailers.has(key)) { await file.close(); return }
      const fp = await fingerprint(file, st.dev, st.ino)
      if (fp === null) { await file.close(); return } // no first line yet: next scan
      let streamKey = fp.key
      let generation = 0
      let startOffset = 0
      const cp = this.checkpoints.get(fp.key)
      const copyOf = cp ? undefined : this.truncatedOriginal(fp.firstLine, live, st.size, f.path)
      if (cp) {
        streamKey = cp.streamKey ?? cp.fingerprint
        generation = cp.generation
        startOffset = cp.offset
        if (cp.offset > st.size) { generation++; startOffset = 0 } // truncated while we were down
      } else if (copyOf) {
        // copytruncate's copy: it holds the original's lines, so it continues that stream.
        streamKey = copyOf.cp.streamKey
        generation = copyOf.cp.generation
        startOffset = copyOf.cp.offset
        this.checkpoints.delete(copyOf.key)
      } else {
        const old = this.checkpointByInode(st.dev, st.ino)
        if (old && old.firstLine !== fp.firstLine) {
          // The same inode with another first line: truncated and rewritten while we were
          // down. Keep its last state for the copy, and read the new content from the start.
          this.checkpoints.delete(old.fingerprint)
          this.checkpoints.set({ ...old, truncated: true }, `${old.fingerprint}@${old.generation}`)
          this.metrics.truncations.inc()
        } else if (firstScan && this.checkpoints.firstStart && this.cfg.readFrom === 'tail') {
          startOffset = st.size
        }
      }
      const rule = this.multilineRules.find((r) => r.match(live))
      const tailer = new Tailer({
        node: this.node, path: f.path, logicalPath: live, file, dev: st.dev, ino: st.ino, fp, streamKey, generation, startOffset, tags, cfg: this.cfg, readBuffer: this.readBuffer,
        multiline: rule ? rule.make() : null
      }, this.shipper, this.checkpoints, this.metrics)
      if (isRotatedName(f.path)) tailer.setState('rotated', Date.now())
      this.tailers.set(key, tailer)
      this.byPath.set(tailer.path, tailer)
      this.metrics.openFiles.set(this.tailers.size)
      this.refine?.(tailer, tags)
      this.log.debug({ path: f.path, startOffset, generation }, 'tailing')
    } catch (err) {
      await file.close().catch(() => {})
      this.log.warn({ path: f.path, err: (err as Error).message }, 'cannot read log file')
    }
  }

  /** The last state of a truncated file that `path` (a rotated name) is the copy of. */
  private truncatedOriginal (firstLine: string, live: string, size: number, path: string): { key: string, cp: Checkpoint } | undefined {
    if (!isRotatedName(path)) return undefined
    for (const key of this.checkpoints.keys()) {
      const cp = this.checkpoints.get(key)!
      if (cp.truncated && cp.firstLine === firstLine && cp.logicalPath === live && cp.offset <= size) return { key, cp }
    }
    return undefined
  }

  private forgetStale (now: number): void {
    for (const key of this.checkpoints.keys()) {
      const cp = this.checkpoints.get(key)!
      if (cp.truncated) {
        if (now - cp.updatedMs > FROZEN_TTL_MS) this.checkpoints.delete(key)
        continue
      }
      const seen = this.lastSeen.get(`${cp.dev}:${cp.ino}`)
      if (seen === undefined) this.lastSeen.set(`${cp.dev}:${cp.ino}`, now)
      else if (now - seen > UNSEEN_TTL_MS && !this.tailers.has(`${cp.dev}:${cp.ino}`)) this.checkpoints.delete(key)
    }
  }

  /** Poll every tailer that is due; close the ones that are finished. */
  private async pollDue (): Promise<void> {
    this.polling = true
    const now = Date.now()
    try {
      for (const [key, t] of this.tailers) {
        if (this.stopped || !this.shipper.hasCapacity) break
        const finalRead = t.state !== 'live' && now - t.stateSinceMs >= ROTATE_WAIT_MS
        if (t.nextPollMs > now && !finalRead) continue
        let read = 0
        try {
          read = await t.poll(now, finalRead)
        } catch (err) {
          this.log.warn({ path: t.path, err: (err as Error).message }, 'reading log file failed')
          continue
        }
        if (finalRead && read === 0 && t.lagBytes === 0) {
          // Read to its end and every line acknowledged: close it.
          await t.close()
          this.tailers.delete(key)
          if (this.byPath.get(t.path) === t) this.byPath.delete(t.path)
          if (t.state === 'gone') this.checkpoints.delete(t.fp.key)
          this.metrics.openFiles.set(this.tailers.size)
        }
      }
    } finally {
      this.polling = false
    }
  }
}
