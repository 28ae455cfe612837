import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './schema.js'
import { BlockWriter, type RetentionOptions } from './writer.js'

// better-sqlite3 is synchronous: the store's writes, and retention, run here, off the event loop.

const { file, blockLines, retention } = workerData as { file: string, blockLines: number, retention: RetentionOptions | null }
const db = openDatabase(file)
const writer = new BlockWriter(db, blockLines)

type Message = { id: number, op: 'write' | 'drops' | 'retention' | 'close', batches?: never, rows?: never, nowMs?: number }

let timer: NodeJS.Timeout | null = null
if (retention !== null && (retention.days > 0 || retention.maxBytes > 0)) {
  timer = setInterval(() => {
    try { writer.enforceRetention(retention, Date.now()) } catch { /* retried at the next tick; writes go on */ }
  }, retention.checkMs)
  timer.unref()
}

parentPort!.on('message', (msg: Message) => {
  if (msg.op === 'close') {
    if (timer) clearInterval(timer)
    db.close()
    parentPort!.postMessage({ id: msg.id, ok: true })
    return
  }
  try {
    if (msg.op === 'drops') {
      writer.recordDrops(msg.rows ?? [])
      parentPort!.postMessage({ id: msg.id, ok: true })
      return
    }
    if (msg.op === 'retention') {
      const result = writer.enforceRetention(retention ?? { days: 0, maxBytes: 0, checkMs: 0 }, msg.nowMs ?? Date.now())
      parentPort!.postMessage({ id: msg.id, ok: true, result })
      return
    }
    const result = writer.write(msg.batches ?? [])
    parentPort!.postMessage({ id: msg.id, ok: true, result })
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: (err as Error).message })
  }
})
parentPort!.postMessage({ id: 0, ok: true })
