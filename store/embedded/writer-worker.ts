import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './schema.js'
import { BlockWriter } from './writer.js'

// better-sqlite3 is synchronous: the store's writes run here, off the event loop.

const { file, blockLines } = workerData as { file: string, blockLines: number }
const db = openDatabase(file)
const writer = new BlockWriter(db, blockLines)

parentPort!.on('message', (msg: { id: number, op: 'write' | 'drops' | 'close', batches?: never, rows?: never }) => {
  if (msg.op === 'close') {
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
    const result = writer.write(msg.batches ?? [])
    parentPort!.postMessage({ id: msg.id, ok: true, result })
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: (err as Error).message })
  }
})
parentPort!.postMessage({ id: 0, ok: true })
