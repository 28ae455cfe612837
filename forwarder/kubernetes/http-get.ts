import { readFileSync } from 'node:fs'
import { HttpClient } from '../../core/http-client.js'
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

/** JSON documents from one kubelet or API server, over one kept-alive client, verifying TLS unless told not to. */
export class KubernetesGet {
  private client: HttpClient | null = null

  constructor (private readonly opts: GetOptions = {}) {}

  async json (url: string): Promise<unknown> {
    let token = ''
    if (this.opts.tokenFile) {
      // Re-read every time: projected service-account tokens rotate. No file: anonymous (a kubelet may allow it).
      try { token = readFileSync(this.opts.tokenFile, 'utf8').trim() } catch { token = '' }
    }
    // Made at the first request, so an unreadable CA file fails a lookup (logged) rather than the forwarder's start.
    this.client ??= new HttpClient({ connections: 2, tls: { ...(this.opts.caFile ? { caFile: this.opts.caFile } : {}), insecureSkipVerify: this.opts.insecureSkipVerify === true } })
    const res = await this.client.request(url, {
      headers: { accept: 'application/json', 'user-agent': userAgent('forwarder'), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      timeoutMs: this.opts.timeoutMs ?? 5000,
      maxBodyBytes: MAX_BODY
    })
    const body = res.body.toString('utf8')
    if (res.status >= 400) throw new Error(`GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`)
    try { return JSON.parse(body) } catch (err) { throw new Error(`GET ${url}: not JSON (${(err as Error).message})`) }
  }

  async close (): Promise<void> { await this.client?.close() }
}

/** A node's pod list is large (hundreds of pods with their specs), but not this large. */
const MAX_BODY = 64 * 1024 * 1024
