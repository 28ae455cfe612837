import { rfc3339ToNs } from '../../core/time.js'
import type { ParsedLine } from './parsed-line.js'

/**
 * A CRI log line: `<RFC 3339 nano time> <stdout|stderr> <P|F>[:more tags] <message>`.
 * P marks a partial line that the next lines of the same stream continue; F the last part.
 */
export function parseCri (line: string): ParsedLine | null {
  const s1 = line.indexOf(' ')
  if (s1 <= 0) return null
  const s2 = line.indexOf(' ', s1 + 1)
  if (s2 === -1) return null
  const stdio = line.slice(s1 + 1, s2)
  if (stdio !== 'stdout' && stdio !== 'stderr') return null
  let s3 = line.indexOf(' ', s2 + 1)
  if (s3 === -1) s3 = line.length // an empty message may come without its separator
  const tag = line.slice(s2 + 1, s3)
  const flag = tag.charCodeAt(0)
  if ((flag !== 0x50 && flag !== 0x46) || (tag.length > 1 && tag.charCodeAt(1) !== 0x3a)) return null // 'P' | 'F'
  const ts = rfc3339ToNs(line.slice(0, s1))
  if (ts === null) return null
  return { ts, stdio, partial: flag === 0x50, message: s3 < line.length ? line.slice(s3 + 1) : '' }
}
