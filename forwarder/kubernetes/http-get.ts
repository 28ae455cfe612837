import { readFileSync } from 'node:fs'
import { request } from '../http-client.js'
import { userAgent } from '../../core/version.js'

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
  const timeoutMs = opts.timeoutMs ?? 5000
  const res = await request(u, {
    method: 'GET',
    headers: { accept: 'application/json', 'user-agent': userAgent('forwarder'), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(tls ? { ca, rejectUnauthorized: ca !== undefined } : {}),
    timeoutMs
  })
  const body = res.body.toString('utf8')
  if (res.status >= 400) throw new Error(`GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`)
  try { return JSON.parse(body) } catch (err) { throw new Error(`GET ${url}: not JSON (${(err as Error).message})`) }
}
