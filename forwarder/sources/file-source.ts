import { open, stat } from 'node:fs/promises'
import fg from 'fast-glob'
import type { ForwarderConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import type { CheckpointStore } from '../checkpoints.js'
import { fingerprint } from '../fingerprint.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Shipper } from '../shipper.js'
import { discoveryPatterns, tagsForPath, type BoshIdentity } from '../tags.js'
import { Tailer } from './tailer.js'

/** How long a renamed or deleted file is still read, for writers that have not reopened. */
const ROTATE_WAIT_MS = 2000

/**
 * Finds log files under the configured roots and keeps one Tailer per file (by device and
 * inode, so a file reached by two paths — /var/log/containers links — is read once).
 * A file whose path now leads elsewhere (rename rotation) or nowhere (deletion) is read to
 * its end, its last lines acknowledged, and only then closed and forgotten.
 */
export class FileSource {
  private readonly tailers = new Map<string, Tailer>()
  private scanTimer: NodeJS.Timeout | null = null
  private pollTimer: NodeJS.Timeout | null = null
  private scans = 0
  private polling = false
  private stopped = false

  constructor (
    private readonly cfg: ForwarderConfig,
    private readonly node: string,
    private readonly bosh: BoshIdentity,
    private readonly shipper: Shipper,
    private readonly checkpoints: CheckpointStore,
    private readonly metrics: ForwarderMetrics,
    private readonly log: Logger
  ) {}

  get openFiles (): number { return this.tailers.size }

  async start (): Promise<void> {
    await this.scan()
    const scanLoop = async () => {
      if (this.stopped) return
      try { await this.scan() } catch (err) { this.log.error({ err }, 'scanning log roots failed') }
      if (!this.stopped) this.scanTimer = setTimeout(scanLoop, this.cfg.scanIntervalMs)
    }
    const pollLoop = async () => {
      if (this.stopped) return
      await this.pollAll()
      if (!this.stopped) this.pollTimer = setTimeout(pollLoop, this.cfg.pollIntervalMs)
    }
    this.scanTimer = setTimeout(scanLoop, this.cfg.scanIntervalMs)
    this.pollTimer = setTimeout(pollLoop, 0)
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.scanTimer) clearTimeout(this.scanTimer)
    if (this.pollTimer) clearTimeout(this.pollTimer)
    while (this.polling) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const t of this.tailers.values()) await t.close()
    this.tailers.clear()
    this.metrics.openFiles.set(0)
  }

  /** One discovery pass: open new files, notice renamed and deleted ones. */
  async scan (): Promise<void> {
    const first = this.scans++ === 0
    const seenPaths = new Map<string, string>() // path → dev:ino it leads to now
    for (const pattern of discoveryPatterns(this.cfg)) {
      const paths = await fg(pattern, { onlyFiles: true, followSymbolicLinks: true, suppressErrors: true, absolute: true })
      for (const path of paths) {
        let st
        try { st = await stat(path) } catch { continue }
        const key = `${st.dev}:${st.ino}`
        seenPaths.set(path, key)
        if (!this.tailers.has(key)) await this.openFile(path, first)
      }
    }
    const now = Date.now()
    for (const t of this.tailers.values()) {
      const leadsTo = seenPaths.get(t.path)
      if (leadsTo === `${t.dev}:${t.ino}`) { t.goneSinceMs = 0; continue }
      if (t.goneSinceMs === 0) t.goneSinceMs = now
    }
  }

  private async openFile (path: string, firstScan: boolean): Promise<void> {
    const tags = tagsForPath(path, this.cfg, this.bosh)
    if (tags === null) return
    let file
    try { file = await open(path, 'r') } catch (err) {
      this.log.warn({ path, err: (err as Error).message }, 'cannot open log file')
      return
    }
    try {
      const st = await file.stat()
      const key = `${st.dev}:${st.ino}`
      if (this.tailers.has(key)) { await file.close(); return }
      const fp = await fingerprint(file, st.dev, st.ino)
      if (fp === null) { await file.close(); return } // no first line yet: next scan
      const cp = this.checkpoints.get(fp)
      let startOffset = 0
      let generation = 0
      if (cp) {
        generation = cp.generation
        startOffset = cp.offset <= st.size ? cp.offset : 0
        if (cp.offset > st.size) generation++ // truncated while we were down
      } else if (firstScan && this.checkpoints.firstStart && this.cfg.readFrom === 'tail') {
        startOffset = st.size
      }
      const tailer = new Tailer({ node: this.node, path, file, dev: st.dev, ino: st.ino, fingerprint: fp, tags, startOffset, generation, maxLineBytes: this.cfg.maxLineBytes }, this.shipper, this.checkpoints, this.metrics)
      this.tailers.set(key, tailer)
      this.metrics.openFiles.set(this.tailers.size)
      this.log.debug({ path, startOffset, generation }, 'tailing')
    } catch (err) {
      await file.close().catch(() => {})
      this.log.warn({ path, err: (err as Error).message }, 'cannot read log file')
    }
  }

  private async pollAll (): Promise<void> {
    this.polling = true
    const now = Date.now()
    try {
      for (const [key, t] of this.tailers) {
        if (this.stopped || !this.shipper.hasCapacity) break
        const finalRead = t.goneSinceMs !== 0 && now - t.goneSinceMs >= ROTATE_WAIT_MS
        try {
          await t.poll(finalRead)
        } catch (err) {
          this.log.warn({ path: t.path, err: (err as Error).message }, 'reading log file failed')
          continue
        }
        if (finalRead && t.lagBytes === 0) {
          // Read to its end and every line acknowledged: forget it.
          await t.close()
          this.tailers.delete(key)
          this.checkpoints.delete(t.fingerprint)
          this.metrics.openFiles.set(this.tailers.size)
        }
      }
    } finally {
      this.polling = false
    }
  }
}
