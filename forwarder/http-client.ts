import type { ForwarderConfig } from '../core/config-schema.js'
import { DaytwoError } from '../core/errors.js'
import { HttpClient, type Headers, type TlsOptions } from '../core/http-client.js'

// The forwarder's POSTs to the collector (batches, metric reports) on the one HTTP client
// (core/http-client.ts): one kept-alive connection per poster, since a poster sends one body
// at a time and waits for its answer.

/** POSTs of ready bodies to one URL over a kept-alive connection. */
export class Poster {
  private readonly url: URL
  private readonly client: HttpClient

  /** `tls`: how to verify an https collector (forwarder.collectorCaFile); the system CAs without it. */
  constructor (url: string, private readonly headers: Record<string, string>, private readonly timeoutMs = 60_000, private readonly maxAnswer = 64 * 1024, tls: TlsOptions = {}) {
    this.url = new URL(url)
    this.client = new HttpClient({ connections: 1, tls })
  }

  /** The status, the headers (Retry-After) and the answer's text (at most maxAnswer bytes of it). */
  async post (body: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, text: string }> {
    const res = await this.client.request(this.url, { method: 'POST', headers: { ...this.headers, ...headers }, body, timeoutMs: this.timeoutMs, maxBodyBytes: this.maxAnswer, cut: true })
    return { status: res.status, headers: res.headers, text: res.body.toString('utf8') }
  }

  close (): void { void this.client.close() }
}

/**
 * How to verify an https collector (forwarder.collectorCaFile, else the system CAs), and the
 * client certificate to present to one that asks (forwarder.collectorCertFile, collectorKeyFile).
 */
export function collectorTls (cfg: ForwarderConfig): TlsOptions {
  if ((cfg.collectorCertFile === '') !== (cfg.collectorKeyFile === '')) throw new DaytwoError('CONFIG', 'forwarder.collectorCertFile and forwarder.collectorKeyFile go together: set both or neither')
  return {
    ...(cfg.collectorCaFile !== '' ? { caFile: cfg.collectorCaFile } : {}),
    ...(cfg.collectorCertFile !== '' || cfg.collectorKeyFile !== '' ? { certFile: cfg.collectorCertFile, keyFile: cfg.collectorKeyFile } : {})
  }
}
