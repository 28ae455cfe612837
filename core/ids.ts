import { createHash } from 'node:crypto'

/**
 * A stream id: 24 hex chars (96 bits) of SHA-1 over the parts joined by NUL.
 * Computed once per stream, never per line: a record's id is the stream id plus its offset,
 * which is an injective function of (node, fingerprint, offset) and cannot collide.
 */
export function streamId (...parts: Array<string | number>): string {
  const h = createHash('sha1')
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) h.update('\0')
    h.update(String(parts[i]))
  }
  return h.digest('hex').slice(0, 24)
}
