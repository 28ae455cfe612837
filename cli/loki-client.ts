import { DaytwoError } from '../core/errors.js'
import type { QueryClient } from './client.js'
import { terminalMessage } from './terminal-text.js'

// The CLI's side of the query service's Loki API (query/loki/): the same endpoints Grafana
// and logcli use, so `logs query` answers exactly what a dashboard would.

export type LokiStreams = Array<{ stream: Record<string, string>, values: Array<[string, string]> }>
export type LokiMatrix = Array<{ metric: Record<string, string>, values: Array<[number, string]> }>
export type LokiVector = Array<{ metric: Record<string, string>, value: [number, string] }>

export interface LokiData {
  resultType: 'streams' | 'matrix' | 'vector' | 'scalar'
  result: LokiStreams | LokiMatrix | LokiVector
}

/** GET a Loki endpoint; a refused query (a LogQL parse error, say) is thrown with Loki's own message. */
export async function lokiGet (client: QueryClient, endpoint: 'query' | 'query_range', params: Record<string, string | undefined>): Promise<LokiData> {
  const res = await client.get(`/loki/api/v1/${endpoint}`, params)
  const text = await res.text()
  let body: { status?: string, data?: LokiData, message?: string, error?: string } = {}
  try { body = JSON.parse(text) as typeof body } catch { body = { message: text.slice(0, 500) } }
  if (!res.ok || body.data === undefined) {
    const msg = terminalMessage(body.message ?? body.error ?? `HTTP ${res.status}`)
    throw new DaytwoError(res.status === 403 ? 'FORBIDDEN' : 'BAD_QUERY', msg)
  }
  return body.data
}

/** A LogQL string literal for a label value. */
export function logqlString (s: string): string {
  return JSON.stringify(s)
}
