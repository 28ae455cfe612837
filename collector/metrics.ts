import type { Registry } from 'prom-client'
import { counter, createDropCounter, type DropFn } from '../core/metrics.js'
import type { Logger } from '../core/logger.js'
import { OFFSET_OUT_OF_RANGE, TIME_OUT_OF_RANGE } from './identity/entry-bounds.js'

export const REJECT_REASONS = ['unauthorized', 'tenant_not_allowed', 'bad_org_id', 'malformed_batch', 'too_large', 'bad_encoding', 'bad_content_type', 'store_unavailable', 'tls_refused', 'inflate_busy']

export interface CollectorMetrics {
  batches: ReturnType<typeof counter>
  recordsReceived: ReturnType<typeof counter>
  bytesReceived: ReturnType<typeof counter>
  recordsStored: ReturnType<typeof counter>
  bytesStored: ReturnType<typeof counter>
  duplicates: ReturnType<typeof counter>
  reject: DropFn
  drop: DropFn
}

export function collectorMetrics (registry: Registry, log: Logger): CollectorMetrics {
  const p = 'daytwo_collector'
  const rejected = createDropCounter(registry, p, REJECT_REASONS, log, { name: `${p}_rejected_requests_total`, help: 'Ingest requests refused, by reason.' })
  return {
    batches: counter(registry, `${p}_batches_total`, 'Ingest requests answered, by HTTP status code.', ['code']),
    recordsReceived: counter(registry, `${p}_records_received_total`, 'Records in accepted batches.'),
    bytesReceived: counter(registry, `${p}_bytes_received_total`, 'Message bytes in accepted batches.'),
    recordsStored: counter(registry, `${p}_records_stored_total`, 'Records the store newly committed.'),
    bytesStored: counter(registry, `${p}_bytes_stored_total`, 'Message bytes the store newly committed.'),
    duplicates: counter(registry, `${p}_duplicates_total`, 'Records received again (retries) and not stored twice.'),
    reject: rejected,
    drop: createDropCounter(registry, p, ['rate_limited', 'too_old', OFFSET_OUT_OF_RANGE, TIME_OUT_OF_RANGE], log)
  }
}
