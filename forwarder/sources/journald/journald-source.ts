import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { isUtf8 } from 'node:buffer'
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import type { ForwarderConfig } from '../../../core/config-schema.js'
import type { Logger } from '../../../core/logger.js'
import { counter } from '../../../core/metrics.js'
import type { Entry, StreamTags } from '../../../core/record.js'
import type { ForwarderMetrics } from '../../metrics.js'
import { backoffMs } from '../../../core/backoff.js'
import { StreamHandle, type Shipper } from '../../shipper.js'
import { deploymentRules } from '../syslog/stream-tags.js'
import { JournaldCheckpoint } from './cursor-checkpoint.js'
import { ExportFormatError, ExportParser, type ExportEntry } from './export-parser.js'
import { fieldLimits, identityOf, lineAttributes, streamTags, utf8Head, type TagContext } from './journal-identity.js'

// The journal in: journalctl (the system's own reader: it knows every journal file version,
// compression and rotation) streams entries in the export format; each becomes a record of
// its (host, unit) stream.
//
// Offsets. A record id is (stream, offset), and a retry must give a line the same one. The
// journal's own __SEQNUM cannot be it: it is per journal writer (seqnum id), so a directory of
// several machines' or users' journals interleaves sequences that go back, and it restarts
// when a journal is recreated. Instead every stream counts its entries, and the count is
// checkpointed in one atomic write with the cursor (cursor-checkpoint.ts): the entries after a
// cursor come back from journalctl in the same order after a restart, so they are numbered
// again exactly as before — retried lines keep their ids (the store drops them), new lines
// continue the count, and offsets only grow within a stream, as the store's high-water mark needs.
//
// The cursor is checkpointed only once the collector acknowledged its entry and every entry
// before it (the shipper acknowledges per stream; `pending` holds the handed-over entries in
// journal order until theirs is). A kill -9 therefore re-reads at most the unacknowledged
// entries, under their old ids.

const STREAM_OVERFLOW = 'journald-overflow'
const RESTART_REASONS = ['missing', 'exited', 'malformed'] as const
type RestartReason = typeof RESTART_REASONS[number]

interface StreamState { key: string, handle: StreamHandle, next: number, acked: number }
interface Pending { st: StreamState, end: number, cursor: string }

export class JournaldSource {
  private readonly checkpoint: JournaldCheckpoint
  private readonly parser: ExportParser
  private readonly streams = new Map<string, StreamState>()
  private pending: Pending[] = []
  private head = 0
  /** Streams' next offsets at the checkpointed cursor. */
  private readonly committed = new Map<string, number>()
  private readonly ctx: TagContext
  private child: ChildProcess | null = null
  private lastRead: string | null = null
  private attempt = 0
  private restartTimer: NodeJS.Timeout | null = null
  private stopping = false
  private exited: Promise<void> = Promise.resolve()
  private readonly restarts: ReturnType<typeof counter>
  private readonly j: ForwarderConfig['journald']
  private stderrTail = ''

  constructor (private readonly cfg: ForwarderConfig, private readonly node: string, dataDir: string, private readonly shipper: Shipper, private readonly metrics: ForwarderMetrics, registry: Registry, private readonly log: Logger) {
    this.j = cfg.journald
    this.checkpoint = new JournaldCheckpoint(join(dataDir, 'forwarder', 'journald-cursor.json'))
    for (const [k, v] of Object.entries(this.checkpoint.state.offsets)) this.committed.set(k, v)
    this.lastRead = this.checkpoint.state.cursor
    this.parser = new ExportParser(fieldLimits(cfg.maxLineBytes, this.j.maxAttributeBytes), (e) => this.onEntry(e))
    const location = this.j.files.length > 0 ? `journald://${this.j.files.join(',')}` : this.j.root !== '' ? `journald://${this.j.root}` : this.j.directory !== '' ? `journald://${this.j.directory}` : 'journald://local'
    this.ctx = { node, epoch: this.checkpoint.state.epoch, location, rules: deploymentRules(this.j.deployments), defaultDeployment: this.j.deployment }
    this.restarts = counter(registry, 'daytwo_forwarder_journald_restarts_total', 'journalctl restarts of the journald source, by reason (missing: not found or not startable; exited: it ended; malformed: it wrote something not in the export format).', ['reason'])
    for (const r of RESTART_REASONS) this.restarts.inc({ reason: r }, 0)
    for (const r of ['journald_field_truncated', 'journald_too_many_streams']) metrics.altered.inc({ reason: r }, 0)
    shipper.onCapacity.push(() => { if (this.child?.stdout?.isPaused() === true) this.child.stdout.resume() })
  }

  get location (): string { return this.ctx.location }

  async start (): Promise<void> {
    this.checkpoint.flush()
    if (this.lastRead === null && this.j.readFrom === 'tail' && this.j.since === '') {
      // "From now" must survive a crash before the first acknowledgement: the journal's last
      // entry now is checkpointed as the place to continue after.
      const tail = await this.tailCursor()
      if (tail !== null) {
        this.lastRead = tail
        this.checkpoint.set(tail, this.committed)
        this.checkpoint.flush()
      }
    }
    this.spawn()
  }

  private locationArgs (): string[] {
    const a: string[] = []
    if (this.j.files.length > 0) for (const f of this.j.files) a.push(`--file=${f}`)
    else if (this.j.root !== '') a.push(`--root=${this.j.root}`)
    else if (this.j.directory !== '') a.push(`--directory=${this.j.directory}`)
    for (const u of this.j.units) a.push(`--unit=${u}`)
    return a
  }

  private async tailCursor (): Promise<string | null> {
    return await new Promise((resolve) => {
      execFile(this.j.journalctl, [...this.locationArgs(), '--output=export', '--lines=1', '--no-pager', '--output-fields=__CURSOR'], { maxBuffer: 1 << 20, encoding: 'buffer' }, (err, stdout) => {
        if (err !== null) { resolve(null); return }
        const m = /^__CURSOR=(.+)$/m.exec(stdout.toString('latin1'))
        resolve(m ? m[1]! : null)
      })
    })
  }

  private spawn (): void {
    if (this.stopping) return
    const args = [...this.locationArgs(), '--output=export', '--follow', '--no-pager']
    if (this.lastRead !== null) args.push(`--after-cursor=${this.lastRead}`, '--no-tail')
    else if (this.j.since !== '') args.push(`--since=${this.j.since}`)
    else args.push('--no-tail')
    if (this.lastRead === null && this.j.currentBoot) args.push('--boot')
    this.parser.reset()
    this.stderrTail = ''
    let child: ChildProcess
    try {
      child = spawn(this.j.journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      this.failed('missing', (err as Error).message)
      return
    }
    this.child = child
    let failure: { reason: RestartReason, detail: string } | null = null
    child.stdout!.on('data', (chunk: Buffer) => {
      if (failure !== null) return
      try {
        this.parser.push(chunk)
      } catch (err) {
        if (!(err instanceof ExportFormatError)) throw err
        failure = { reason: 'malformed', detail: err.message }
        child.kill('SIGKILL')
        return
      }
      if (!this.shipper.hasCapacity) child.stdout!.pause()
    })
    child.stderr!.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000) })
    this.exited = new Promise((resolve) => {
      let over = false
      const done = (): void => {
        if (over) return
        over = true
        this.child = null
        resolve()
        if (this.stopping) return
        this.failed(failure!.reason, failure!.detail)
      }
      // A binary that cannot be started reports 'error' and may never 'close'.
      child.once('error', (err) => { failure ??= { reason: 'missing', detail: `${this.j.journalctl}: ${err.message}` }; if (child.pid === undefined) done() })
      child.once('close', (code, signal) => {
        failure ??= { reason: 'exited', detail: `journalctl exited (${signal ?? `code ${String(code)}`}): ${this.stderrTail.trim().slice(-500) || 'no message'}` }
        done()
      })
    })
  }

  private failed (reason: RestartReason, detail: string): void {
    this.restarts.inc({ reason })
    this.attempt++
    const wait = backoffMs(this.attempt - 1, { initialMs: 250, maxMs: this.cfg.retryMaxMs, floor: 0.5 })
    const hint = reason === 'missing' ? ' (is systemd\'s journalctl installed? forwarder.journald.journalctl names it)' : ''
    this.log.error({ reason, attempt: this.attempt }, `journald source: ${detail}${hint}; restarting in ${Math.round(wait)} ms after the last entry read`)
    this.restartTimer = setTimeout(() => { this.restartTimer = null; this.spawn() }, wait)
    this.restartTimer.unref()
  }

  private onEntry (e: ExportEntry): void {
    const cursor = e.fields.get('__CURSOR')
    if (cursor === undefined || e.cut.has('__CURSOR')) throw new ExportFormatError('an entry without a usable __CURSOR')
    this.attempt = 0
    const c = cursor.toString('latin1')
    this.lastRead = c
    const st = this.stateFor(e.fields)
    const msg = e.fields.get('MESSAGE')
    let message: string
    let bytes: number
    if (msg === undefined) {
      message = ''
      bytes = 0
    } else {
      const max = this.cfg.maxLineBytes
      if (e.cut.has('MESSAGE') || msg.length > max) {
        message = utf8Head(msg, max)
        this.metrics.altered.inc({ reason: 'truncated' })
      } else if (isUtf8(msg)) {
        message = msg.toString('utf8')
      } else {
        message = msg.toString('utf8') // invalid bytes replaced (U+FFFD), as the file tailer does
        this.metrics.altered.inc({ reason: 'invalid_utf8' })
      }
      bytes = Buffer.byteLength(message)
    }
    const cut = { n: 0 }
    const attrs = lineAttributes(e.fields, this.j.maxAttributeBytes, cut)
    if (cut.n > 0 || IDENTITY_CUT.some((f) => e.cut.has(f))) this.metrics.altered.inc({ reason: 'journald_field_truncated' })
    const us = e.fields.get('__REALTIME_TIMESTAMP')?.toString('latin1') ?? ''
    let ts: string
    if (/^\d{1,17}$/.test(us)) ts = us === '0' ? '0' : us + '000'
    else { ts = String(BigInt(Date.now()) * 1_000_000n); this.metrics.altered.inc({ reason: 'bad_timestamp' }) }
    const offset = st.next++
    const entry: Entry = attrs === undefined ? [ts, offset, message, ''] : [ts, offset, message, '', attrs]
    this.pending.push({ st, end: offset + 1, cursor: c })
    this.metrics.linesRead.inc({ source: 'journald' })
    this.metrics.bytesRead.inc({ source: 'journald' }, bytes)
    this.shipper.add(st.handle, entry, bytes, offset + 1)
  }

  private stateFor (fields: ReadonlyMap<string, Buffer>): StreamState {
    let id = identityOf(fields, this.node)
    let st = this.streams.get(id.key)
    if (st !== undefined) return st
    if (this.streams.size >= this.j.maxStreams) {
      this.metrics.altered.inc({ reason: 'journald_too_many_streams' })
      id = { key: id.host + '\0' + STREAM_OVERFLOW, host: id.host, unit: STREAM_OVERFLOW }
      st = this.streams.get(id.key)
      if (st !== undefined) return st
    }
    const tags: StreamTags = streamTags(id, this.ctx)
    const next = this.committed.get(id.key) ?? 0
    const state: StreamState = { key: id.key, handle: null as unknown as StreamHandle, next, acked: next }
    state.handle = new StreamHandle(tags, (resume) => this.acked(state, resume))
    this.streams.set(id.key, state)
    return state
  }

  /** A stream's entries below `resume` are acknowledged: move the cursor over every entry whose stream has acknowledged it. */
  private acked (st: StreamState, resume: number): void {
    if (resume > st.acked) st.acked = resume
    const q = this.pending
    let cursor: string | null = null
    while (this.head < q.length) {
      const p = q[this.head]!
      if (p.end > p.st.acked) break
      this.committed.set(p.st.key, p.end)
      cursor = p.cursor
      this.head++
    }
    if (this.head > 4096 && this.head * 2 > q.length) { this.pending = q.slice(this.head); this.head = 0 }
    if (cursor !== null) this.checkpoint.set(cursor, this.committed)
  }

  /** Save the acknowledged cursor (on the forwarder's checkpoint timer and at stop). */
  flush (): void {
    this.checkpoint.flush()
  }

  async stop (): Promise<void> {
    this.stopping = true
    if (this.restartTimer !== null) clearTimeout(this.restartTimer)
    this.child?.kill('SIGTERM')
    await this.exited
  }
}

const IDENTITY_CUT = ['_SYSTEMD_UNIT', '_HOSTNAME']
