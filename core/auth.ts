import { createHash, timingSafeEqual } from 'node:crypto'

/** Constant-time bearer-token check against a set of accepted tokens. */
export class TokenSet {
  private readonly digests: Buffer[]
  constructor (tokens: Iterable<string>) {
    this.digests = [...tokens].filter((t) => t.length > 0).map(digest)
  }

  get size (): number { return this.digests.length }

  /** The token from an `Authorization: Bearer …` header, if it is accepted. */
  accepts (header: string | undefined): boolean {
    const token = bearer(header)
    if (token === null) return false
    const d = digest(token)
    let ok = false
    for (const known of this.digests) ok = timingSafeEqual(known, d) || ok
    return ok
  }
}

export function bearer (header: string | undefined): string | null {
  if (header === undefined) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1]! : null
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
