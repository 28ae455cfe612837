import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DaytwoError } from '../../core/errors.js'

// How the `logs` CLI finds and talks to the query service.

export interface ClientOptions { url?: string | undefined, token?: string | undefined }

export class QueryClient {
  readonly base: string
  private readonly token: string

  constructor (opts: ClientOptions) {
    this.base = (opts.url ?? process.env.DAYTWO_QUERY_URL ?? 'http://127.0.0.1:9603').replace(/\/+$/, '')
    this.token = opts.token ?? process.env.DAYTWO_TOKEN ?? localOperatorToken()
  }

  async get (path: string, params: Record<string, string | undefined>): Promise<Response> {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v)
    return await this.getQuery(path, q)
  }

  /** GET with a query string that may repeat keys (`only=a&only=b`). */
  async getQuery (path: string, query: URLSearchParams): Promise<Response> {
    let url: URL
    try {
      url = new URL(this.base + path)
    } catch {
      throw new DaytwoError('USAGE', `--url ${this.base} is not a URL (e.g. http://127.0.0.1:9603)`, 'fetch')
    }
    url.search = query.toString()
    let res: Response
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${this.token}`, 'user-agent': 'daytwo-cli' } })
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message
      throw new DaytwoError('UNREACHABLE', `the query service at ${this.base}`, `${cause} (set --url or DAYTWO_QUERY_URL)`)
    }
    if (res.status === 401) throw new DaytwoError('UNAUTHORIZED')
    return res
  }

  async json<T> (path: string, params: Record<string, string | undefined> = {}): Promise<T> {
    const res = await this.get(path, params)
    const body = await res.json() as T & { message?: string, code?: string }
    if (res.status === 403) throw new DaytwoError('FORBIDDEN', body.message ?? '')
    if (res.status === 404) throw new DaytwoError('NOT_FOUND', body.message ?? '')
    if (!res.ok) throw new DaytwoError('BAD_QUERY', `${res.status} ${body.message ?? ''}`)
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
