import { Agent, request } from 'node:http'

// A plain HTTP GET that waits as long as the server takes (fetch gives up on headers after
// 300 s, and a slow query is a figure, not a failure) and times the whole answer: from
// sending the request to its last byte, as a client such as Grafana waits for it.

const agent = new Agent({ keepAlive: true, maxSockets: 4 })

export interface Got { status: number, text: string, secs: number }

export async function httpGet (url: string, headers: Record<string, string> = {}): Promise<Got> {
  const t0 = process.hrtime.bigint()
  return await new Promise<Got>((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), secs: Number(process.hrtime.bigint() - t0) / 1e9 }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** POST a body (for ingest); resolves with the status and the answer's text. */
export async function httpPost (url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The query string of `params` (values as given). */
export function qs (params: Record<string, string>): string {
  return new URLSearchParams(params).toString()
}
