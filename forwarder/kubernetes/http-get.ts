import { readFileSync } from 'node:fs'
import { request } from '../http-client.js'
import { userAgent } from '../../core/version.js'

export interface GetOptions {
  tokenFile?: string
  /** CA to verify the server with; without one, the system CAs. */
  caFile?: string
  /**
   * Do not verify the server's certificate (kubelets often serve a self-signed one). Only by
   * an operator's explicit choice (forwarder.kubernetes.kubeletInsecureSkipVerify), never for
   * the API server: the service-account token goes with every request.
   */
  insecureSkipVerify?: boolean
  timeoutMs?: number
}

/** GET a JSON document from the kubelet or the API server, verifying TLS unless told not to. */
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
    ...(tls ? { ca, rejectUnauthorized: opts.insecureSkipVerify !== true } : {}),
    timeoutMs
  })
  const body = res.body.toString('utf8')
  if (res.status >= 400) throw new Error(`GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`)
  try { return JSON.parse(body) } catch (err) { throw new Error(`GET ${url}: not JSON (${(err as Error).message})`) }
}
