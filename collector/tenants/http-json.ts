import { existsSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
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
  private readonly ca: Buffer | undefined
  constructor (private readonly opts: JsonClientOptions) {
    this.ca = opts.caFile && existsSync(opts.caFile) ? readFileSync(opts.caFile) : undefined
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
    const timeout = AbortSignal.timeout(this.opts.timeoutMs)
    const both = AbortSignal.any([signal, timeout])
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return await new Promise((resolve, reject) => {
      const req = send(url, { method: 'GET', headers, signal: both, ...(this.ca && url.protocol === 'https:' ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > MAX_BODY) { req.destroy(); reject(new DirectoryError(`${url.pathname}: answer larger than ${MAX_BODY} bytes`, 'bad_answer')) } else chunks.push(c)
        })
        res.on('error', (err) => reject(new DirectoryError(`${url.pathname}: ${err.message}`, 'unreachable')))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status === 404) { resolve(null); return }
          if (status < 200 || status >= 300) { reject(new DirectoryError(`${url.pathname}: HTTP ${status}`, 'status')); return }
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          } catch (err) {
            reject(new DirectoryError(`${url.pathname}: not JSON (${(err as Error).message})`, 'bad_answer'))
          }
        })
      })
      req.on('error', (err) => {
        reject(timeout.aborted
          ? new DirectoryError(`${url.pathname}: no answer in ${this.opts.timeoutMs} ms`, 'timeout')
          : new DirectoryError(`${url.origin}: ${err.message}`, 'unreachable'))
      })
      req.end()
    })
  }
}
