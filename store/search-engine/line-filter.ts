import { compileRegex } from '../../core/regex.js'
import type { LineFilter } from '../select-params.js'
import { REC } from './fields.js'

// Line filters in the engine: a prefilter on the `wildcard`-typed subfield of `message` that
// keeps a superset of the matching lines, then the exact LogQL test on every hit.
//  - `|= "s"`: `*s*` on the subfield; the wildcard field checks its candidates against the
//    stored value, so the answer is exact where every backing index maps the subfield. Where
//    one may not (an index made before this mapping), documents without the subfield are
//    kept too (`must_not exists`), and the exact test decides.
//  - `!= "s"`: `must_not *s*` only where the subfield is known mapped everywhere.
//  - `|~ "re"`: a superset from the literals every match must contain (each alternative of
//    the pattern contributes one); none when an alternative has no literal or the pattern
//    uses flags or quoting whose reach a simple reading cannot bound.
//  - `!~`: nothing pushed.

export interface Prefilter {
  filter: unknown[]
  mustNot: unknown[]
  /** Every clause is exact: the engine's count equals the count of matching lines. */
  exact: boolean
}

export function escapeWildcard (s: string): string {
  return s.replace(/[\\*?]/g, (c) => '\\' + c)
}

function contains (s: string): Record<string, unknown> {
  return { wildcard: { [REC.messageWildcard]: { value: '*' + escapeWildcard(s) + '*' } } }
}

export function prefilter (filters: LineFilter[], wildcardMapped: boolean): Prefilter {
  const filter: unknown[] = []
  const mustNot: unknown[] = []
  let exact = true
  const keepUnmapped = (q: unknown): unknown => wildcardMapped
    ? q
    : { bool: { should: [q, { bool: { must_not: { exists: { field: REC.messageWildcard } } } }], minimum_should_match: 1 } }
  for (const f of filters) {
    if (f.op === '|=') {
      if (f.value === '') continue
      filter.push(keepUnmapped(contains(f.value)))
      if (!wildcardMapped) exact = false
    } else if (f.op === '!=') {
      if (f.value === '') { filter.push({ bool: { must_not: { match_all: {} } } }); continue }
      if (wildcardMapped) mustNot.push(contains(f.value))
      else exact = false
    } else if (f.op === '|~') {
      exact = false
      const lits = requiredLiterals(f.value)
      if (lits === null) continue
      filter.push(keepUnmapped({ bool: { should: lits.map(contains), minimum_should_match: 1 } }))
    } else {
      exact = false
    }
  }
  return { filter, mustNot, exact }
}

/**
 * For an RE2 pattern (unanchored, as line filters are), literals such that every match
 * contains at least one of them; null when no such set is certain.
 */
export function requiredLiterals (re: string): string[] | null {
  // Flags and \Q…\E change how the rest reads; do not try.
  if (/\\Q|\(\?(?![:P<])/.test(re)) return null
  const branches = topLevelBranches(re)
  if (branches === null) return null
  const out: string[] = []
  for (const b of branches) {
    const lit = longestRun(b)
    if (lit === null || lit === '') return null
    out.push(lit)
  }
  return out
}

/** The pattern split at `|` outside groups and classes; null when brackets do not balance. */
function topLevelBranches (re: string): string[] | null {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < re.length; i++) {
    const c = re[i]
    if (c === '\\') { i++; continue }
    if (c === '[') {
      const end = classEnd(re, i)
      if (end < 0) return null
      i = end
      continue
    }
    if (c === '(') depth++
    else if (c === ')') { depth--; if (depth < 0) return null }
    else if (c === '|' && depth === 0) { out.push(re.slice(start, i)); start = i + 1 }
  }
  if (depth !== 0) return null
  out.push(re.slice(start))
  return out
}

/** Index of the `]` closing the class opened at `i`, or -1. */
function classEnd (re: string, i: number): number {
  let j = i + 1
  if (re[j] === '^') j++
  if (re[j] === ']') j++
  for (; j < re.length; j++) {
    if (re[j] === '\\') { j++; continue }
    if (re[j] === '[' && re[j + 1] === ':') { const k = re.indexOf(':]', j + 2); if (k < 0) return -1; j = k + 1; continue }
    if (re[j] === ']') return j
  }
  return -1
}

const QUANT = new Set(['*', '+', '?', '{'])
/** Escapes that stand for one literal character. */
const PUNCT_ESCAPE = /^[\\.+*?()|[\]{}^$\-/#&~ "'`!@%=:;,<>]$/

/** The longest run of characters a branch must contain in sequence (outside groups). */
function longestRun (b: string): string | null {
  let best = ''
  let run = ''
  const end = () => { if (run.length > best.length) best = run; run = '' }
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    let lit: string | null = null
    let next = i + 1
    if (c === '\\') {
      const e = b[i + 1]
      if (e === undefined) return null
      if (PUNCT_ESCAPE.test(e)) lit = e
      next = i + 2
    } else if (c === '[') {
      const k = classEnd(b, i)
      if (k < 0) return null
      next = k + 1
    } else if (c === '(') {
      // Skip the whole group: what is inside may be optional or alternated.
      let depth = 0
      let j = i
      for (; j < b.length; j++) {
        if (b[j] === '\\') { j++; continue }
        if (b[j] === '[') { const k = classEnd(b, j); if (k < 0) return null; j = k; continue }
        if (b[j] === '(') depth++
        else if (b[j] === ')') { depth--; if (depth === 0) break }
      }
      next = j + 1
    } else if (c === '.' || c === '^' || c === '$' || c === ')' || c === '|') {
      lit = null
    } else if (QUANT.has(c)) {
      lit = null
      if (c === '{') { const k = b.indexOf('}', i); next = k < 0 ? b.length : k + 1 }
    } else {
      lit = c
    }
    // A quantifier after an atom makes it optional or repeated: the atom ends the run.
    const q = b[next]
    if (lit !== null && q !== undefined && QUANT.has(q)) lit = null
    if (lit === null) {
      end()
    } else {
      run += lit
    }
    i = next - 1
  }
  end()
  return best
}

/** The exact LogQL test of every line filter, in order. */
export function lineTest (filters: LineFilter[]): ((line: string) => boolean) | null {
  if (filters.length === 0) return null
  const tests = filters.map((f): (l: string) => boolean => {
    switch (f.op) {
      case '|=': return (l) => l.includes(f.value)
      case '!=': return (l) => !l.includes(f.value)
      case '|~': { const re = compileRegex(f.value, false); return (l) => re.test(l) }
      default: { const re = compileRegex(f.value, false); return (l) => !re.test(l) }
    }
  })
  return (l) => {
    for (const t of tests) if (!t(l)) return false
    return true
  }
}
