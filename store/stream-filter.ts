import { matcherFn } from '../core/label-match.js'
import { LEVELS } from '../core/level.js'
import { PER_LINE_LABELS, streamLabels, type Labels } from '../core/stream-labels.js'
import type { StreamInfo, StreamSelector } from './log-store.js'
import type { LabelMatcher } from './select-params.js'

// A selector compiled for a store: the equality conditions a store's index can take, a test of
// a stream's labels for the rest, and the per-line labels a line may have. Per-line labels
// take few values (three stdio values, the levels of core/level.ts), so their matchers become
// sets of allowed values once per query, and a line is tested by set membership.

/** stdio values as stored: none, stdout, stderr. */
export const STDIOS = ['', 'stdout', 'stderr'] as const

const STORE_KEYS: Record<string, keyof StreamSelector> = { deployment: 'deployment', job: 'job', index: 'index', process: 'process', org: 'org' }

export interface CompiledSelector {
  /** Equality conditions for the store's own index; `null` when the selector can match nothing. */
  equals: StreamSelector | null
  /** Whether a stream's labels satisfy every stream-label matcher. */
  matches (s: StreamInfo): boolean
  /** Allowed stdio values and levels (by index in STDIOS / LEVELS). */
  stdio: boolean[]
  level: boolean[]
  /** Whether every stdio and every level is allowed (no per-line matcher narrows them). */
  allLines: boolean
}

export function compileSelector (matchers: LabelMatcher[], org: string | undefined): CompiledSelector {
  let equals: StreamSelector | null = {}
  const put = (key: keyof StreamSelector, v: string) => {
    if (equals === null) return
    const had = equals[key]
    if (had !== undefined && had !== v) equals = null
    else (equals as Record<string, string>)[key] = v
  }
  for (const m of matchers) {
    const key = STORE_KEYS[m.name]
    if (key !== undefined && m.op === '=') {
      // `{org=""}` means "no org": stores keep that as the empty string too.
      put(key, m.value)
    }
  }
  if (org !== undefined) put('org', org)
  const streamTests: Array<{ name: string, test: (v: string) => boolean }> = []
  const stdioTests: Array<(v: string) => boolean> = []
  const levelTests: Array<(v: string) => boolean> = []
  for (const m of matchers) {
    const test = matcherFn(m)
    if (m.name === 'stream') stdioTests.push(test)
    else if (m.name === 'level' || m.name === 'detected_level') levelTests.push(test)
    else if (!PER_LINE_LABELS.has(m.name)) streamTests.push({ name: m.name, test })
  }
  const stdio = STDIOS.map((s) => stdioTests.every((t) => t(s)))
  const level = LEVELS.map((l) => levelTests.every((t) => t(l)))
  return {
    equals,
    matches: (s) => {
      if (org !== undefined && (s.org ?? '') !== org) return false
      if (streamTests.length === 0) return true
      const labels: Labels = streamLabels(s)
      return streamTests.every((t) => t.test(labels[t.name] ?? ''))
    },
    stdio,
    level,
    allLines: stdio.every(Boolean) && level.every(Boolean)
  }
}

export function stdioIndex (s: string): number {
  return s === '' ? 0 : s === 'stdout' ? 1 : s === 'stderr' ? 2 : 0
}
