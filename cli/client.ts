import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { DaytwoError } from '../core/errors.js'
import { terminalMessage } from './terminal-text.js'
import { userAgent } from '../core/version.js'

// How the `logs` CLI finds and talks to the query service. Plain node:http(s) rather than
// fetch(): fetch loads undici and web streams (~15 MB of RSS before the first byte, and a
// promise per chunk through a web ReadableStream), which a bundle download does not need.

export interface ClientOptions { url?: string | undefined, token?: string | undefined }

export interface ClientResponse {
  status: number
  ok: boolean
  /** The media type, without parameters, lower case. */
  contentType: string
  /** The body, to be read once: as a stream, or with text()/json(). */
  body: IncomingMessage
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

export class QueryClient {
  readonly base: string
  private readonly token: string

  constructor (opts: ClientOptions) {
    this.base = (opts.url ?? process.env.DAYTWO_QUERY_URL ?? 'http://127.0.0.1:9603').replace(/\/+$/, '')
    this.token = opts.token ?? process.env.DAYTWO_TOKEN ?? localOperatorToken()
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
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, 'user-agent': userAgent('cli') }
    if (accept !== undefined) headers.accept = accept
    let res: IncomingMessage
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        // No keep-alive agent: one request at a time, and nothing left open to hold the CLI at exit.
        const req = request(url, { headers, agent: false }, resolve)
        req.once('error', reject)
        req.end()
      })
    } catch (err) {
      throw new DaytwoError('UNREACHABLE', `the query service at ${this.base}`, `${(err as Error).message} (set --url or DAYTWO_QUERY_URL)`)
    }
    const status = res.statusCode ?? 0
    if (status === 401) { res.resume(); throw new DaytwoError('UNAUTHORIZED') }
    const text = async () => {
      let s = ''
      res.setEncoding('utf8')
      for await (const chunk of res) s += chunk as string
      return s
    }
    return {
      status,
      ok: status >= 200 && status < 300,
      contentType: (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
      body: res,
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
