import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { waitFor } from '../helpers/daytwo-process.js'
import { multisetDiff, sleep, storedMessages } from '../helpers/faults.js'
import { OPERATOR, TOKEN, collector, count, killTwice } from './receiver-crash-setup.js'

// Issue 17: kill -9 of `serve collector,query` twice while the OpenTelemetry JS SDK exports
// logs over OTLP/HTTP protobuf (collector/receivers/otlp/). A request is in flight at each
// kill, so some were stored and not answered: their retries must be recognised by the record
// keys (store/embedded/record-keys.ts). Afterwards every line is stored exactly once.
//
// Who retries: the exporter (@opentelemetry/otlp-exporter-base retrying-transport.js) retries
// a refused or reset connection and a 429/502/503/504 itself, but at most 5 times, ~1 s apart
// growing by 1.5×, and only within its timeoutMillis (10 s); after that the export fails, and
// the SDK's BatchLogRecordProcessor drops a batch whose export failed. A restart on a loaded
// machine can outlast that, so the export is wrapped as an operator's OpenTelemetry Collector
// would (its exporters' retry_on_failure): what the exporter's result callback says failed is
// exported again until it succeeds.

const NOW_MS = Date.now()
const SUCCESS = 0 // ExportResultCode.SUCCESS of @opentelemetry/core, which the exporter's callback reports

/** Exports through `inner`, again after a pause each time its callback says the export failed. */
class RetryFailedExports implements LogRecordExporter {
  retried = 0
  constructor (private readonly inner: LogRecordExporter, private readonly attempts = 60) {}
  export (records: ReadableLogRecord[], done: Parameters<LogRecordExporter['export']>[1]): void {
    const attempt = (left: number) => this.inner.export(records, (result) => {
      if (result.code === SUCCESS || left <= 1) { done(result); return }
      this.retried++
      setTimeout(() => attempt(left - 1), 250)
    })
    attempt(this.attempts)
  }

  async forceFlush (): Promise<void> { await this.inner.forceFlush?.() }
  async shutdown (): Promise<void> { await this.inner.shutdown() }
}

test('kill -9 of the collector during OTLP/HTTP exports of the OpenTelemetry SDK: every line stored once', { timeout: 180_000 }, async (t) => {
  const c = await collector(t)
  const SENDERS = 6
  const LINES = 4000
  const want: string[] = []
  let done = 0
  const exporters: RetryFailedExports[] = []
  const sender = async (k: number) => {
    const exporter = new RetryFailedExports(new OTLPLogExporter({ url: `${c.url}/v1/logs`, headers: { authorization: `Bearer ${TOKEN}` }, compression: 'gzip' as never }))
    exporters.push(exporter)
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'k8s.namespace.name': 'crash-otlp', 'k8s.deployment.name': 'exporter', 'k8s.pod.name': `o-${k}` }),
      // A queue that holds every line, so that none is dropped while the collector is down,
      // and an export timeout longer than the wrapper's retries. The lines are emitted at
      // once: each processor has a full batch to export as soon as the last was answered, so
      // requests are in flight at every moment, killed ones among them.
      processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 500, maxQueueSize: LINES, scheduledDelayMillis: 20, exportTimeoutMillis: 120_000 })]
    })
    const logger = provider.getLogger('crash-scope')
    for (let i = 0; i < LINES; i++) {
      // Lines share milliseconds.
      const body = `otlp s${k} i${i} ${'x'.repeat(i % 40)}`
      want.push(body)
      logger.emit({ timestamp: NOW_MS - 60_000 + i / 4, body })
    }
    await provider.forceFlush()
    await provider.shutdown()
    done++
  }
  const senders = Promise.all(Array.from({ length: SENDERS }, (_, k) => sender(k)))
  const stored = count(c, 'crash-otlp')
  const at = await killTwice(c, stored, [4_000, 13_000], () => done < SENDERS)
  await senders
  t.diagnostic(`stored when killed: ${at.join(', ')} of ${SENDERS * LINES}; exports retried by the wrapper: ${exporters.map((e) => e.retried).join(', ')}`)
  assert.ok(await waitFor(async () => await stored() >= SENDERS * LINES, 60_000, 100))
  await sleep(300)
  assert.equal(multisetDiff(await storedMessages(c.query, OPERATOR, 'crash-otlp'), want), '', 'every line stored exactly once')
})
