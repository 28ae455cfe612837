import { basename } from 'node:path'
import { DaytwoError } from '../core/errors.js'

// `--only` patterns: shell globs on a log file's name (`*.stderr.log`, `router.log`), or on
// `<process>/<file>` when the pattern has a slash (`nginx/*.log`).

// Matched by dynamic programming over (pattern token, name position), not by a regex: a
// pattern is user input, and `*` repeated as a backtracking regex (`[^/]*[^/]*…x`) takes
// exponential time on a name without the `x`. This costs pattern × name steps at most.

type Token = { k: 'star' } | { k: 'one' } | { k: 'lit', c: string } | { k: 'set', negate: boolean, chars: string, ranges: Array<[string, string]> }

function tokenize (glob: string): Token[] {
  const out: Token[] = []
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') { if (out[out.length - 1]?.k !== 'star') out.push({ k: 'star' }); continue }
    if (c === '?') { out.push({ k: 'one' }); continue }
    if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end !== -1) {
        let body = glob.slice(i + 1, end)
        const negate = body.startsWith('!') || body.startsWith('^')
        if (negate) body = body.slice(1)
        let chars = ''
        const ranges: Array<[string, string]> = []
        for (let k = 0; k < body.length; k++) {
          if (k + 2 < body.length && body[k + 1] === '-') {
            if (body[k]! > body[k + 2]!) throw new DaytwoError('BAD_QUERY', `only=${JSON.stringify(glob)} is not a valid file-name glob (range ${body.slice(k, k + 3)} is out of order)`)
            ranges.push([body[k]!, body[k + 2]!])
            k += 2
          } else chars += body[k]
        }
        out.push({ k: 'set', negate, chars, ranges })
        i = end
        continue
      }
    }
    out.push({ k: 'lit', c })
  }
  return out
}

function one (t: Token, c: string): boolean {
  switch (t.k) {
    case 'star': return false
    case 'one': return c !== '/'
    case 'lit': return t.c === c
    case 'set': {
      const hit = t.chars.includes(c) || t.ranges.some(([a, b]) => c >= a && c <= b)
      return c !== '/' && hit !== t.negate
    }
  }
}

function globMatch (tokens: Token[], name: string): boolean {
  const n = name.length
  let prev = new Uint8Array(n + 1)
  let cur = new Uint8Array(n + 1)
  prev[0] = 1
  for (const t of tokens) {
    cur.fill(0)
    if (t.k === 'star') {
      cur[0] = prev[0]!
      for (let j = 1; j <= n; j++) cur[j] = prev[j]! | (cur[j - 1]! & (name[j - 1] !== '/' ? 1 : 0))
    } else {
      for (let j = 1; j <= n; j++) cur[j] = prev[j - 1]! & (one(t, name[j - 1]!) ? 1 : 0)
    }
    const swap = prev
    prev = cur
    cur = swap
  }
  return prev[n] === 1
}

/** A predicate over (process, path): true when any pattern matches; every file when none. */
export function fileMatcher (patterns: string[]): (process: string, path: string) => boolean {
  if (patterns.length === 0) return () => true
  const compiled = patterns.map((p) => ({ withDir: p.includes('/'), tokens: tokenize(p) }))
  return (process, path) => {
    const file = basename(path)
    return compiled.some((c) => globMatch(c.tokens, c.withDir ? `${process}/${file}` : file))
  }
}
