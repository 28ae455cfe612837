import { openSync, writeSync } from 'node:fs'
import type { StreamTags } from '../../../core/record.js'
import { DiskSpool } from '../../../forwarder/spool/disk-spool.js'

// A child process for disk-spool.test.ts: appends bursts of messages to a spool, one burst per
// event-loop callback as the syslog listeners do, and after each burst — from another callback,
// as a /metrics scrape would — writes how many messages the spool says it holds to a report
// file. In burst `killAt` it SIGKILLs itself halfway through.
//   node spool-writer.js <spool dir> <report file> <killAt> <segmentBytes>

const [dir, reportFile, killAt, segmentBytes] = process.argv.slice(2) as [string, string, string, string]
const tags: StreamTags = { id: 'writer', source: 'syslog', node: 'n', deployment: 'syslog', job: 'writer', index: 'h', process: '', path: 'tcp://127.0.0.1:1' }
const spool = new DiskSpool(dir, { maxBytes: 1 << 30, segmentBytes: Number(segmentBytes), fsyncIntervalMs: 5 })
const report = openSync(reportFile, 'w')
let i = spool.nextSeq
let burst = 0

function next (): void {
  const n = 20 + (burst * 37) % 300
  for (let k = 0; k < n; k++) {
    if (burst === Number(killAt) && k === n >> 1) process.kill(process.pid, 'SIGKILL')
    spool.append(tags, String(1_000_000 + i), `message ${i} ${'x'.repeat(i % 97)}`, i % 3 === 0 ? { severity: 'info' } : undefined)
    i++
  }
  burst++
  setImmediate(() => {
    writeSync(report, `${spool.nextSeq} ${spool.pending}\n`)
    if (burst % 4 === 0) spool.syncNow()
    next()
  })
}
next()
