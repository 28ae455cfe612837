import { DaytwoError } from '../../../core/errors.js'
import { MAX_ATTRIBUTES, type Attributes } from '../../../core/record.js'

/** One stream of a Loki push: its labels and its lines as [ns time, line, structured metadata]. */
export interface PushStream {
  labels: Record<string, string>
  values: Array<[ts: string, line: string, metadata: Attributes | undefined]>
}

const NS = /^\d{1,19}$/

/**
 * Loki's JSON push body (`{"streams":[{"stream":{…},"values":[["<ns>","<line>",{…}?]]}]}`),
 * checked field by field so a bad body is a 400 naming what was wrong, never a crash.
 */
export function decodePushJson (body: string): PushStream[] {
  let doc: unknown
  try { doc = JSON.parse(body) } catch (err) { throw bad(`body is not JSON: ${(err as Error).message}`) }
  const streams = (doc as { streams?: unknown } | null)?.streams
  if (!Array.isArray(streams)) throw bad('expected {"streams": [...]}')
  return streams.map((s: unknown, i) => {
    const labels = (s as { stream?: unknown } | null)?.stream
    const values = (s as { values?: unknown } | null)?.values
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) throw bad(`streams[${i}].stream is not an object of labels`)
    for (const [k, v] of Object.entries(labels)) if (typeof v !== 'string') throw bad(`streams[${i}].stream.${k} is not a string`)
    if (!Array.isArray(values)) throw bad(`streams[${i}].values is not an array`)
    return {
      labels: labels as Record<string, string>,
      values: values.map((v: unknown, j) => {
        if (!Array.isArray(v) || typeof v[0] !== 'string' || !NS.test(v[0]) || typeof v[1] !== 'string') throw bad(`streams[${i}].values[${j}] is not ["<unix ns>", "<line>"]`)
        return [v[0], v[1], metadata(v[2], `streams[${i}].values[${j}][2]`)]
      })
    }
  })
}

function metadata (m: unknown, where: string): Attributes | undefined {
  if (m === undefined || m === null) return undefined
  if (typeof m !== 'object' || Array.isArray(m)) throw bad(`${where} (structured metadata) is not an object`)
  const entries = Object.entries(m)
  if (entries.length > MAX_ATTRIBUTES) throw bad(`${where} has ${entries.length} structured metadata keys, more than ${MAX_ATTRIBUTES}`)
  const out: Attributes = {}
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw bad(`${where}.${k} is not a string`)
    out[k] = v
  }
  return entries.length > 0 ? out : undefined
}

function bad (msg: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', msg)
}
