import type { LogStore } from '../../../store/log-store.js'
import { orgScope } from '../../auth.js'
import * as p from '../params.js'
import { selectStreams } from '../select.js'
import { logQuery, type DrilldownRequest } from './request.js'

// GET /loki/api/v1/detected_labels: the stream labels of the selected streams with their
// cardinality, for Drilldown's service list tabs and its Labels tab. As Loki does
// (pkg/querier/querier.go `DetectedLabels`), from the index only — no line is read — and a label
// whose values are all IDs (numbers or UUIDs, except a 0/1 flag) is left out unless it is one
// of the static labels Loki always keeps.

const STATIC = new Set(['cluster', 'namespace', 'instance', 'pod'])
const UUID = /^(?:urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i

export interface DetectedLabel { label: string, cardinality: number }

export async function detectedLabels (store: LogStore, req: DrilldownRequest): Promise<{ detectedLabels: DetectedLabel[] }> {
  const q = req.query
  const { startNs } = p.range(q)
  const e = logQuery(q, false)
  const values = new Map<string, Set<string>>()
  let container = false
  for (const s of await selectStreams(store, e?.matchers ?? [], orgScope(req), startNs)) {
    for (const [n, v] of Object.entries(s.labels)) {
      if (v === '') continue
      let set = values.get(n)
      if (set === undefined) { set = new Set(); values.set(n, set) }
      set.add(v)
    }
    if (s.info.namespace !== undefined) container = true
  }
  const out: DetectedLabel[] = []
  for (const [label, set] of values) {
    if (STATIC.has(label) || !allIds([...set])) out.push({ label, cardinality: set.size })
  }
  // `stream` (stdout/stderr) is per line in daytwo, and the index does not know which of the
  // two a container wrote: both are counted for container logs rather than reading lines.
  if (container) out.push({ label: 'stream', cardinality: 2 })
  return { detectedLabels: out.sort((a, b) => a.label < b.label ? -1 : a.label > b.label ? 1 : 0) }
}

/** Loki's shouldRejectLabel: true when every value is an ID, a 0/1 flag excepted. */
function allIds (values: string[]): boolean {
  if (values.length === 0) return true
  if (values.length <= 2 && values.every((v) => v === '0' || v === '1')) return false
  return values.every((v) => (v.trim() !== '' && !Number.isNaN(Number(v))) || UUID.test(v))
}
