import type { Entry, StreamTags } from '../../../core/record.js'
import { streamLabels } from '../../../core/stream-labels.js'
import { lineLevel } from '../../../store/search-engine/fields.js'
import { lineTest } from '../../../store/search-engine/line-filter.js'
import { matcherFn } from '../../../core/label-match.js'
import type { SampleParams, SelectLogsParams, SelectParams } from '../../../store/select-params.js'

// The questions of store/select-params.ts answered by brute force over the written lines:
// what every store's answer must equal.

export interface Written { tags: StreamTags, e: Entry }

function selected (lines: Written[], p: SelectParams): Written[] {
  const test = lineTest(p.lineFilters)
  const ms = p.matchers.map((m) => ({ name: m.name, f: matcherFn(m) }))
  return lines.filter(({ tags, e }) => {
    const ts = BigInt(e[0])
    if (ts < p.fromNs || ts >= p.toNs) return false
    if (p.org !== undefined && (tags.org ?? '') !== p.org) return false
    const labels: Record<string, string> = { ...streamLabels(tags), stream: e[3], level: lineLevel(e), detected_level: lineLevel(e) }
    if (!ms.every((m) => m.f(labels[m.name] ?? ''))) return false
    return test === null || test(e[2])
  })
}

export function bruteLogs (lines: Written[], p: SelectLogsParams): string[] {
  const out = selected(lines, p).sort((a, b) => {
    const d = BigInt(a.e[0]) - BigInt(b.e[0])
    if (d !== 0n) return d < 0n ? -1 : 1
    if (a.tags.id !== b.tags.id) return a.tags.id < b.tags.id ? -1 : 1
    return a.e[1] - b.e[1]
  })
  if (p.direction === 'backward') out.reverse()
  return out.map(({ tags, e }) => `${e[0]} ${tags.id} ${e[1]} ${e[3]} ${lineLevel(e)} ${e[2]}`)
}

/** Counts per variant and step (not difference arrays): `${stream} ${stdio} ${level}` → [lines, bytes] per step. */
export function bruteSamples (lines: Written[], p: SampleParams): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>()
  for (const { tags, e } of selected(lines, p)) {
    const ts = BigInt(e[0])
    for (let k = 0; k < p.steps; k++) {
      const t = p.startNs + BigInt(k) * p.stepNs
      if (!(ts > t - p.rangeNs && ts <= t)) continue
      const key = `${tags.id} ${e[3]} ${lineLevel(e)}`
      let v = out.get(key)
      if (v === undefined) { v = Array.from({ length: p.steps }, () => [0, 0] as [number, number]); out.set(key, v) }
      v[k]![0] += 1
      v[k]![1] += Buffer.byteLength(e[2])
    }
  }
  return out
}

export function bruteVariants (lines: Written[], p: SelectParams): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>()
  for (const { tags, e } of selected(lines, { ...p, lineFilters: [] })) {
    const key = `${tags.id} ${e[3]} ${lineLevel(e)}`
    const v = out.get(key) ?? [0, 0]
    v[0]++
    v[1] += Buffer.byteLength(e[2])
    out.set(key, v)
  }
  return out
}
