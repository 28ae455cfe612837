import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { DaytwoError } from '../core/errors.js'
import { HttpClient, withRetry, type RetryPolicy, type StreamAnswer } from '../core/http-client.js'
import { terminalMessage } from './terminal-text.js'
import { userAgent } from '../core/version.js'

// How the `logs` CLI finds and talks to the query service, on the one HTTP client
// (core/http-client.ts): the answer is a Node stream (no web ReadableStream and its promise per
// chunk, which a bundle download does not need). An https query service is verified with the
// system CAs, or with the bundle named by DAYTWO_CA_FILE.

export interface ClientOptions { url?: string | undefined, token?: string | undefined, caFile?: string | undefined }

export interface ClientResponse {
  status: number
  ok: boolean
  /** The media type, without parameters, lower case. */
  contentType: string
  /** The body, to be read once: as a stream, or with text()/json(). */
  body: Readable
  text: () => Promise<string>
  json: <T>() => Promise<T>
}

/**
 * The message of a server's error body: daytwo's and Loki's JSON `{ message }`, or the text
 * itself when it is not JSON (a proxy's page, Loki's plain-text errors).
 */
export function errorBodyMessage (text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message
    return typeof m === 'string' ? m : text
  } catch {
    return text // not JSON: the text is the message
  }
}

/**
 * A GET answered 429, 502 or 503 — a query service whose store is restarting says 503
 * (core/errors.ts STORE_UNAVAILABLE), a proxy in front of one restarting says 502 — is sent
 * again after a short wait (or the answer's Retry-After), four tries in all. Not a 504 (the
 * query ran out of query.timeoutMs: again would only wait as long), nor a server that does not
 * answer at all (a wrong --url is said at once).
 */
const GET_RETRY: RetryPolicy<StreamAnswer> = {
  attempts: 4,
  backoff: { initialMs: 250, maxMs: 4000 },
  statuses: [429, 502, 503],
  failures: false,
  discard: (a) => { a.body.resume() }
}

export class QueryClient {
  readonly base: string
  private readonly token: string
  private readonly caFile: string
  private http: HttpClient | null = null

  constructor (opts: ClientOptions) {
    this.base = (opts.url ?? process.env.DAYTWO_QUERY_URL ?? 'http://127.0.0.1:9603').replace(/\/+$/, '')
    this.token = opts.token ?? process.env.DAYTWO_TOKEN ?? localOperatorToken()
    this.caFile = opts.caFile ?? process.env.DAYTWO_CA_FILE ?? ''
  }

  async get (path: string, params: Record<string, string | undefined>): Promise<ClientResponse> {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v)
    return await this.getQuery(path, q)
  }

  /** GET with a query string that may repeat keys (`only=a&only=b`), optionally asking for a media type. */
  async getQuery (path: string, query: URLSearchParams, accept?: string): Promise<ClientResponse> {
    let url: URL
    try {
      url = new URL(this.base + path)
    } catch {
      throw new DaytwoError('USAGE', `--url ${this.base} is not a URL (e.g. http://127.0.0.1:9603)`, 'fetch')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DaytwoError('USAGE', `--url ${this.base}: use http:// or https://`, 'fetch')
    url.search = query.toString()
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, 'user-agent': userAgent('cli') }
    if (accept !== undefined) headers.accept = accept
    let res: StreamAnswer
    try {
      // Idle kept-alive connections are unref'd by undici: nothing holds the CLI at exit.
      this.http ??= new HttpClient({ tls: this.caFile !== '' ? { caFile: this.caFile } : {} })
      // No deadline of its own: the query service stops a query at query.timeoutMs and says so (504).
      const http = this.http
      res = await withRetry(async () => await http.stream(url, { headers, timeoutMs: 0 }), GET_RETRY)
    } catch (err) {
      if (err instanceof DaytwoError) throw err
      throw new DaytwoError('UNREACHABLE', `the query service at ${this.base}`, `${(err as Error).message} (set --url or DAYTWO_QUERY_URL)`)
    }
    const status = res.status
    if (status === 401) { res.body.resume(); throw new DaytwoError('UNAUTHORIZED') }
    const text = async () => {
      let s = ''
      res.body.setEncoding('utf8')
      for await (const chunk of res.body) s += chunk as string
      return s
    }
    return {
      status,
      ok: status >= 200 && status < 300,
      contentType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
      body: res.body,
      text,
      json: async <T>() => JSON.parse(await text()) as T
    }
  }

  async json<T> (path: string, params: Record<string, string | undefined> = {}): Promise<T> {
    const res = await this.get(path, params)
    const body = await res.json<T & { message?: string, code?: string }>()
    // A server's message is printed: its control characters escaped (terminal-text.ts).
    if (res.status === 403) throw new DaytwoError('FORBIDDEN', terminalMessage(body.message ?? ''))
    if (res.status === 404) throw new DaytwoError('NOT_FOUND', terminalMessage(body.message ?? ''))
    if (!res.ok) throw new DaytwoError('BAD_QUERY', `${res.status} ${terminalMessage(body.message ?? '')}`)
    return body
  }
}

/** `serve all` writes an operator token into its data dir; a local CLI reads it from there. */
function localOperatorToken (): string {
  const dir = process.env.DAYTWO_DATA_DIR ?? '.data'
  try {
    return readFileSync(join(dir, 'operator-token'), 'utf8').trim()
  } catch {
    return ''
  }
}
