import type { LogStore } from '../../../store/log-store.js'
import { orgScope } from '../../auth.js'
import { runLogQuery, type StreamResult } from '../log-query.js'
import * as p from '../params.js'
import { detectFields, fieldValues, type DetectedField } from './field-detection.js'
import { baseLabelNames, count, logQuery, type DrilldownRequest } from './request.js'

// GET /loki/api/v1/detected_fields and /detected_field/<name>/values, as Loki's HTTP API
// reference describes them: the newest `line_limit` lines (default 100, as Loki) matching the
// query, its pipeline included, are parsed; `limit` (alias `field_limit`, default 1000) caps
// the fields or values returned. Answers `{fields, limit}` and `{values, limit}`; `limit` is
// only set when something was found, as Loki does.

const DEFAULT_LINES = 100
const MAX_LINES = p.MAX_ENTRIES
const DEFAULT_LIMIT = 1000

async function sample (store: LogStore, req: DrilldownRequest) {
  const q = req.query
  const e = logQuery(q, true)!
  const { startNs, endNs } = p.range(q)
  const org = orgScope(req)
  const lines = count(q, DEFAULT_LINES, MAX_LINES, 'line_limit')
  const limit = count(q, DEFAULT_LIMIT, Number.MAX_SAFE_INTEGER, 'limit', 'field_limit')
  const [r, base] = await Promise.all([runLogQuery(store, e, org, startNs, endNs, lines, 'backward'), baseLabelNames(store, e, org, startNs)])
  return { streams: r.result as StreamResult[], base, limit } // not categorized: plain streams
}

export async function detectedFields (store: LogStore, req: DrilldownRequest): Promise<{ fields: DetectedField[], limit?: number }> {
  const { streams, base, limit } = await sample(store, req)
  const fields = detectFields(streams, base, limit)
  return fields.length > 0 ? { fields, limit } : { fields }
}

export async function detectedFieldValues (store: LogStore, req: DrilldownRequest): Promise<{ values: string[], limit?: number }> {
  const name = req.params.name ?? ''
  const { streams, base, limit } = await sample(store, req)
  const values = fieldValues(streams, base, name, limit)
  return values.length > 0 ? { values, limit } : { values }
}
