import { DaytwoError } from '../../core/errors.js'

// Tokens of LogQL: identifiers, strings ("…" with Go escapes, `…` raw), numbers, durations
// (`5m`, `1m30s`), and operators. Positions are kept for Loki-style error messages.

export type TokenKind = 'ident' | 'string' | 'number' | 'duration' | 'op' | 'eof'

export interface Token { kind: TokenKind, text: string, pos: number }

const OPS = ['|>', '!>', '|=', '|~', '!=', '!~', '=~', '==', '>=', '<=', '=', '>', '<', '|', '{', '}', '(', ')', '[', ']', ',', '+', '-', '*', '/', '%', '!']
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+/
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
const IDENT = /^[a-zA-Z_][a-zA-Z0-9_]*/

export function parseError (text: string, pos: number, why: string): DaytwoError {
  let line = 1
  let col = 1
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text[i] === '\n') { line++; col = 1 } else col++
  }
  return new DaytwoError('BAD_LOGQL', `parse error at line ${line}, col ${col}: ${why}`)
}

export function tokenize (src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (c === '#') { // comment to end of line
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    const rest = src.slice(i)
    if (c === '"') {
      let j = i + 1
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1
      if (j >= src.length) throw parseError(src, i, 'unterminated string')
      const raw = src.slice(i, j + 1)
      let value: string
      try {
        value = JSON.parse(raw.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string
      } catch {
        throw parseError(src, i, `invalid string ${raw}`)
      }
      out.push({ kind: 'string', text: value, pos: i })
      i = j + 1
      continue
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1)
      if (j === -1) throw parseError(src, i, 'unterminated raw string')
      out.push({ kind: 'string', text: src.slice(i + 1, j), pos: i })
      i = j + 1
      continue
    }
    let m = DURATION.exec(rest)
    if (m && !/^[a-zA-Z0-9_]/.test(rest.slice(m[0].length))) {
      out.push({ kind: 'duration', text: m[0], pos: i })
      i += m[0].length
      continue
    }
    m = NUMBER.exec(rest)
    if (m) {
      out.push({ kind: 'number', text: m[0], pos: i })
      i += m[0].length
      continue
    }
    m = IDENT.exec(rest)
    if (m) {
      out.push({ kind: 'ident', text: m[0], pos: i })
      i += m[0].length
      continue
    }
    const op = OPS.find((o) => rest.startsWith(o))
    if (op === undefined) throw parseError(src, i, `unexpected character ${JSON.stringify(c)}`)
    out.push({ kind: 'op', text: op, pos: i })
    i += op.length
  }
  out.push({ kind: 'eof', text: '', pos: src.length })
  return out
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n, us: 1000n, µs: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n,
  h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n, y: 31_536_000_000_000_000n
}

/** A Prometheus/Go duration (`1m30s`, `1.5h`) in ns. */
export function durationNs (text: string): bigint {
  let total = 0n
  for (const m of text.matchAll(/(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h|d|w|y)/g)) {
    const unit = UNIT_NS[m[3]!]!
    const frac = m[2] ?? ''
    const scale = 10n ** BigInt(frac.length)
    total += (BigInt(m[1]!) * scale + BigInt(frac || '0')) * unit / scale
  }
  return total
}
