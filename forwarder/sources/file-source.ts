import { open, stat } from 'node:fs/promises'
import { fstatSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import fg from 'fast-glob'
import picomatch from 'picomatch'
import type { ForwarderConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import { type Checkpoint, type CheckpointStore } from '../checkpoints.js'
import { fingerprintSync } from '../fingerprint.js'
import { MultilineJoiner, continuation } from '../formats/multiline.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Shipper } from '../shipper.js'
import { discoveryPatterns, tagsForPath, type BoshIdentity, type PathTags } from '../tags.js'
import { DirWatcher } from './dir-watcher.js'
import { COMPRESSED, isRotatedName, logicalPath } from './rotation.js'
import { READ_CHUNK, Tailer, anchorAt, newGeneration, type Identity, type IdentityQuestion } from './tailer.js'

/** How long a renamed or deleted file is still read, for writers that have not reopened. */
const ROTATE_WAIT_MS = 2000
/** How long a truncated file's last state waits for its copy to be found. */
const FROZEN_TTL_MS = 10 * 60_000
/** How long a copy waits for its original to be truncated (or to grow long enough to check). */
const UNIDENTIFIED_WAIT_MS = 10_000
/** How many truncated states of one live file wait for their copies (a copy every 100 ms makes many). */
const FROZEN_PER_FILE = 8
/** Checkpoints of files not seen for this long are forgotten. */
const UNSEEN_TTL_MS = 60 * 60_000

interface Found { path: string, size: number, dev: number, ino: number, mtimeMs: number }

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
    if (name !== null) {
      const t = this.byPath.get(join(dir, name))
      // A closed rotated file written again (a copy made onto it in place) needs a scan to reopen it.
      if (t) t.wake(); else this.requestScan()
      return
    }
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
          found.set(key, { path, size: st.size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs })
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
    // A file already read to the end (a rotated one, closed after its last ack) stays closed,
    // unless it was written since (a copy made onto it in place has a later mtime).
    const known = this.checkpointByInode(f.dev, f.ino)
    if (known && known.offset === f.size && isRotatedName(f.path) && f.mtimeMs + 1000 < known.updatedMs) return
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
      // Read synchronously with identify's checks: all of them see the same bytes.
      const fp = fingerprintSync(file.fd, st.dev, st.ino)
      if (fp === null) { await file.close(); return } // no first line yet: next scan
      const identity = this.identify({ path: f.path, logicalPath: live, dev: st.dev, ino: st.ino, fp, size: fstatSync(file.fd).size, fd: file.fd, replaced: false }, firstScan)
      const rule = this.multilineRules.find((r) => r.match(live))
      const tailer = new Tailer({
        node: this.node, path: f.path, logicalPath: live, file, dev: st.dev, ino: st.ino, fp, identity, identify: (q) => this.identify(q, false), freeze: (cp) => this.freeze(cp), tags, cfg: this.cfg, readBuffer: this.readBuffer,
        multiline: rule ? rule.make() : null
      }, this.shipper, this.checkpoints, this.metrics)
      if (isRotatedName(f.path)) tailer.setState('rotated', Date.now())
      this.tailers.set(key, tailer)
      this.byPath.set(tailer.path, tailer)
      this.metrics.openFiles.set(this.tailers.size)
      this.refine?.(tailer, tags)
      this.log.debug({ path: f.path, identity }, 'tailing')
    } catch (err) {
      await file.close().catch(() => {})
      this.log.warn({ path: f.path, err: (err as Error).message }, 'cannot read log file')
    }
  }

  /**
   * Which stream a file's content continues, and from where. A (stream, offset) must never
   * name other bytes than the ones first shipped under it (the store would keep the first and
   * drop the second as a retry), so every continuation is checked against the bytes before
   * its offset (the anchor), and anything that fails starts a generation no stream had.
   *
   * - A rotated name whose first line is a truncated original's, with the original's bytes
   *   where it stopped: copytruncate's copy, which continues the original from its last ack.
   * - A rotated name whose first line is the live file's, while that file is not truncated
   *   yet: a copy in the making; null (asked again at the next poll).
   * - A checkpoint of this file whose anchor matches: resumed. One that does not (written
   *   over while daytwo was down), or is past the end: a new generation from the start, and
   *   the old state kept for a copy.
   * Null means "ask again"; the cases that cannot be told apart are counted
   * (daytwo_forwarder_file_identity_unsure_total).
   */
  private identify (q: IdentityQuestion, firstScan: boolean): Identity | null {
    const { fp, size, fd } = q
    const matches = (offset: number, anchor: string | undefined): boolean => {
      if (offset > size) return false
      if (anchor === undefined) return offset === 0
      return anchorAt(fd, offset).toString('base64') === anchor
    }
    const live = this.isLiveInode(q)
    if (!live) {
      let short = false
      for (const [key, cp] of this.frozenOf(q.logicalPath)) {
        if (cp.firstLine !== fp.firstLine) continue
        const byRead = cp.readOffset !== undefined && cp.readOffset <= size && matches(cp.readOffset, cp.readAnchor)
        if (byRead || matches(cp.offset, cp.anchor)) {
          this.checkpoints.delete(key)
          return { streamKey: cp.streamKey, generation: cp.generation, startOffset: cp.offset, anchor: byRead ? anchorAt(fd, cp.offset).toString('base64') : cp.anchor ?? '' }
        }
        if (cp.readOffset !== undefined && size < cp.readOffset) short = true
      }
      for (const t of this.tailers.values()) {
        if (t.logicalPath === q.logicalPath && t.ino !== q.ino && !t.unidentified && t.fp.firstLine === fp.firstLine && t.state === 'live') return null
      }
      if (short) return null
    }
    if (q.replaced) {
      // New bytes in a file read before (its last state is frozen already): a generation of
      // its own. A rotated file's new bytes that continue no stream may be a copy of lines
      // shipped already under another one.
      if (!live) this.unsure('copy_unmatched', q)
      return { streamKey: fp.key, generation: newGeneration(0), startOffset: 0, anchor: '' }
    }
    const cp = this.checkpoints.get(fp.key)
    if (cp && !cp.truncated) {
      const streamKey = cp.streamKey ?? cp.fingerprint
      if (cp.offset > size) {
        this.unsure('truncated_while_down', q)
        this.freeze(cp)
        return { streamKey, generation: newGeneration(cp.generation), startOffset: 0, anchor: '' }
      }
      if (cp.anchor === undefined && cp.offset > 0) {
        this.unsure('unverified_resume', q)
        return { streamKey, generation: cp.generation, startOffset: cp.offset, anchor: anchorAt(fd, cp.offset).toString('base64') }
      }
      if (!matches(cp.offset, cp.anchor ?? '')) {
        if (cp.offset === 0) return { streamKey, generation: cp.generation, startOffset: 0, anchor: '' }
        this.unsure('resume_mismatch', q)
        this.freeze(cp)
        return { streamKey, generation: newGeneration(cp.generation), startOffset: 0, anchor: '' }
      }
      return { streamKey, generation: cp.generation, startOffset: cp.offset, anchor: cp.anchor ?? '' }
    }
    const old = this.checkpointByInode(q.dev, q.ino)
    if (old && old.firstLine !== fp.firstLine) {
      // The same inode with another first line: truncated and rewritten while we were down
      // (or just now). Keep its last state for the copy, and read the new content from the start.
      this.checkpoints.delete(old.fingerprint)
      this.freeze(old)
      this.metrics.truncations.inc()
    }
    const tail = firstScan && this.checkpoints.firstStart && this.cfg.readFrom === 'tail'
    return { streamKey: fp.key, generation: 0, startOffset: tail ? size : 0, anchor: tail ? anchorAt(fd, size).toString('base64') : '' }
  }

  /** Whether the live name leads to this file now (a stat: the last scan may be older than a rename). */
  private isLiveInode (q: IdentityQuestion): boolean {
    try {
      const st = statSync(q.logicalPath)
      return st.ino === q.ino && st.dev === q.dev
    } catch {
      return false
    }
  }

  /** Truncated states of one live file, newest first. */
  private frozenOf (live: string): Array<[string, Checkpoint]> {
    const out: Array<[string, Checkpoint]> = []
    for (const key of this.checkpoints.keys()) {
      const cp = this.checkpoints.get(key)!
      if (cp.truncated && cp.logicalPath === live) out.push([key, cp])
    }
    return out.sort(([, a], [, b]) => b.updatedMs - a.updatedMs)
  }

  /** Keep a file's last state for its copy (and only the last few per live file). */
  private freeze (cp: Checkpoint): void {
    this.checkpoints.set({ ...cp, truncated: true, updatedMs: Date.now() }, `${cp.streamKey ?? cp.fingerprint}@${cp.generation}`)
    for (const [key] of this.frozenOf(cp.logicalPath).slice(FROZEN_PER_FILE)) this.checkpoints.delete(key)
  }

  private unsure (reason: string, q: IdentityQuestion): void {
    this.metrics.identityUnsure.inc({ reason })
    this.log.warn({ path: q.path, reason }, 'file identity unsure: its lines may be shipped twice, or were lost before they were read')
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
        // A copy that never matched its original (not truncated yet) is given up after a while, counted.
        const waiting = t.unidentified && t.state !== 'gone' && now - t.unidentifiedSinceMs < UNIDENTIFIED_WAIT_MS
        if (finalRead && read === 0 && t.lagBytes === 0 && !waiting) {
          if (t.unidentified) { this.metrics.identityUnsure.inc({ reason: 'copy_unverified' }); this.log.warn({ path: t.path }, 'a rotated file matched no stream and was not read') }
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
