import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

// The forwarder's HTTP client, with node:http: fetch (undici) wraps a body in a web
// ReadableStream and copies it, which cost the forwarder more than compressing it, and
// loading undici costs memory the node agent does not have to spare.

export interface Answer { status: number, body: Buffer }

export interface RequestOptions {
  method: string
  headers: Record<string, string>
  body?: Uint8Array
  /** A keep-alive agent, or false for a connection of its own. */
  agent?: HttpAgent | false
  /** For https: the CA to verify with, and whether to verify at all. */
  ca?: Buffer | string
  rejectUnauthorized?: boolean
  timeoutMs: number
  /** Largest answer body: a longer one fails the request, or with `cutAnswer` keeps its head. */
  maxAnswer?: number
  cutAnswer?: boolean
}

/** One request; the answer's status and body (4xx and 5xx are answers, not errors). */
export function request (url: URL, o: RequestOptions): Promise<Answer> {
  const tls = url.protocol === 'https:'
  const headers = o.body === undefined ? o.headers : { ...o.headers, 'content-length': String(o.body.byteLength) }
  const max = o.maxAnswer ?? Infinity
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, {
      method: o.method,
      headers,
      agent: o.agent,
      timeout: o.timeoutMs,
      ...(tls && o.rejectUnauthorized !== undefined ? { ca: o.ca, rejectUnauthorized: o.rejectUnauthorized } : {})
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      let kept = 0
      res.on('data', (c: Buffer) => {
        if (kept + c.length > max && o.cutAnswer !== true) { req.destroy(new Error(`answer larger than ${max} bytes`)); return }
        if (kept < max) { chunks.push(c); kept += c.length }
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${o.method} ${url.toString()}: no answer in ${o.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(o.body)
  })
}

/** POSTs of ready bodies to one URL over a kept-alive connection. */
export class Poster {
  private readonly url: URL
  private readonly agent: HttpAgent

  constructor (url: string, private readonly headers: Record<string, string>, private readonly timeoutMs = 60_000, private readonly maxAnswer = 64 * 1024) {
    this.url = new URL(url)
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 })
  }

  /** The status and the answer's text (at most maxAnswer bytes of it). */
  async post (body: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number, text: string }> {
    const res = await request(this.url, { method: 'POST', headers: { ...this.headers, ...headers }, body, agent: this.agent, timeoutMs: this.timeoutMs, maxAnswer: this.maxAnswer, cutAnswer: true })
    return { status: res.status, text: res.body.toString('utf8') }
  }

  close (): void { this.agent.destroy() }
}
