import { rfc3339ToNs } from '../../core/time.js'
import type { ParsedLine } from './parsed-line.js'

/**
 * A Docker json-file line: {"log":"text\n","stream":"stdout","time":"2026-…Z"}.
 * Docker splits lines longer than 16 KiB; the parts but the last lack the trailing "\n".
 */
export function parseDocker (line: string): ParsedLine | null {
  let o: unknown
  try {
    o = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof o !== 'object' || o === null) return null
  const { log, stream, time } = o as { log?: unknown, stream?: unknown, time?: unknown }
  if (typeof log !== 'string' || typeof time !== 'string') return null
  const ts = rfc3339ToNs(time)
  if (ts === null) return null
  const partial = !log.endsWith('\n')
  return { ts, stdio: stream === 'stderr' ? 'stderr' : 'stdout', partial, message: partial ? log : log.slice(0, -1) }
}
