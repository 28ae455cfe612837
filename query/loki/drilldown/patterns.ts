import { compareNs } from '../../../core/time.js'
import type { LogStore } from '../../../store/log-store.js'
import { orgScope } from '../../auth.js'
import { labelsKey } from '../labels.js'
import { runLogQuery } from '../log-query.js'
import * as p from '../params.js'
import { Drain, SAMPLE_MS } from './drain.js'
import { detectLogFormat, tokenizerFor } from './pattern-tokenizers.js'
import { logQuery, type DrilldownRequest } from './request.js'

// GET /loki/api/v1/patterns: log patterns with their counts over time, answered as Loki's
// pattern querier does — `{status, data: [{pattern, level, samples: [[unix s, count], …]}]}`,
// one Drain per stream and level (the format from the stream's first line), patterns merged
// across streams by text and level, counts per `step` (at least the 10 s sample interval),
// patterns with fewer than 30 lines dropped, the 300 largest kept, largest first.
// Loki mines patterns at ingest; daytwo mines them at query time from the newest SAMPLE_LINES
// lines of the range, so the counts are those of that sample (all lines when there are fewer).

export const SAMPLE_LINES = p.MAX_ENTRIES
const MIN_CLUSTER_SIZE = 30
const MAX_PATTERNS = 300

export interface PatternSeries { pattern: string, level: string, samples: Array<[number, number]> }

export async function patterns (store: LogStore, req: DrilldownRequest): Promise<{ status: 'success', data: PatternSeries[] }> {
  const q = req.query
  const e = logQuery(q, true)!
  const { startNs, endNs } = p.range(q)
  let stepMs = Number(p.step(q, startNs, endNs) / 1_000_000n)
  if (stepMs < SAMPLE_MS) stepMs = SAMPLE_MS
  const r = await runLogQuery(store, e, orgScope(req), startNs, endNs, SAMPLE_LINES, 'backward')
  const merged = new Map<string, { pattern: string, level: string, samples: Map<number, number>, total: number }>()
  for (const s of r.result) {
    // Oldest first, as the pattern ingester sees lines.
    const values = [...s.values].sort((a, b) => compareNs(a[0], b[0]))
    if (values.length === 0) continue
    const drain = new Drain(tokenizerFor(detectLogFormat(values[0]![1])))
    for (const [ts, line] of values) drain.train(line, Number(BigInt(ts) / 1_000_000n))
    const level = s.stream.detected_level ?? s.stream.level ?? 'unknown'
    for (const c of drain.all()) {
      const pattern = drain.pattern(c)
      const key = labelsKey({ pattern, level })
      let m = merged.get(key)
      if (m === undefined) { m = { pattern, level, samples: new Map(), total: 0 }; merged.set(key, m) }
      for (const [t, n] of c.samples) { m.samples.set(t, (m.samples.get(t) ?? 0) + n); m.total += n }
    }
  }
  const data = [...merged.values()].filter((m) => m.total >= MIN_CLUSTER_SIZE).sort((a, b) => b.total - a.total).slice(0, MAX_PATTERNS)
    .map((m) => ({ pattern: m.pattern, level: m.level, samples: bySteps(m.samples, stepMs) }))
  return { status: 'success', data }
}

/**
 * Counts per 10 s sample as counts per step: each step starts at a multiple of the step, and
 * steps without lines between the first and the last are 0 (Loki's Chunk.ForRange); at the
 * sample interval itself the samples are returned as they are.
 */
export function bySteps (samples: Map<number, number>, stepMs: number): Array<[number, number]> {
  const times = [...samples.keys()].sort((a, b) => a - b)
  if (stepMs === SAMPLE_MS) return times.map((t) => [t / 1000, samples.get(t)!])
  const steps = new Map<number, number>()
  for (const t of times) {
    const s = t - (t % stepMs)
    steps.set(s, (steps.get(s) ?? 0) + samples.get(t)!)
  }
  const out: Array<[number, number]> = []
  if (times.length === 0) return out
  const first = times[0]! - (times[0]! % stepMs)
  const last = times[times.length - 1]! - (times[times.length - 1]! % stepMs)
  for (let s = first; s <= last; s += stepMs) out.push([s / 1000, steps.get(s) ?? 0])
  return out
}
