import { matcherFn } from '../../core/label-match.js'
import { LEVELS } from '../../core/level.js'
import { PER_LINE_LABELS, streamLabels } from '../../core/stream-labels.js'
import type { StreamInfo } from '../log-store.js'
import type { LabelMatcher } from '../select-params.js'
import { STREAMS, nsToIsoClamped } from './fields.js'

// A selector's matchers, split the way the engine can use them:
//  - stream labels: a filter on the streams index (one document per stream) that keeps a
//    superset of the matching streams, then the exact test on each stream's Loki labels (so
//    RE2 regexes and derived labels keep their exact meaning whatever the engine's regexp
//    dialect is);
//  - per-line labels (`stream`, `level`, `detected_level`): they take few values, so each
//    becomes the set of allowed values, pushed down as `terms` on the records.
// A missing label is the empty string; regexes are anchored at both ends, as in Loki.

/** stdio values as stored: none (no `stream` field), stdout, stderr. */
export const STDIOS = ['', 'stdout', 'stderr'] as const
/** Stream labels that are keyword fields of the streams index under the same name. */
const MAPPED = new Set(['deployment', 'job', 'index', 'process', 'org', 'space', 'app', 'namespace', 'node'])
/** Characters that mean nothing special in an RE2 pattern (so `a|b` is a set of literals). */
const LITERAL = /^[A-Za-z0-9_\-./:@ ,;=#%&'"~<>]*$/

export interface CompiledSelector {
  /** Clauses for the streams index: a superset of the streams the selector matches. */
  streamsFilter: unknown[]
  streamsMustNot: unknown[]
  /** The exact test on a stream's labels (and the tenant's org). */
  matches (s: StreamInfo): boolean
  /** Allowed stdio values and levels; `all*` when no matcher narrows them. */
  stdio: string[]
  levels: string[]
  allStdio: boolean
  allLevels: boolean
  /** No line can match (e.g. `{stream="none"}`). */
  empty: boolean
}

/** The alternatives of an anchored regex made only of literals (`a|b|c`), or null. */
function literalAlternatives (re: string): string[] | null {
  const alts = re.split('|')
  return alts.every((a) => LITERAL.test(a)) ? alts : null
}

export function compileSelector (matchers: LabelMatcher[], org: string | undefined): CompiledSelector {
  const filter: unknown[] = []
  const mustNot: unknown[] = []
  const streamTests: Array<{ name: string, test: (v: string) => boolean }> = []
  const stdioTests: Array<(v: string) => boolean> = []
  const levelTests: Array<(v: string) => boolean> = []
  for (const m of matchers) {
    const test = matcherFn(m)
    if (m.name === 'stream') { stdioTests.push(test); continue }
    if (m.name === 'level' || m.name === 'detected_level') { levelTests.push(test); continue }
    if (PER_LINE_LABELS.has(m.name)) continue
    streamTests.push({ name: m.name, test })
    if (!MAPPED.has(m.name)) continue
    // Pushed only where the engine's answer is certainly a superset: an empty value may be a
    // missing field, which `term` does not find, so those stay with the exact test alone.
    if (m.op === '=' && m.value !== '') filter.push({ term: { [m.name]: m.value } })
    else if (m.op === '!=' && m.value !== '') mustNot.push({ term: { [m.name]: m.value } })
    else if (m.op === '=~' || m.op === '!~') {
      const alts = literalAlternatives(m.value)
      if (alts === null || alts.includes('')) continue
      if (m.op === '=~') filter.push({ terms: { [m.name]: alts } })
      else mustNot.push({ terms: { [m.name]: alts } })
    }
  }
  if (org !== undefined) {
    if (org === '') mustNot.push({ exists: { field: 'org' } })
    else filter.push({ term: { org } })
  }
  const stdio = STDIOS.filter((s) => stdioTests.every((t) => t(s)))
  const levels = LEVELS.filter((l) => levelTests.every((t) => t(l)))
  return {
    streamsFilter: filter,
    streamsMustNot: mustNot,
    matches: (s) => {
      if (org !== undefined && (s.org ?? '') !== org) return false
      if (streamTests.length === 0) return true
      const labels = streamLabels(s) as Record<string, string>
      return streamTests.every((t) => t.test(labels[t.name] ?? ''))
    },
    stdio,
    levels,
    allStdio: stdio.length === STDIOS.length,
    allLevels: levels.length === LEVELS.length,
    empty: stdio.length === 0 || levels.length === 0
  }
}

/**
 * The streams-index query for a selector over [fromNs, toNs): streams first seen before the
 * end whose last line (as last written, which lags by up to the flush interval) is not before
 * the start less `slackNs`.
 */
export function streamsQuery (sel: CompiledSelector, fromNs: bigint, toNs: bigint, slackNs: bigint): Record<string, unknown> {
  const filter: unknown[] = [...sel.streamsFilter]
  filter.push({ range: { [STREAMS.firstSeen]: { lt: nsToIsoClamped(toNs), format: 'strict_date_optional_time_nanos' } } })
  filter.push({
    bool: {
      should: [
        { range: { [STREAMS.lastTs]: { gte: nsToIsoClamped(fromNs - slackNs), format: 'strict_date_optional_time_nanos' } } },
        // Written before last_ts was mapped: keep.
        { bool: { must_not: { exists: { field: STREAMS.lastTs } } } }
      ],
      minimum_should_match: 1
    }
  })
  return { bool: { filter, ...(sel.streamsMustNot.length > 0 ? { must_not: sel.streamsMustNot } : {}) } }
}

/** Records-index clauses for the per-line matchers (none when every value is allowed). */
export function perLineFilter (sel: CompiledSelector): unknown[] {
  const out: unknown[] = []
  if (!sel.allStdio) {
    const named = sel.stdio.filter((s) => s !== '')
    const should: unknown[] = []
    if (named.length > 0) should.push({ terms: { stream: named } })
    if (sel.stdio.includes('')) should.push({ bool: { must_not: { exists: { field: 'stream' } } } })
    out.push({ bool: { should, minimum_should_match: 1 } })
  }
  if (!sel.allLevels) out.push({ terms: { 'log.level': sel.levels } })
  return out
}
