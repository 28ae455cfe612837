import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DaytwoError } from './errors.js'

/** Constant-time bearer-token check against a set of accepted tokens. */
export class TokenSet {
  private readonly digests: Buffer[]
  constructor (tokens: Iterable<string>) {
    this.digests = [...tokens].filter((t) => t.length > 0).map(digest)
  }

  get size (): number { return this.digests.length }

  /** The token from an `Authorization: Bearer …` header, if it is accepted. */
  accepts (header: string | undefined): boolean {
    return this.identify(header) !== null
  }

  /**
   * Who presented the header: a stable name of the accepted token (hex of its SHA-256, which
   * says nothing of the secret), or null. The collector binds the streams a forwarder creates
   * to it, so that another token cannot write into them.
   */
  identify (header: string | undefined): string | null {
    const token = bearer(header)
    if (token === null) return null
    const d = digest(token)
    let found: Buffer | null = null
    for (const known of this.digests) if (timingSafeEqual(known, d)) found = known
    return found === null ? null : found.toString('hex')
  }
}

/** The name TokenSet.identify gives a token: hex of its SHA-256. */
export function tokenName (token: string): string {
  return digest(token).toString('hex')
}

export function bearer (header: string | undefined): string | null {
  if (header === undefined) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1]! : null
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** TLS files of a listener (collector.tlsCertFile, tlsKeyFile, clientCaFile). */
export interface TlsFiles {
  tlsCertFile: string
  tlsKeyFile: string
  clientCaFile: string
}

export interface ServerTls {
  cert: Buffer
  key: Buffer
  /** Set with requestCert and rejectUnauthorized: a client without a certificate signed by it is refused in the handshake. */
  ca?: Buffer
  requestCert: boolean
  rejectUnauthorized: boolean
}

/** The https options for a listener, null for plain http; DAYTWO_ERR_CONFIG names the key at fault. */
export function serverTls (files: TlsFiles, prefix = 'collector'): ServerTls | null {
  const { tlsCertFile, tlsKeyFile, clientCaFile } = files
  if (!tlsCertFile && !tlsKeyFile) {
    if (clientCaFile) throw new DaytwoError('CONFIG', `${prefix}.clientCaFile needs ${prefix}.tlsCertFile and ${prefix}.tlsKeyFile (mTLS runs over TLS)`)
    return null
  }
  if (!tlsCertFile || !tlsKeyFile) throw new DaytwoError('CONFIG', `${prefix}.tlsCertFile and ${prefix}.tlsKeyFile go together`)
  const read = (key: string, file: string) => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new DaytwoError('CONFIG', `${prefix}.${key} ${file}: ${(err as Error).message}`)
    }
  }
  const tls: ServerTls = { cert: read('tlsCertFile', tlsCertFile), key: read('tlsKeyFile', tlsKeyFile), requestCert: false, rejectUnauthorized: false }
  if (clientCaFile) {
    tls.ca = read('clientCaFile', clientCaFile)
    tls.requestCert = true
    tls.rejectUnauthorized = true
  }
  return tls
}
