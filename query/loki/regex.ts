import { DaytwoError } from '../../core/errors.js'

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
  if (cache.size > 1000) cache.clear()
  cache.set(key, re)
  return re
}
