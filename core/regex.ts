import { setFlagsFromString } from 'node:v8'
import { DaytwoError } from './errors.js'

// LogQL regexes come from users and run on the event loop: a backtracking pattern such as
// `(a+)+$` on a line of many a's would stall the whole query service (RE2, which Loki uses,
// is linear). V8 can re-run a regex on its linear-time engine once it backtracks too much;
// that covers patterns the linear engine supports (no `i` flag, no large counted repetition,
// no backreferences or lookaround). Patterns outside it that nest quantifiers — the shape of
// catastrophic backtracking — are refused.
setFlagsFromString('--enable-experimental-regexp-engine')
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')

// LogQL regexes are RE2. The common subset is the same in JavaScript; RE2's leading `(?i)`
// becomes the `i` flag, and label matchers are anchored at both ends as in Loki.

const cache = new Map<string, RegExp>()

export function compileRegex (src: string, anchored: boolean): RegExp {
  const key = (anchored ? 'a' : 'u') + src
  let re = cache.get(key)
  if (re !== undefined) return re
  let body = src
  let flags = ''
  const m = /^\(\?([a-zA-Z]+)\)/.exec(body)
  if (m) {
    if (m[1] !== 'i') throw new DaytwoError('UNSUPPORTED_LOGQL', `regex flags (?${m[1]}) other than (?i)`)
    flags += 'i'
    body = body.slice(m[0].length)
  }
  if (/\(\?P</.test(body)) body = body.replace(/\(\?P</g, '(?<')
  try {
    re = new RegExp(anchored ? `^(?:${body})$` : body, flags)
  } catch (err) {
    throw new DaytwoError('BAD_LOGQL', `invalid regex ${JSON.stringify(src)}: ${(err as Error).message}`)
  }
  if (!linearCapable(re) && nestedQuantifier(body)) {
    throw new DaytwoError('UNSUPPORTED_LOGQL', `regex ${JSON.stringify(src)} repeats a group that itself repeats or alternates, which can take exponential time here; drop the outer repetition or the (?i)`)
  }
  if (cache.size > 1000) cache.clear()
  cache.set(key, re)
  return re
}

/** Whether V8's linear-time engine can run this regex (then the backtracking fallback protects it). */
function linearCapable (re: RegExp): boolean {
  try {
    // eslint-disable-next-line no-new
    new RegExp(re.source, re.flags + 'l')
    return true
  } catch {
    return false
  }
}

/** A quantified group (`(…)*`, `(…)+`, `(…){n,}`) whose body has a quantifier or an alternation. */
export function nestedQuantifier (src: string): boolean {
  const stack: boolean[] = []
  let closed: boolean | null = null // the group that just closed: was it risky inside?
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    const prevClosed = closed
    closed = null
    if (c === '\\') { i++; continue }
    if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++
      continue
    }
    if (c === '(') { stack.push(false); continue }
    if (c === ')') { closed = stack.pop() ?? false; continue }
    const quantifier = c === '*' || c === '+' || (c === '{' && /^\{\d*,?\d*\}/.test(src.slice(i)))
    if (quantifier || c === '|') {
      if (quantifier && prevClosed === true) return true
      if (stack.length > 0) stack[stack.length - 1] = true
      if (c === '{') i = src.indexOf('}', i)
    }
    // An inner group's risk is its parent's too.
    if (prevClosed === true && stack.length > 0) stack[stack.length - 1] = true
  }
  return false
}
