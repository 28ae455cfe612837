import { setMaxListeners } from 'node:events'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { DaytwoError } from '../../core/errors.js'
import type { ScanReply, ScanTask } from './scan-worker.js'

// Scan workers, one per core: each task (a run of blocks) goes to the first idle worker. A
// task whose query is aborted (client gone, deadline passed) is dropped if it waits, and its
// worker is terminated if it runs: nothing a query does can outlive its answer, and a stuck
// scan never holds the process. A terminated worker is replaced at once, and gets tasks only
// once it says it is ready (its database open): a replacement still starting is never handed
// a task that could time out there and have it terminated in turn — on a loaded machine that
// would be a loop of workers killed before they could answer anything.

interface Job {
  task: Omit<ScanTask, 'id'>
  signal: AbortSignal | undefined
  resolve: (r: ScanReply) => void
  reject: (e: Error) => void
  onAbort?: () => void
  drop?: AbortSignal
  onDrop?: () => void
}

interface Slot { worker: Worker, job: Job | null, id: number, ready: boolean }

export interface PoolStats {
  /** Workers terminated because their query was aborted. */
  terminated: number
  tasks: number
}

/** What a worker posts once it can take tasks (scan-worker.ts). */
export const READY = { ready: true } as const

export class ScanPool {
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private seq = 0
  private closed = false
  readonly stats: PoolStats = { terminated: 0, tasks: 0 }

  constructor (private readonly file: string, size = Math.max(1, Math.min(availableParallelism(), 8))) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  get size (): number { return this.slots.length }

  private spawn (): Slot {
    const worker = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: { file: this.file } })
    worker.unref()
    const slot: Slot = { worker, job: null, id: 0, ready: false }
    worker.on('message', (r: ScanReply | typeof READY) => {
      if ('ready' in r) { slot.ready = true; this.pump(); return }
      const job = slot.job
      if (job === null || r.id !== slot.id) return
      this.finish(slot, job)
      if (r.ok) job.resolve(r)
      else job.reject(new DaytwoError('STORE_UNAVAILABLE', `a block scan failed: ${r.error ?? 'unknown error'}`))
    })
    worker.on('error', (err) => {
      const job = slot.job
      this.replace(slot)
      if (job !== null) { this.finish(slot, job); job.reject(new DaytwoError('STORE_UNAVAILABLE', `a scan worker failed: ${err.message}`)) }
    })
    return slot
  }

  /**
   * Run a task on the next idle worker. `signal` aborts it wherever it is (a running task's
   * worker is terminated); `drop` only withdraws it while it waits (a reader that has what it
   * needs lets running tasks finish, which are bounded, rather than restart workers).
   */
  run (task: Omit<ScanTask, 'id'>, signal?: AbortSignal, drop?: AbortSignal): Promise<ScanReply> {
    if (this.closed) return Promise.reject(new DaytwoError('STORE_UNAVAILABLE', 'the store is closed'))
    if (signal?.aborted === true) return Promise.reject(abortError(signal))
    return new Promise<ScanReply>((resolve, reject) => {
      const job: Job = { task, signal, resolve, reject }
      // One listener per task of a query, each removed when its task ends: a metric query
      // queues all its tasks at once, which is more than the 10 Node warns about.
      if (signal !== undefined) {
        job.onAbort = () => this.abort(job)
        setMaxListeners(0, signal)
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      if (drop !== undefined) {
        job.drop = drop
        job.onDrop = () => {
          const i = this.queue.indexOf(job)
          if (i < 0) return
          this.queue.splice(i, 1)
          this.unlisten(job)
          reject(abortError(drop))
        }
        setMaxListeners(0, drop)
        drop.addEventListener('abort', job.onDrop, { once: true })
      }
      this.queue.push(job)
      this.pump()
    })
  }

  private pump (): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (slot.job !== null || !slot.ready) continue
      const job = this.queue.shift()!
      slot.job = job
      slot.id = ++this.seq
      this.stats.tasks++
      slot.worker.postMessage({ ...job.task, id: slot.id })
    }
  }

  private unlisten (job: Job): void {
    if (job.onAbort !== undefined) job.signal!.removeEventListener('abort', job.onAbort)
    if (job.onDrop !== undefined) job.drop!.removeEventListener('abort', job.onDrop)
  }

  private finish (slot: Slot, job: Job): void {
    this.unlisten(job)
    if (slot.job === job) slot.job = null
    queueMicrotask(() => this.pump())
  }

  private abort (job: Job): void {
    const waiting = this.queue.indexOf(job)
    if (waiting >= 0) {
      this.queue.splice(waiting, 1)
    } else {
      const slot = this.slots.find((s) => s.job === job)
      if (slot === undefined) return
      slot.job = null
      this.stats.terminated++
      this.replace(slot)
    }
    this.unlisten(job)
    job.reject(abortError(job.signal!))
    queueMicrotask(() => this.pump())
  }

  /** Terminate a slot's worker (whatever it is doing) and put a fresh one in its place. */
  private replace (slot: Slot): void {
    const old = slot.worker
    old.removeAllListeners('message')
    old.on('error', () => {})
    void old.terminate()
    if (this.closed) return
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots[i] = this.spawn()
  }

  async close (): Promise<void> {
    this.closed = true
    for (const j of this.queue.splice(0)) j.reject(new DaytwoError('STORE_UNAVAILABLE', 'the store is closed'))
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}

export function abortError (signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new DaytwoError('QUERY_CANCELLED', 'aborted')
}
