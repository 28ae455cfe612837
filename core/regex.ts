import { RE2JS } from 're2js'
import { DaytwoError } from './errors.js'

// LogQL regexes (line filters, label matchers) come from users and are RE2, as in Loki: Go's
// regexp syntax and linear-time matching. They run on re2js, a JavaScript port of RE2J, so a
// pattern that would backtrack for minutes on V8's engine (`(?i)a*a*b` on a long line of
// `a`) takes time proportional to the line, and patterns RE2 cannot express (backreferences,
// lookaround, repeat counts over 1000) are refused with Go's own error text, as Loki refuses
// them. re2js is pure JavaScript: measured in bench/regex.bench.ts, it is one to twenty times slower
// than V8's backtracking engine on ordinary patterns, and twenty to forty times faster than RE2
// compiled to WebAssembly (re2-wasm), which copies every line into its heap as UTF-8.
//
// Two shortcuts keep common filters near V8's speed without giving up linear time: a plain
// literal is searched with indexOf, and every other pattern is first screened by the literals
// any match must contain (indexOf again), so the regex runs only on lines that can match.

/** A compiled LogQL regex. */
export interface LineRegex {
  /** Whether the pattern matches anywhere in `s` (or all of it, when compiled anchored). */
  test (s: string): boolean
}

/** Largest compiled regex accepted, in RE2 instructions. */
export const MAX_PROGRAM_SIZE = 1100

const cache = new Map<string, LineRegex>()
const CACHE_MAX = 1000

/**
 * Compile an RE2 pattern. `anchored` matches the whole string, as Loki's label matchers do
 * (`^(?:…)$`); unanchored finds it anywhere, as line filters do. Throws DAYTWO_ERR_BAD_LOGQL
 * for a pattern RE2 refuses.
 */
export function compileRegex (src: string, anchored: boolean): LineRegex {
  const key = (anchored ? 'a' : 'u') + src
  let re = cache.get(key)
  if (re !== undefined) return re
  re = build(src, anchored)
  if (cache.size >= CACHE_MAX) cache.clear()
  cache.set(key, re)
  return re
}

function build (src: string, anchored: boolean): LineRegex {
  let compiled: RE2JS
  try {
    compiled = RE2JS.compile(src)
  } catch (err) {
    throw new DaytwoError('BAD_LOGQL', `invalid regex ${JSON.stringify(src)}: ${(err as Error).message}${hint(src)}`)
  }
  // Linear in the line, but with the program's size as factor when RE2 falls back from its
  // DFA: `(a|b)` repeated 1 500 times costs ~0.7 s per line of 2 000 characters. Patterns
  // bigger than MAX_PROGRAM_SIZE instructions (`a{1000}` still fits) are refused.
  if (compiled.programSize() > MAX_PROGRAM_SIZE) {
    throw new DaytwoError('BAD_LOGQL', `invalid regex ${JSON.stringify(src.length > 80 ? src.slice(0, 80) + '…' : src)}: pattern too large (${compiled.programSize()} instructions; at most ${MAX_PROGRAM_SIZE})`)
  }
  const literal = literalOf(src)
  if (literal !== null) return anchored ? { test: (s) => s === literal } : { test: (s) => s.includes(literal) }
  const needles = requiredLiterals(src)
  if (anchored) return screened(needles, (s) => compiled.testExact(s))
  return screened(needles, (s) => compiled.test(s))
}

function screened (needles: string[], run: (s: string) => boolean): LineRegex {
  if (needles.length === 0) return { test: run }
  if (needles.length === 1) {
    const n = needles[0]!
    return { test: (s) => s.includes(n) && run(s) }
  }
  return {
    test: (s) => {
      for (const n of needles) if (!s.includes(n)) return false
      return run(s)
    }
  }
}

/** Why a pattern valid in JavaScript fails here, for the error message. */
function hint (src: string): string {
  if (/\(\?<?[=!]/.test(src)) return ' (RE2, which LogQL uses, has no lookahead or lookbehind)'
  if (/\\[1-9]/.test(src)) return ' (RE2, which LogQL uses, has no backreferences)'
  return ''
}

// ASCII punctuation: RE2 lets any of it be escaped to stand for itself.
const PUNCT = /^[!-/:-@[-`{-~]$/
// Escapes two characters long that are not literals (classes, assertions, control characters).
const ONE_CHAR_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'A', 'z', 'n', 't', 'r', 'f', 'v', 'a'])
const META = new Set(['.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\'])

/**
 * The exact string a pattern matches when it is a plain literal (`error`, `GET /api\.v1`),
 * else null. A match of the pattern is then exactly an occurrence of the string.
 */
export function literalOf (src: string): string | null {
  let out = ''
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const d = src[i + 1]
      if (d === undefined || !PUNCT.test(d)) return null
      out += d
      i++
      continue
    }
    if (META.has(c) || isSurrogate(c)) return null
    out += c
  }
  return out
}

/**
 * Substrings every match of the pattern contains, so a line (or a block of lines) without
 * one of them cannot match. Conservative: it reads only the top level of the pattern and
 * gives up (returns fewer, or none) on anything it does not follow, such as `|` or flags.
 */
export function requiredLiterals (src: string): string[] {
  const out: string[] = []
  let run = ''
  const flush = () => { if (run.length > 0) out.push(run); run = '' }
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    let atom: string | null // the literal character at i, or null for anything else
    let next: number // index after the atom
    if (c === '\\') {
      const d = src[i + 1]
      if (d === undefined) break
      if (PUNCT.test(d)) atom = d
      else if (ONE_CHAR_ESCAPES.has(d)) atom = null
      else break // \Q…\E, \pL, \x{…}, octal: stop reading here
      next = i + 2
    } else if (c === '(') {
      // A group at the top level: skip to its end (flags like `(?i)` change what follows: stop).
      if (src[i + 1] === '?' && /^\(\?[a-zA-Z-]*\)/.test(src.slice(i))) break
      const end = groupEnd(src, i)
      if (end < 0) break
      atom = null
      next = end + 1
    } else if (c === '[') {
      const end = classEnd(src, i)
      if (end < 0) break
      atom = null
      next = end + 1
    } else if (c === '|') {
      return [] // alternation at the top level: no literal is required
    } else if (META.has(c) || isSurrogate(c)) {
      atom = null
      next = i + 1
    } else {
      atom = c
      next = i + 1
    }
    // A quantifier after the atom: `*`, `?` and `{0…}` make it optional, `+` and `{n…}` end the run after it.
    const q = src[next]
    let optional = false
    let ends = false
    if (q === '*' || q === '?') {
      optional = true
      next++
    } else if (q === '+') {
      ends = true
      next++
    } else if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(src.slice(next))
      if (m) {
        optional = Number(m[1]) === 0
        ends = true
        next += m[0].length
      }
    }
    if (next < src.length && (src[next] === '?')) next++ // lazy quantifier: same requirement
    if (atom === null || optional) {
      flush()
    } else {
      run += atom
      if (ends) flush()
    }
    i = next
  }
  flush()
  return out
}

function isSurrogate (c: string): boolean {
  const code = c.charCodeAt(0)
  return code >= 0xd800 && code <= 0xdfff
}

/** Index of the `)` closing the group opened at `start`, or -1. */
function groupEnd (src: string, start: number): number {
  let depth = 0
  for (let i = start; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') { i++; continue }
    if (c === '[') { i = classEnd(src, i); if (i < 0) return -1; continue }
    if (c === '(') depth++
    else if (c === ')' && --depth === 0) return i
  }
  return -1
}

/** Index of the `]` closing the class opened at `start`, or -1 (a leading `]` or `^]` is a member). */
function classEnd (src: string, start: number): number {
  let i = start + 1
  if (src[i] === '^') i++
  if (src[i] === ']') i++
  for (; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') { i++; continue }
    if (c === '[' && src[i + 1] === ':') {
      const end = src.indexOf(':]', i + 2)
      if (end >= 0) { i = end + 1; continue }
    }
    if (c === ']') return i
  }
  return -1
}
