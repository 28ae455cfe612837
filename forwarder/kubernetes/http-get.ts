import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface GetOptions {
  tokenFile?: string
  caFile?: string
  timeoutMs?: number
}

/**
 * GET a JSON document from the kubelet or the API server. The kubelet's certificate is
 * usually self-signed: without a CA file it is not verified (as Fluent Bit's
 * kube_meta_preload / tls.verify off), with one it is.
 */
export async function getJson (url: string, opts: GetOptions = {}): Promise<unknown> {
  let token = ''
  if (opts.tokenFile) {
    try { token = readFileSync(opts.tokenFile, 'utf8').trim() } catch { /* no token: anonymous */ }
  }
  const u = new URL(url)
  const tls = u.protocol === 'https:'
  const ca = tls && opts.caFile ? readFileSync(opts.caFile) : undefined
  return await new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(u, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'daytwo-forwarder/0.1.0', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(tls ? { ca, rejectUnauthorized: ca !== undefined } : {}),
      timeout: opts.timeoutMs ?? 5000
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        if ((res.statusCode ?? 0) >= 400) { reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`)); return }
        try { resolve(JSON.parse(body)) } catch (err) { reject(new Error(`GET ${url}: not JSON (${(err as Error).message})`)) }
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${opts.timeoutMs ?? 5000} ms`)))
    req.on('error', reject)
    req.end()
  })
}
