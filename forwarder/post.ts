import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

// One POST of a ready body over a kept-alive connection, with node:http: fetch (undici)
// wraps a body in a web ReadableStream and copies it, which cost the forwarder more than
// compressing it. Answers with the status and the response text (at most `maxAnswer` bytes).

export interface Answer { status: number, text: string }

export class Poster {
  private readonly url: URL
  private readonly agent: HttpAgent

  constructor (url: string, private readonly headers: Record<string, string>, private readonly timeoutMs = 60_000, private readonly maxAnswer = 64 * 1024) {
    this.url = new URL(url)
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 })
  }

  post (body: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = request(this.url, { method: 'POST', agent: this.agent, headers: { ...this.headers, ...headers, 'content-length': String(body.byteLength) }, timeout: this.timeoutMs }, (res: IncomingMessage) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { if (text.length < this.maxAnswer) text += d })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  close (): void { this.agent.destroy() }
}
