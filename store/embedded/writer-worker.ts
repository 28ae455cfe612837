import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import type { KeyWindow } from './record-keys.js'
import { openDatabase } from './schema.js'
import { BlockWriter, type RecordBatch, type RetentionOptions } from './writer.js'

// better-sqlite3 is synchronous: the store's writes, and retention, run here, off the event loop.

const { file, blockLines, retention, keyWindow } = workerData as { file: string, blockLines: number, retention: RetentionOptions | null, keyWindow?: KeyWindow }
const db = openDatabase(file)
const writer = new BlockWriter(db, blockLines, keyWindow)
const port = parentPort!

interface Message { id: number, op: 'write' | 'drops' | 'retention' | 'close', batches?: RecordBatch[], rows?: never, nowMs?: number }

let timer: NodeJS.Timeout | null = null
if (retention !== null && (retention.days > 0 || retention.maxBytes > 0)) {
  timer = setInterval(() => {
    try { writer.enforceRetention(retention, Date.now()) } catch { /* retried at the next tick; writes go on */ }
  }, retention.checkMs)
  timer.unref()
}

port.on('message', (first: Message) => {
  if (first.op !== 'write') { handle(first); return }
  // Group commit: the writes that queued up while the last transaction ran go in one
  // transaction together (one fsync), as databases batch their commits.
  const writes = [first]
  let after: Message | null = null
  for (;;) {
    const next = receiveMessageOnPort(port)
    if (next === undefined) break
    const m = next.message as Message
    if (m.op !== 'write') { after = m; break }
    writes.push(m)
  }
  write(writes)
  if (after !== null) handle(after)
})

function write (writes: Message[]): void {
  // A Buffer arrives as a plain Uint8Array.
  for (const w of writes) for (const b of w.batches!) b.frames = Buffer.from(b.frames.buffer, b.frames.byteOffset, b.frames.byteLength)
  try {
    const results = writer.writeMany(writes.map((w) => w.batches!))
    for (let i = 0; i < writes.length; i++) port.postMessage({ id: writes[i]!.id, ok: true, result: results[i] })
  } catch (err) {
    if (writes.length === 1) { port.postMessage({ id: writes[0]!.id, ok: false, error: (err as Error).message }); return }
    // One bad write must not fail the others: each on its own.
    for (const w of writes) {
      try {
        port.postMessage({ id: w.id, ok: true, result: writer.write(w.batches!) })
      } catch (e) {
        port.postMessage({ id: w.id, ok: false, error: (e as Error).message })
      }
    }
  }
}

function handle (msg: Message): void {
  if (msg.op === 'close') {
    if (timer) clearInterval(timer)
    db.close()
    port.postMessage({ id: msg.id, ok: true })
    return
  }
  try {
    if (msg.op === 'drops') {
      writer.recordDrops(msg.rows ?? [])
      port.postMessage({ id: msg.id, ok: true })
      return
    }
    if (msg.op === 'retention') {
      const result = writer.enforceRetention(retention ?? { days: 0, maxBytes: 0, checkMs: 0 }, msg.nowMs ?? Date.now())
      port.postMessage({ id: msg.id, ok: true, result })
      return
    }
    port.postMessage({ id: msg.id, ok: false, error: `unknown operation ${String(msg.op)}` })
  } catch (err) {
    port.postMessage({ id: msg.id, ok: false, error: (err as Error).message })
  }
}
port.postMessage({ id: 0, ok: true })
