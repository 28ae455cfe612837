import { readFileSync } from 'node:fs'
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Readable } from 'node:stream'
import { backoffMs, sleep, type BackoffOptions } from './backoff.js'
import { DaytwoError } from './errors.js'

// Every request daytwo sends — the forwarder's batches and reports, the Kubernetes and Cloud
// Foundry GETs, the CLI — goes through this one client: kept-alive agents per client, TLS
// verified unless an operator's explicit key says otherwise, an overall deadline, a caller's
// AbortSignal, a limit on the answer's size, and a retry that composes with core/backoff.ts
// and the server's Retry-After.
//
// The transport is Node's own http/https, not undici (which this client used before, and
// which the Elasticsearch client still brings): measured on the forwarder, undici cost
// ~16 MB of RSS to load and held ~30 MB more at peak while posting 1 MB batches (300 POSTs:
// peak 118–130 MB against node:http's 84 MB, and 91 against 53 with a GC after each), which
// put the forwarder past its 100 MB budget; docs/runtime.md has the figures.

export interface TlsOptions {
  /** PEM CA bundle to verify the server with (read once, here); empty: Node's CAs, NODE_EXTRA_CA_CERTS included. */
  caFile?: string
  /** The bundle itself, when the caller already read it. */
  ca?: string | Buffer
  /** Accept any certificate: only from an operator's explicit key (forwarder.kubernetes.kubeletInsecureSkipVerify). */
  insecureSkipVerify?: boolean
  /** A client certificate (PEM) and its key, presented to a server that asks for one (mTLS); both or neither. */
  certFile?: string
  keyFile?: string
}

export interface HttpClientOptions {
  tls?: TlsOptions
  /** Connections kept per origin (the shipper sends one batch at a time: 1). */
  connections?: number
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: Uint8Array | string
  /** The whole exchange (connect, send, the answer's last byte) finishes within this or fails as `timeout`. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Largest answer body: a longer one fails as `too_large`, or with `cut` keeps its head. */
  maxBodyBytes?: number
  cut?: boolean
}

export type Headers = Record<string, string | string[] | undefined>

/** An answer: 4xx and 5xx are answers, not errors. */
export interface Answer { status: number, headers: Headers, body: Buffer }

/** An answer whose body is still to be read, as a stream (a bundle download, a follow). */
export interface StreamAnswer { status: number, headers: Headers, body: Readable }

export type HttpFailure = 'timeout' | 'aborted' | 'unreachable' | 'tls' | 'too_large'

/** No answer: why (`reason`) and, in the message, what. */
export class HttpError extends Error {
  constructor (message: string, readonly reason: HttpFailure) { super(message) }
}

const DEFAULT_TIMEOUT_MS = 30_000

export class HttpClient {
  private readonly http: HttpAgent
  private readonly https: HttpsAgent

  constructor (opts: HttpClientOptions = {}) {
    const t = opts.tls ?? {}
    const ca = t.ca ?? (t.caFile ? readPem(t.caFile, 'CA file') : undefined)
    if ((t.certFile ?? '') === '' !== ((t.keyFile ?? '') === '')) throw new DaytwoError('CONFIG', 'a client certificate needs both its certificate file and its key file')
    const client = t.certFile ? { cert: readPem(t.certFile, 'client certificate'), key: readPem(t.keyFile!, 'client key') } : {}
    // Kept-alive sockets are unref'd by Node's agent while idle: nothing holds a CLI at exit.
    const maxSockets = opts.connections ?? Infinity
    this.http = new HttpAgent({ keepAlive: true, maxSockets })
    this.https = new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: t.insecureSkipVerify !== true, ...(ca !== undefined ? { ca } : {}), ...client })
  }

  /** One request, its answer read whole (within `maxBodyBytes`). */
  async request (url: URL | string, o: RequestOptions = {}): Promise<Answer> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const what = `${o.method ?? 'GET'} ${String(url)}`
    const ex = new Exchange(timeoutMs, o.signal)
    try {
      const res = await this.send(url, o, ex)
      return { status: res.statusCode ?? 0, headers: res.headers, body: await readBody(res, o.maxBodyBytes ?? Infinity, o.cut === true, what) }
    } catch (err) {
      throw failure(err, what, ex.timedOut ? `no answer in ${timeoutMs} ms` : undefined, o.signal)
    } finally {
      ex.done()
    }
  }

  /**
   * A request whose answer body is handed on as a stream once the headers are in: no deadline
   * for the body (a follow may be quiet for hours); `timeoutMs` bounds only the wait for headers (0: no bound).
   */
  async stream (url: URL | string, o: Omit<RequestOptions, 'maxBodyBytes' | 'cut'> = {}): Promise<StreamAnswer> {
    const what = `${o.method ?? 'GET'} ${String(url)}`
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const ex = new Exchange(timeoutMs, o.signal)
    try {
      const res = await this.send(url, o, ex)
      // A connection cut before the caller starts reading would emit 'error' with no listener
      // and end the process; with this one, the reader gets the error instead (a stream's
      // iterator throws its `errored`).
      res.on('error', () => {})
      ex.headersIn()
      res.once('close', ex.done)
      return { status: res.statusCode ?? 0, headers: res.headers, body: res }
    } catch (err) {
      ex.done()
      throw failure(err, what, ex.timedOut ? `no answer in ${timeoutMs} ms` : undefined, o.signal)
    }
  }

  /** Close kept-alive connections; requests in flight fail. */
  async close (): Promise<void> {
    this.http.destroy()
    this.https.destroy()
  }

  /** The answer once its headers are in; `ex` stops the exchange, its body included. */
  private async send (url: URL | string, o: RequestOptions, ex: Exchange): Promise<IncomingMessage> {
    const u = typeof url === 'string' ? new URL(url) : url
    const tls = u.protocol === 'https:'
    const headers: Record<string, string> = { ...o.headers }
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body))
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(u, { method: o.method ?? 'GET', headers, agent: tls ? this.https : this.http }, resolve)
      req.on('error', reject)
      ex.attach(req)
      req.end(o.body)
    })
  }
}

/**
 * What stops one exchange: its deadline (`timeoutMs`, 0: none) or the caller's signal. A timer
 * and a listener that destroy the request, both let go when the exchange is done. Not an
 * AbortSignal per request (AbortSignal.timeout, AbortSignal.any, or http.request's `signal`
 * option): measured on the forwarder, which posts hundreds of batches a second, those kept
 * enough alive per request that V8 doubled its young generation (16 to 32 MB) and its peak
 * RSS rose by ~15 MB (docs/runtime.md).
 */
class Exchange {
  timedOut = false
  private stopped = false
  private req: ClientRequest | undefined
  private readonly timer: NodeJS.Timeout | undefined
  private readonly onAbort = (): void => this.stop()

  constructor (timeoutMs: number, private readonly caller: AbortSignal | undefined) {
    if (timeoutMs > 0) this.timer = setTimeout(() => { this.timedOut = true; this.stop() }, timeoutMs)
    if (caller?.aborted === true) this.stopped = true
    else caller?.addEventListener('abort', this.onAbort, { once: true })
  }

  /** The request to destroy when stopped (at once when the caller aborted already). */
  attach (req: ClientRequest): void {
    this.req = req
    if (this.stopped) req.destroy(new Error('aborted'))
  }

  /** The deadline was for the headers (a stream): the caller's signal alone stops the body now. */
  headersIn (): void { clearTimeout(this.timer) }

  readonly done = (): void => {
    clearTimeout(this.timer)
    this.caller?.removeEventListener('abort', this.onAbort)
    this.req = undefined
  }

  private stop (): void {
    this.stopped = true
    this.req?.destroy(new Error(this.timedOut ? 'deadline' : 'aborted'))
  }
}

function readPem (file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new DaytwoError('CONFIG', `${what} ${file}: ${(err as Error).message}`)
  }
}

async function readBody (body: Readable, max: number, cut: boolean, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let kept = 0
  for await (const c of body as AsyncIterable<Buffer>) {
    if (kept + c.length > max) {
      if (!cut) { body.destroy(); throw new HttpError(`${what}: answer larger than ${max} bytes`, 'too_large') }
      // Keep the head and read the rest away, so the connection stays usable.
      if (kept < max) { chunks.push(c.subarray(0, max - kept)); kept = max }
      continue
    }
    chunks.push(c)
    kept += c.length
  }
  return Buffer.concat(chunks, kept)
}

/** TLS handshake failures by OpenSSL's codes, told apart from an unreachable server. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|ALTNAME/

function failure (err: unknown, what: string, timedOut: string | undefined, signal: AbortSignal | undefined): HttpError {
  if (err instanceof HttpError) return err
  if (timedOut !== undefined) return new HttpError(`${what}: ${timedOut}`, 'timeout')
  if (signal?.aborted === true) return new HttpError(`${what}: aborted`, 'aborted')
  const e = err as { message?: string, code?: string, cause?: { code?: string, message?: string } }
  const code = e.code ?? e.cause?.code ?? ''
  const message = e.message ?? String(err)
  return new HttpError(`${what}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, TLS_CODES.test(code) ? 'tls' : 'unreachable')
}

export interface RetryPolicy<A extends Retryable = Answer> {
  /** Tries in all, the first included. */
  attempts: number
  backoff: BackoffOptions
  /** Answers worth another try (default 429, 502, 503, 504). */
  statuses?: readonly number[]
  /** Failures without an answer are tried again too (default), unless aborted. */
  failures?: boolean
  /** Done with an answer that is tried again (a stream's body is read away here). */
  discard?: (answer: A) => void
  signal?: AbortSignal
}

/** What withRetry looks at in an answer: a whole one (Answer) or one whose body is a stream (StreamAnswer). */
export interface Retryable { status: number, headers: Headers }

const RETRY_STATUSES = [429, 502, 503, 504]

/**
 * `send` again after a failure or a retryable answer, waiting the backoff or the server's
 * Retry-After, whichever is longer (capped at the backoff's maxMs). The last answer, or the
 * last failure, is the result.
 */
export async function withRetry<A extends Retryable = Answer> (send: () => Promise<A>, p: RetryPolicy<A>): Promise<A> {
  const statuses = p.statuses ?? RETRY_STATUSES
  for (let attempt = 0; ; attempt++) {
    let answer: A | undefined
    try {
      answer = await send()
      if (!statuses.includes(answer.status)) return answer
    } catch (err) {
      if ((err instanceof HttpError && err.reason === 'aborted') || p.signal?.aborted === true) throw err
      if (p.failures === false || attempt + 1 >= p.attempts) throw err
    }
    if (attempt + 1 >= p.attempts) return answer!
    if (answer !== undefined) p.discard?.(answer)
    await sleep(retryWaitMs(attempt, answer?.headers, p.backoff))
    if (p.signal?.aborted === true) throw new HttpError('aborted while waiting to retry', 'aborted')
  }
}

/** The wait before retry `attempt` (0-based): the backoff, or the answer's Retry-After when longer, at most maxMs. */
export function retryWaitMs (attempt: number, headers: Headers | undefined, backoff: BackoffOptions): number {
  const after = retryAfterMs(headers?.['retry-after'])
  return Math.min(backoff.maxMs, Math.max(backoffMs(attempt, backoff), after))
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); 0 when absent or unreadable. */
export function retryAfterMs (v: string | string[] | undefined, now = Date.now()): number {
  const s = Array.isArray(v) ? v[0] : v
  if (s === undefined || s.trim() === '') return 0
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000
  const at = Date.parse(s)
  return Number.isNaN(at) ? 0 : Math.max(0, at - now)
}
