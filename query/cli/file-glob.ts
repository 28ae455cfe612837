import { basename } from 'node:path'
import { DaytwoError } from '../../core/errors.js'

// `--only` patterns: shell globs on a log file's name (`*.stderr.log`, `router.log`), or on
// `<process>/<file>` when the pattern has a slash (`nginx/*.log`).

function toRegExp (glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end === -1) { re += '\\['; continue }
      let body = glob.slice(i + 1, end)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += '[' + body.replace(/\\/g, '\\\\') + ']'
      i = end
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  try {
    return new RegExp('^' + re + '$')
  } catch {
    // A bracket expression JavaScript cannot take (`[z-a]`): a usage error, not a crash.
    throw new DaytwoError('BAD_QUERY', `only=${JSON.stringify(glob)} is not a valid file-name glob`)
  }
}

/** A predicate over (process, path): true when any pattern matches; every file when none. */
export function fileMatcher (patterns: string[]): (process: string, path: string) => boolean {
  if (patterns.length === 0) return () => true
  const compiled = patterns.map((p) => ({ withDir: p.includes('/'), re: toRegExp(p) }))
  return (process, path) => {
    const file = basename(path)
    return compiled.some((c) => c.re.test(c.withDir ? `${process}/${file}` : file))
  }
}
