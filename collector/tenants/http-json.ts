import { existsSync, readFileSync } from 'node:fs'
import { HttpClient, type HttpError } from '../../core/http-client.js'
import { userAgent } from '../../core/version.js'

export const USER_AGENT = userAgent('collector')

export interface JsonClientOptions {
  baseUrl: string
  /** Read before every request: projected service-account tokens and UAA tokens rotate. */
  tokenFile: string
  caFile: string
  timeoutMs: number
}

/** Thrown for answers other than 2xx and 404, and for network errors and timeouts. */
export class DirectoryError extends Error {
  constructor (message: string, readonly reason: 'timeout' | 'unreachable' | 'status' | 'bad_answer') {
    super(message)
  }
}

const MAX_BODY = 4 * 1024 * 1024

/** A small GET-JSON client for directory APIs; 404 resolves to null. */
export class JsonClient {
  private readonly http: HttpClient
  constructor (private readonly opts: JsonClientOptions) {
    // An absent CA file is ignored (kubernetesCaFile defaults to the in-cluster path, which a VM lacks): the system CAs then.
    this.http = new HttpClient({ tls: opts.caFile && existsSync(opts.caFile) ? { caFile: opts.caFile } : {} })
  }

  private token (): string | null {
    if (!this.opts.tokenFile) return null
    try {
      return readFileSync(this.opts.tokenFile, 'utf8').trim()
    } catch (err) {
      throw new DirectoryError(`cannot read token file ${this.opts.tokenFile}: ${(err as Error).message}`, 'unreachable')
    }
  }

  async get (path: string, signal: AbortSignal): Promise<unknown> {
    const url = new URL(path, this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : this.opts.baseUrl + '/')
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' }
    const token = this.token()
    if (token) headers.authorization = `Bearer ${token}`
    let res
    try {
      res = await this.http.request(url, { headers, signal, timeoutMs: this.opts.timeoutMs, maxBodyBytes: MAX_BODY })
    } catch (err) {
      const e = err as HttpError
      throw new DirectoryError(`${url.pathname}: ${e.message}`, e.reason === 'timeout' ? 'timeout' : e.reason === 'too_large' ? 'bad_answer' : 'unreachable')
    }
    if (res.status === 404) return null
    if (res.status < 200 || res.status >= 300) throw new DirectoryError(`${url.pathname}: HTTP ${res.status}`, 'status')
    try {
      return JSON.parse(res.body.toString('utf8'))
    } catch (err) {
      throw new DirectoryError(`${url.pathname}: not JSON (${(err as Error).message})`, 'bad_answer')
    }
  }
}
