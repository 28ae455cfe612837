import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs'
import type { Attributes, StreamTags } from '../../core/record.js'
import { scanSegment, type LossReason } from './spool-codec.js'
import { SpoolLedger } from './spool-ledger.js'
import { SpoolReader, type TakeMessage } from './spool-reader.js'
import { SpoolWriter, openActive } from './spool-writer.js'

export type { TakeMessage } from './spool-reader.js'
export { SPOOL_VERSION } from './spool-ledger.js'

// A bounded on-disk queue for sources that have no buffer of their own (syslog), in the
// manner of Vector's disk buffer (disk_v2): messages are appended to segment files named
// after the sequence number of their first message, fsynced on a timer, read back in order,
// and a segment is deleted once every message in it was acknowledged. Four parts:
//   spool-ledger.ts  which segments exist and their bytes, next sequence number, acknowledged
//                    mark and epoch (the mark and epoch saved in spool.json); deletes segments
//   spool-writer.ts  appends into a write buffer, writes and rolls segments, fsync policy
//   spool-reader.ts  replays durable messages from the ledger's oldest segment, skips and
//                    counts the ones that cannot be read
//   spool-codec.ts   the record format (a CRC32C per chunk: what one flush writes), the one
//                    encoder and decoder
// This class opens the spool (recovery) and puts the parts together behind one interface.
//
// Sequence numbers are global to the spool, so they increase within every stream; they
// survive restarts because the last segment's name plus its last message's index give the
// next one, and the last segment is never deleted (only rolled), even when all of it was
// acknowledged. A restart resends only what may not have been stored — with the same
// sequence numbers, hence the same record ids.

export interface SpoolOptions {
  maxBytes: number
  segmentBytes: number
  fsyncIntervalMs: number
}

export class DiskSpool {
  private readonly ledger: SpoolLedger
  private readonly writer: SpoolWriter
  private readonly reader: SpoolReader
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor (readonly dir: string, opts: SpoolOptions) {
    const l = this.ledger = new SpoolLedger(dir)
    let streams: Array<StreamTags | undefined> = []
    if (l.segments.length === 0) {
      l.nextSeq = l.acked
      l.addSegment()
    } else {
      const last = l.active
      const scan = scanSegment(readFileSync(last.path))
      // A segment of an older version (1: no checksum; 2: a checksum per record): new chunks
      // go to a new segment, so no segment mixes versions (see RecordDecoder.version). One
      // with streams only (no message) is emptied and written anew.
      if ((scan.version === 1 || scan.version === 2) && scan.nextIndex === 0) { scan.validBytes = 0; scan.streams = []; scan.version = 0 }
      if (scan.validBytes < last.size) {
        // A record cut short by a crash: keep what is whole.
        const fd = openSync(last.path, 'r+')
        try { ftruncateSync(fd, scan.validBytes); fsyncSync(fd) } finally { closeSync(fd) }
        l.bytes -= last.size - scan.validBytes
        last.size = scan.validBytes
        last.durable = scan.validBytes
      }
      l.nextSeq = last.firstSeq + scan.nextIndex
      if (scan.version === 1 || scan.version === 2) {
        l.addSegment()
      } else {
        openActive(last)
        streams = scan.streams
      }
    }
    // Acked past the end (the state outlived its segments): nothing is pending. Acked below
    // the first segment (deleted after an ack whose mark a crash kept from being saved): those
    // messages are gone because they were acknowledged.
    if (l.acked > l.nextSeq) l.acked = l.nextSeq
    if (l.acked < l.segments[0]!.firstSeq) l.acked = l.segments[0]!.firstSeq
    this.writer = new SpoolWriter(l, opts, streams)
    this.reader = new SpoolReader(l)
    l.deleteAcked()
    l.save(true)
    this.timer = setInterval(() => this.sync(), opts.fsyncIntervalMs)
    this.timer.unref()
  }

  get epoch (): string { return this.ledger.epoch }
  /** Messages spooled and not yet acknowledged. */
  get pending (): number { return this.ledger.nextSeq - this.ledger.acked }
  /** Bytes of the segment files, with those whose unlink failed and waits for a retry. */
  get bytes (): number { return this.ledger.bytes }
  get segmentCount (): number { return this.ledger.segments.length }
  get nextSeq (): number { return this.ledger.nextSeq }
  get ackedBelow (): number { return this.ledger.acked }
  /** Unlinks of acknowledged segments that failed (each is tried again on the next sync). */
  get unlinkFailures (): number { return this.ledger.unlinkFailures }
  /** Why the last write failed (ENOSPC: the disk is full), until a write succeeds again. */
  get writeError (): string | null { return this.writer.writeError }

  /** Called when writing starts failing (with the error) and when it works again (null). */
  set onWriteError (fn: (message: string | null) => void) { this.writer.onWriteError = fn }
  /** Called after an fsync made more messages readable. */
  set onDurable (fn: () => void) { this.writer.onDurable = fn }
  /** Called with messages lost from the spool (a chunk or record failed its checksum: 'checksum'; a version-1 segment that is no records: 'corrupt'). */
  set onDropped (fn: (reason: LossReason, count: number, detail: string) => void) { this.reader.onDropped = fn }
  /** Called when an acknowledged segment cannot be unlinked (it is tried again on the next sync). */
  set onUnlinkError (fn: (path: string, message: string) => void) { this.ledger.onUnlinkError = fn }

  /** Append one message; returns its sequence number, or null when the spool is full. */
  append (tags: StreamTags, tsNs: string, message: string, attrs?: Attributes): number | null {
    return this.writer.append(tags, tsNs, message, attrs)
  }

  /** Append the message `src[start, end)` (valid UTF-8); like `append`, without a string. */
  appendBytes (tags: StreamTags, tsNs: string, src: Buffer, start: number, end: number, attrs?: Attributes): number | null {
    return this.writer.appendBytes(tags, tsNs, src, start, end, attrs)
  }

  /** Write what was appended; false when the write failed (see SpoolWriter.flush). */
  flush (): boolean { return this.writer.flush() }

  /**
   * Hand out durable messages not yet read, in order, while `take` returns true. A message
   * `take` refuses is offered again at the next call.
   */
  read (take: TakeMessage): void {
    if (!this.closed) this.reader.read(take)
  }

  /** Every message with a sequence number below `seq` is acknowledged. */
  ack (seq: number): void { this.ledger.ack(seq) }

  /** fsync what was written, save the acknowledged mark (at most once a second), retry failed unlinks. Runs on the timer. */
  sync (): void {
    this.writer.sync()
    // The acknowledged mark is an optimisation (fewer messages resent after a restart): a
    // disk too full to save it must not stop the spool; the next sync tries again.
    try { this.ledger.save() } catch { /* see above: retried on the next sync */ }
    this.ledger.deleteAcked() // retries failed unlinks, and deletions a failed save held back

  }

  /** fsync now when the reader caught up and much waits (SpoolWriter.syncNow). */
  syncNow (): void {
    if (!this.closed) this.writer.syncNow()
  }

  /** fsync, save the acknowledged mark, release the files. */
  close (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.reader.closeFd()
    this.writer.close()
    this.closed = true
    // As in sync(): the mark only saves resending; a failure here costs duplicates, not lines.
    try { this.ledger.save(true) } catch { /* see above */ }
  }
}
