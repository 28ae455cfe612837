import { stat } from 'node:fs/promises'
import { LRUCache } from 'lru-cache'
import { LEVELS, instanceKey, type InstanceReport, type Level, type SampleSet } from '../../core/metric-samples.js'
import type { StreamHandle } from '../shipper.js'
import { detectLevel, detectLevelBytes, syslogSeverityLevel } from '../../core/level.js'

// Log-derived work metrics, counted as the shipper sees each line (Shipper.observers): lines,
// bytes and lines by level per deployment/job/index/process/stream, and per instance the time
// of its last line. A stream handle's counters are looked up once per handle (WeakMap), so a
// line costs a level check and three additions.
//
// Rotation and truncation are seen without a hook in the tailer: both give an already known
// path a new stream. The path's inode tells them apart (same inode: truncated; new: rotated).

const LEVEL_INDEX: Record<Level, number> = Object.fromEntries(LEVELS.map((l, i) => [l, i])) as Record<Level, number>
const ALWAYS = [LEVEL_INDEX.error, LEVEL_INDEX.warn]

interface Counts { labels: string[], lines: number, bytes: number, levels: number[] }

interface InstanceState {
  deployment: string
  job: string
  index: string
  lastLineMs: number
  /** Set when forgotten: handles still pointing here attach again. */
  forgotten: boolean
  counts: Map<string, Counts>
  /** process → [rotations, truncations] */
  files: Map<string, [number, number]>
}

interface HandleState {
  inst: InstanceState
  process: string
  /** stdio → counts; '' is the stream derived from the source (file name, syslog). */
  byStdio: Map<string, Counts>
  fixedStream: string
  severity: Level | null
}

export interface LogEvent { kind: 'file_rotated' | 'file_truncated' | 'instance_first_seen', deployment: string, job: string, index: string, process?: string, path?: string }

function streamOf (h: StreamHandle): string {
  if (h.tags.source === 'syslog') return 'syslog'
  if (h.tags.path.endsWith('.stderr.log')) return 'stderr'
  if (h.tags.path.endsWith('.stdout.log')) return 'stdout'
  return 'file'
}

export class LogCounts {
  private readonly instances = new Map<string, InstanceState>()
  private readonly handles = new WeakMap<StreamHandle, HandleState | null>()
  /** path → the stream id last seen there and the inode it had. */
  private readonly paths = new LRUCache<string, { streamId: string, ino: number }>({ max: 20000 })
  private pendingEvents: LogEvent[] = []
  private last: { handle: StreamHandle, stdio: string, hs: HandleState, c: Counts } | null = null
  untracked = 0

  constructor (private readonly maxInstances: number, private readonly now: () => number = Date.now) {}

  /** Shipper observer (LineObserver): a line as a string (`message` may be only its head). */
  readonly observe = (handle: StreamHandle, stdio: string, message: string, bytes: number, severity: string | undefined): void => {
    const hs = this.count(handle, stdio, bytes)
    if (hs !== null) this.last!.c.levels[LEVEL_INDEX[severity !== undefined ? syslogSeverityLevel(severity) : hs.severity ?? detectLevel(message)]]!++
  }

  /** Shipper observer (LineObserver): a line as bytes `buf[start, end)`, valid UTF-8 (`ascii`: known to be ASCII). */
  readonly observeBytes = (handle: StreamHandle, stdio: string, buf: Buffer, start: number, end: number, ascii: boolean): void => {
    const hs = this.count(handle, stdio, end - start)
    if (hs !== null) this.last!.c.levels[LEVEL_INDEX[hs.severity ?? detectLevelBytes(buf, start, end, ascii)]]!++
  }

  /** Count one line of `bytes` (its level is the caller's); the stream's state, or null when it is not tracked. */
  private count (handle: StreamHandle, stdio: string, bytes: number): HandleState | null {
    const c = this.lookup(handle, stdio)
    if (c === null) return null
    c.lines++
    c.bytes += bytes
    const hs = this.last!.hs
    hs.inst.lastLineMs = this.now()
    return hs
  }

  /** The counters of a stream's stdio; null when the stream is not tracked (too many instances). */
  private lookup (handle: StreamHandle, stdio: string): Counts | null {
    // Consecutive lines mostly share a stream and stdio: the last lookup is kept.
    const last = this.last
    if (last !== null && handle === last.handle && stdio === last.stdio && !last.hs.inst.forgotten) return last.c
    let hs = this.handles.get(handle)
    if (hs === undefined || (hs !== null && hs.inst.forgotten)) { hs = this.attach(handle); this.handles.set(handle, hs) }
    if (hs === null) { this.untracked++; return null }
    let c = hs.byStdio.get(stdio)
    if (c === undefined) {
      const stream = stdio === 'stdout' || stdio === 'stderr' ? stdio : hs.fixedStream
      c = this.countsFor(hs.inst, hs.process, stream)
      hs.byStdio.set(stdio, c)
    }
    this.last = { handle, stdio, hs, c }
    return c
  }

  private attach (handle: StreamHandle): HandleState | null {
    const t = handle.tags
    const key = instanceKey(t)
    let inst = this.instances.get(key)
    if (inst === undefined) {
      if (this.instances.size >= this.maxInstances) return null
      inst = { deployment: t.deployment, job: t.job, index: t.index, lastLineMs: this.now(), forgotten: false, counts: new Map(), files: new Map() }
      this.instances.set(key, inst)
      this.pendingEvents.push({ kind: 'instance_first_seen', deployment: t.deployment, job: t.job, index: t.index })
    }
    if (t.source === 'file') this.watchPath(inst, t.process, t.path, t.id)
    const sev = t.labels?.severity
    return { inst, process: t.process, byStdio: new Map(), fixedStream: streamOf(handle), severity: sev !== undefined ? syslogSeverityLevel(sev) : null }
  }

  private watchPath (inst: InstanceState, process: string, path: string, streamId: string): void {
    const prev = this.paths.get(path)
    if (!inst.files.has(process)) inst.files.set(process, [0, 0])
    const entry = { streamId, ino: prev?.ino ?? -1 }
    this.paths.set(path, entry)
    void stat(path).then((st) => {
      const wasIno = entry.ino
      entry.ino = st.ino
      if (prev === undefined || prev.streamId === streamId) return
      const truncated = wasIno === st.ino
      let f = inst.files.get(process)
      if (f === undefined) { f = [0, 0]; inst.files.set(process, f) }
      f[truncated ? 1 : 0]++
      this.pendingEvents.push({ kind: truncated ? 'file_truncated' : 'file_rotated', deployment: inst.deployment, job: inst.job, index: inst.index, process, path })
    }, () => { /* gone already */ })
  }

  private countsFor (inst: InstanceState, process: string, stream: string): Counts {
    const k = process + '\0' + stream
    let c = inst.counts.get(k)
    if (c === undefined) {
      c = { labels: [inst.deployment, inst.job, inst.index, process, stream], lines: 0, bytes: 0, levels: LEVELS.map(() => 0) }
      inst.counts.set(k, c)
    }
    return c
  }

  /** Events seen since the last call. */
  takeEvents (): LogEvent[] {
    const e = this.pendingEvents
    this.pendingEvents = []
    return e
  }

  /**
   * Add this forwarder's log samples to `out` and list its instances. Instances without a
   * line for `forgetAfterMs` are forgotten (their series leave the collector after its grace).
   */
  collect (out: SampleSet, forgetAfterMs: number): InstanceReport[] {
    const now = this.now()
    const list: InstanceReport[] = []
    for (const [key, inst] of this.instances) {
      if (now - inst.lastLineMs > forgetAfterMs) { inst.forgotten = true; this.instances.delete(key); continue }
      const id = [inst.deployment, inst.job, inst.index]
      list.push({ deployment: inst.deployment, job: inst.job, index: inst.index, lastLineAgeMs: Math.max(0, now - inst.lastLineMs) })
      out.add('daytwo_instance_last_log_timestamp_seconds', id, inst.lastLineMs / 1000)
      for (const c of inst.counts.values()) {
        out.add('daytwo_log_lines_total', c.labels, c.lines)
        out.add('daytwo_log_bytes_total', c.labels, c.bytes)
        for (let i = 0; i < LEVELS.length; i++) {
          if (c.levels[i] !== 0 || ALWAYS.includes(i)) out.add('daytwo_log_lines_by_level_total', [...c.labels, LEVELS[i]!], c.levels[i]!)
        }
      }
      for (const [process, [rot, trunc]] of inst.files) {
        out.add('daytwo_log_file_rotations_total', [...id, process], rot)
        out.add('daytwo_log_file_truncations_total', [...id, process], trunc)
      }
    }
    return list
  }
}
