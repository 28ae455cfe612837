import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { Decoder, encode } from '@msgpack/msgpack'
import fluentLogger from 'fluent-logger'
import type { StreamTags } from '../../../core/record.js'
import { decodeGroup } from '../../../core/wire.js'
import { freePort, startDaytwo, tempDir, type DaytwoProcess } from '../../helpers/daytwo-process.js'

// For the Fluent forward receiver's tests: a daytwo with the receiver on, the real client
// (fluent-logger from npm) promisified, and a raw msgpack connection for what that client
// cannot send (Forward mode, concatenated gzip members, hostile input).

// The package's types declare EventTime as an instance; it is the class.
const EventTime = fluentLogger.EventTime as unknown as typeof fluentLogger.InnerEventTime

export const FLUENT_KEY = 'fluent-shared-key'
export const OPERATOR = 'fluent-operator'

export interface FluentDaytwo {
  d: DaytwoProcess
  port: number
  dir: string
}

type T = { after: (fn: () => unknown) => void }

export async function startFluentDaytwo (t: T, fluent: Record<string, unknown> = {}, roles = 'all', port?: number, dir?: string): Promise<FluentDaytwo> {
  const tmp = dir === undefined ? tempDir('daytwo-fluent-') : undefined
  const base = dir ?? tmp!.path
  const fport = port ?? await freePort()
  const d = await startDaytwo(roles, {
    dataDir: join(base, 'data'),
    logLevel: 'error',
    ...(roles === 'all' ? { forwarder: { podLogRoot: '', containerLogRoot: '', boshLogRoot: '', port: 0 } } : {}),
    collector: { port: 0, tokens: ['fluent-unused-token'], maxFutureSkewMs: 600_000, fluent: { port: fport, sharedKeys: [FLUENT_KEY], ...fluent } },
    query: { port: 0, tokens: [OPERATOR] }
  }, base)
  t.after(async () => { await d.kill(); tmp?.cleanup() })
  return { d, port: fport, dir: base }
}

export interface StoredLine { ts: string, message: string, stdio: string, stream: StreamTags, attrs?: Record<string, string> }

/** Every stored line of a deployment, via GET /api/v1/logs (core/wire.ts groups). */
export async function stored (d: DaytwoProcess, deployment: string): Promise<StoredLine[]> {
  const res = await fetch(`${d.urls.query}/api/v1/logs?deployment=${encodeURIComponent(deployment)}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  if (res.status === 404) return []
  const text = await res.text()
  if (res.status !== 200) throw new Error(`logs: ${res.status} ${text}`)
  const out: StoredLine[] = []
  for (const l of text.split('\n')) {
    if (!l) continue
    const g = decodeGroup(l)
    for (const e of g.entries) out.push({ ts: e[0], message: e[2], stdio: e[3], stream: g.stream, ...(e[4] ? { attrs: e[4] } : {}) })
  }
  return out
}

export interface Sender {
  /** Resolves once acknowledged (requireAckResponse), rejects with the client's error. */
  emit: (label: string, record: Record<string, unknown>, time?: fluentLogger.InnerEventTime) => Promise<void>
  errors: Error[]
  end: () => void
}

export const quietLogger = { info: () => {}, error: () => {} }

export function sender (port: number, opts: Record<string, unknown> = {}): Sender {
  const s = fluentLogger.createFluentSender('', {
    host: '127.0.0.1', port, requireAckResponse: true, ackResponseTimeout: 5000, reconnectInterval: 200, timeout: 3.0,
    security: { clientHostname: 'test-client', sharedKey: FLUENT_KEY }, internalLogger: quietLogger, ...opts
  } as fluentLogger.Options) as unknown as {
    emit: (label: string, data: unknown, ts: unknown, cb: (err?: Error) => void) => void
    on: (ev: string, fn: (err: Error) => void) => void
    removeAllListeners: (ev: string) => void
    end: () => void
  }
  const errors: Error[] = []
  s.on('error', (err) => errors.push(err))
  return {
    emit: (label, record, time) => new Promise<void>((resolve, reject) => s.emit(label, record, time ?? EventTime.now(), (err) => err ? reject(err) : resolve())),
    errors,
    // Without its error listener the client stops reconnecting (its reconnect loop lives in
    // that listener), so no timer outlives the test.
    end: () => { s.removeAllListeners('error'); s.end() }
  }
}

export const eventTime = (ns: bigint) => new EventTime(Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n))

/** A forward connection driven by hand: handshake, frames, the server's answers. */
export class RawForward {
  readonly socket: Socket
  readonly #answers: unknown[] = []
  #wake: (() => void) | null = null
  closed = false

  private constructor (socket: Socket) {
    this.socket = socket
    const decoder = new Decoder()
    const frames = decoder.decodeStream((async function * () { for await (const c of socket) yield c as Buffer })())
    void (async () => {
      try { for await (const m of frames) { this.#answers.push(m); this.#wake?.() } } catch { /* reset */ }
      this.closed = true
      this.#wake?.()
    })()
  }

  static async open (port: number): Promise<RawForward> {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    return new RawForward(socket)
  }

  /** The next answer, or null once the server closed. */
  async next (): Promise<unknown> {
    while (this.#answers.length === 0 && !this.closed) await new Promise<void>((resolve) => { this.#wake = resolve })
    return this.#answers.shift() ?? null
  }

  /** Read HELO (unless already read), send a PING with `key`, return the PONG. */
  async handshake (key = FLUENT_KEY, heloRead?: unknown): Promise<unknown> {
    const helo = (heloRead ?? await this.next()) as [string, { nonce: Uint8Array }]
    const salt = 'raw-salt'
    const hex = createHash('sha512').update(salt).update('raw-client').update(helo[1].nonce).update(key).digest('hex')
    this.send(['PING', 'raw-client', salt, hex, '', ''])
    return await this.next()
  }

  send (msg: unknown): void { this.socket.write(encode(msg)) }
  write (bytes: Buffer): void { this.socket.write(bytes) }
  async untilClosed (): Promise<void> { while (!this.closed) await this.next() }
  close (): void { this.socket.destroy() }
}
