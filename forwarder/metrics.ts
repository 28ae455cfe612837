import type { Registry } from 'prom-client'
import { Gauge } from 'prom-client'
import { counter, createDropCounter, type DropFn } from '../core/metrics.js'
import type { Logger } from '../core/logger.js'

export const FORWARDER_DROP_REASONS = ['unparsed_envelope', 'rejected_by_collector', 'spool_full', 'spool_write_failed', 'spool_corrupt', 'spool_checksum', 'syslog_empty', 'syslog_truncated_frame', 'syslog_octet_count_mismatch', 'too_large_for_collector']

/**
 * Why a file's identity was unsure: truncated_while_down (shorter than its checkpoint at
 * start), resume_mismatch (other bytes where its checkpoint stopped), unverified_resume (a
 * checkpoint from a version without anchors), copy_unmatched (a rotated file whose bytes
 * continue no known stream), copy_unverified (a copy too short to check, not read).
 */
export const IDENTITY_UNSURE_REASONS = ['truncated_while_down', 'resume_mismatch', 'unverified_resume', 'copy_unmatched', 'copy_unverified']

export interface ForwarderMetrics {
  linesRead: ReturnType<typeof counter>
  bytesRead: ReturnType<typeof counter>
  linesShipped: ReturnType<typeof counter>
  bytesShipped: ReturnType<typeof counter>
  batches: ReturnType<typeof counter>
  altered: ReturnType<typeof counter>
  truncations: ReturnType<typeof counter>
  rotations: ReturnType<typeof counter>
  identityUnsure: ReturnType<typeof counter>
  partialsFlushed: ReturnType<typeof counter>
  openFiles: Gauge
  queuedBatches: Gauge
  queuedBytes: Gauge
  drop: DropFn
}

export function forwarderMetrics (registry: Registry, log: Logger, maxQueuedBatches: number): ForwarderMetrics {
  const p = 'daytwo_forwarder'
  const m: ForwarderMetrics = {
    linesRead: counter(registry, `${p}_lines_read_total`, 'Log lines read from sources.', ['source']),
    bytesRead: counter(registry, `${p}_bytes_read_total`, 'Bytes read from sources (file bytes, syslog frames).', ['source']),
    linesShipped: counter(registry, `${p}_lines_shipped_total`, 'Lines the collector acknowledged.'),
    bytesShipped: counter(registry, `${p}_bytes_shipped_total`, 'Message bytes the collector acknowledged.'),
    batches: counter(registry, `${p}_batches_total`, 'Batch send attempts, by result (ok, retry, rejected, split).', ['result']),
    altered: counter(registry, `${p}_lines_altered_total`, 'Lines kept but changed, by reason (invalid_utf8 replaced, truncated, split in pieces, bad_timestamp replaced by the read time; a plain line\'s leading time unparsed_timestamp or far_timestamp from the read time, which it then gets).', ['reason']),
    truncations: counter(registry, `${p}_file_truncations_total`, 'Files found truncated (copytruncate) and read again from their start.'),
    rotations: counter(registry, `${p}_file_rotations_total`, 'Files renamed or deleted away from their live name while being read.'),
    identityUnsure: counter(registry, `${p}_file_identity_unsure_total`, 'Files whose bytes the forwarder could not tie to a stream for sure, by reason (see docs/forwarder.md, "Rotation"): their lines may be shipped twice, or were lost before they were read.', ['reason']),
    partialsFlushed: counter(registry, `${p}_partial_lines_flushed_total`, 'Partial lines (CRI P, Docker log without a newline) shipped alone because no line finished them within forwarder.partialFlushMs, or the file ended.', ['format']),
    openFiles: new Gauge({ name: `${p}_open_files`, help: 'Files being tailed.', registers: [registry] }),
    queuedBatches: new Gauge({ name: `${p}_queued_batches`, help: 'Sealed batches waiting for the collector.', registers: [registry] }),
    queuedBytes: new Gauge({ name: `${p}_queued_bytes`, help: 'Message bytes in batches not yet acknowledged.', registers: [registry] }),
    drop: createDropCounter(registry, p, FORWARDER_DROP_REASONS, log)
  }
  // The bound beside the queue: at it, reading stops until the collector acknowledges (alerts compare the two).
  new Gauge({ name: `${p}_max_queued_batches`, help: 'Sealed batches the forwarder queues before it stops reading (forwarder.maxQueuedBatches).', registers: [registry] }).set(maxQueuedBatches)
  for (const r of ['ok', 'retry', 'rejected', 'split']) m.batches.inc({ result: r }, 0)
  for (const r of ['invalid_utf8', 'truncated', 'split', 'bad_timestamp', 'unparsed_timestamp', 'far_timestamp']) m.altered.inc({ reason: r }, 0)
  for (const r of IDENTITY_UNSURE_REASONS) m.identityUnsure.inc({ reason: r }, 0)
  return m
}
