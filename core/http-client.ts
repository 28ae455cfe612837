import { readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { Agent, request as undiciRequest } from 'undici'
import { backoffMs, sleep, type BackoffOptions } from './backoff.js'
import { DaytwoError } from './errors.js'

// Every request daytwo sends — the forwarder's batches and reports, the Kubernetes and Cloud
// Foundry GETs, the CLI — goes through this one client: undici's request API (not fetch, which
// wraps a body in a web ReadableStream and copies it; here the answer is a Node stream), one
// kept-alive Agent per target, TLS verified unless an operator's explicit key says otherwise,
// an overall deadline, a caller's AbortSignal, a limit on the answer's size, and a retry that
// composes with core/backoff.ts and the server's Retry-After.

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
  private readonly agent: Agent

  constructor (opts: HttpClientOptions = {}) {
    const t = opts.tls ?? {}
    const ca = t.ca ?? (t.caFile ? readPem(t.caFile, 'CA file') : undefined)
    if ((t.certFile ?? '') === '' !== ((t.keyFile ?? '') === '')) throw new DaytwoError('CONFIG', 'a client certificate needs both its certificate file and its key file')
    const client = t.certFile ? { cert: readPem(t.certFile, 'client certificate'), key: readPem(t.keyFile!, 'client key') } : {}
    this.agent = new Agent({
      connections: opts.connections ?? null,
      connect: { rejectUnauthorized: t.insecureSkipVerify !== true, ...(ca !== undefined ? { ca } : {}), ...client }
    })
  }

  /** One request, its answer read whole (within `maxBodyBytes`). */
  async request (url: URL | string, o: RequestOptions = {}): Promise<Answer> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline
    const what = `${o.method ?? 'GET'} ${String(url)}`
    try {
      const res = await this.send(url, o, signal, timeoutMs)
      return { status: res.statusCode, headers: res.headers, body: await readBody(res.body, o.maxBodyBytes ?? Infinity, o.cut === true, what) }
    } catch (err) {
      throw failure(err, what, deadline.aborted ? `no answer in ${timeoutMs} ms` : undefined, o.signal)
    }
  }

  /**
   * A request whose answer body is handed on as a stream once the headers are in: no deadline
   * for the body (a follow may be quiet for hours); `timeoutMs` bounds only the wait for headers (0: no bound).
   */
  async stream (url: URL | string, o: Omit<RequestOptions, 'maxBodyBytes' | 'cut'> = {}): Promise<StreamAnswer> {
    const what = `${o.method ?? 'GET'} ${String(url)}`
    try {
      const res = await undiciRequest(url, {
        dispatcher: this.agent,
        method: (o.method ?? 'GET') as 'GET',
        headers: o.headers ?? {},
        body: o.body ?? null,
        signal: o.signal ?? null,
        headersTimeout: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        bodyTimeout: 0
      })
      // A connection cut before the caller starts reading would emit 'error' with no listener
      // and end the process; with this one, the reader gets the error instead (a stream's
      // iterator throws its `errored`), as node:http's IncomingMessage behaves.
      res.body.on('error', () => {})
      return { status: res.statusCode, headers: res.headers, body: res.body }
    } catch (err) {
      throw failure(err, what, undefined, o.signal)
    }
  }

  /** Close kept-alive connections; requests in flight fail. */
  async close (): Promise<void> {
    // A connection that fails while being closed is gone either way: nothing to report.
    await this.agent.destroy().catch(() => undefined)
  }

  private async send (url: URL | string, o: RequestOptions, signal: AbortSignal, timeoutMs: number) {
    return await undiciRequest(url, {
      dispatcher: this.agent,
      method: (o.method ?? 'GET') as 'GET',
      headers: o.headers ?? {},
      body: o.body ?? null,
      signal,
      // undici's own idle timers would only fire later than the deadline; kept equal to it.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
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
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return new HttpError(`${what}: ${e.message ?? code}`, 'timeout')
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
