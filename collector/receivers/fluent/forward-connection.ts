import type { Socket } from 'node:net'
import { DecodeError, encode } from '@msgpack/msgpack'
import type { Counter } from 'prom-client'
import { DaytwoError } from '../../../core/errors.js'
import type { Logger } from '../../../core/logger.js'
import type { InflateBudget } from '../../inflate.js'
import type { Intake } from '../../intake.js'
import type { CollectorMetrics } from '../../metrics.js'
import { FrameError, frameDecoder, readFrame } from './forward-frames.js'
import { answerPing, heloMessage, newNonce, type SharedKey } from './forward-handshake.js'
import { forwardBatches } from './forward-records.js'

// One forward connection, start to end: HELO, the client's PING checked against the shared
// keys (nothing else is read before it passed), then frames one at a time: decoded, stored
// through the intake, and only then acknowledged with {ack: chunk} when the sender asked.
// Frames are read with the msgpack streaming decoder from the socket's async iterator, so
// while a frame is being stored nothing more is read (TCP pushes back on the sender), and
// every refusal is counted with its reason and closes this connection only.

export interface ConnectionDeps {
  intake: Intake
  metrics: CollectorMetrics
  keys: SharedKey[]
  selfHostname: string
  maxChunkBytes: number
  idleTimeoutMs: number
  defaultDeployment: string
  inflateBudget: InflateBudget
  /** Record fields not kept and events dropped, by reason. */
  dropped: Counter<string>
  log: Logger
}

/** Bytes a client may send before its PING passed: a PING is a few hundred. */
const PRE_AUTH_BYTES = 64 * 1024

class TooLarge extends Error {}

export async function serveConnection (socket: Socket, deps: ConnectionDeps): Promise<void> {
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
  const nonce = newNonce()
  let sender: string | null = null
  let closed = false
  // Refuse: count why, and close this connection (a sender retries what was not acknowledged).
  const refuse = (reason: string, detail: string, last?: unknown) => {
    if (closed) return
    closed = true
    deps.metrics.reject(reason, 1, `fluent forward from ${peer}: ${detail}`)
    if (last === undefined) { socket.destroy(); return }
    // A last word the client should read (PONG false with the reason), then gone either way.
    socket.end(encode(last))
    setTimeout(() => socket.destroy(), 1000).unref()
  }
  // A connection must complete a frame within idleTimeoutMs (a bound on idle and on slow-loris
  // senders alike); the clock stops while a frame is being stored.
  let timer: NodeJS.Timeout | undefined
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => refuse('idle_timeout', `no complete frame for ${deps.idleTimeoutMs} ms`), deps.idleTimeoutMs) }
  socket.on('error', () => {}) // a reset by the peer: the iterator below ends, nothing to count
  socket.on('close', () => { closed = true; clearTimeout(timer) })

  // Bytes read since the last complete frame, bounded: the decoder would otherwise buffer a
  // frame of any size. Counted per read, so a frame may pass the limit by one read (64 KiB).
  let pending = 0
  const limit = () => sender === null ? PRE_AUTH_BYTES : deps.maxChunkBytes
  async function * bounded (): AsyncGenerator<Buffer> {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      pending += chunk.length
      if (pending > limit()) throw new TooLarge(`more than ${limit()} bytes in one frame`)
      yield chunk
    }
  }

  socket.write(encode(heloMessage(nonce)))
  arm()
  try {
    for await (const msg of frameDecoder(deps.maxChunkBytes).decodeStream(bounded())) {
      pending = 0
      clearTimeout(timer)
      if (sender === null) {
        const r = answerPing(msg, nonce, deps.keys, deps.selfHostname)
        if (!r.ok) { refuse('unauthorized', r.reason, r.pong); return }
        socket.write(encode(r.pong))
        sender = r.sender
        arm()
        continue
      }
      const frame = await readFrame(msg, deps)
      if (frame.badEvents > 0) deps.dropped.inc({ reason: 'malformed_event' }, frame.badEvents)
      if (frame.cutFields > 0) deps.dropped.inc({ reason: 'nested_too_deep' }, frame.cutFields)
      const { batches, droppedFields } = forwardBatches(frame, deps.defaultDeployment)
      if (droppedFields > 0) deps.dropped.inc({ reason: 'attributes_over_limit' }, droppedFields)
      if (batches.length > 0) {
        try {
          await deps.intake.accept(batches, sender)
        } catch (err) {
          // Counted by the intake (store_unavailable): close without an ack, the sender retries.
          if (!(err instanceof DaytwoError)) throw err
          closed = true
          socket.destroy()
          return
        }
      }
      if (closed) return
      if (frame.chunk !== undefined) socket.write(encode({ ack: frame.chunk }))
      arm()
    }
  } catch (err) {
    if (err instanceof TooLarge) refuse(sender === null ? 'unauthorized' : 'too_large', err.message)
    else if (err instanceof FrameError) refuse(err.reason, err.message)
    // A length over the decoder's bounds is refused from its header, before its bytes come.
    else if (err instanceof DecodeError && err.message.startsWith('Max length exceeded')) refuse('too_large', err.message)
    else if (err instanceof DecodeError || err instanceof RangeError) refuse('malformed_batch', `not msgpack: ${(err as Error).message}`)
    else if (!closed) { deps.log.warn({ err, peer }, 'fluent forward connection failed'); refuse('malformed_batch', (err as Error).message) }
    return
  } finally {
    clearTimeout(timer)
  }
  // The client closed; a frame cut short by it was never acknowledged, so it is sent again.
  socket.end()
}
