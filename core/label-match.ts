import { compileRegex } from './regex.js'

// Whether a label matcher accepts a value: a missing label is the empty string and regexes
// are anchored at both ends, as in Loki.

export type MatchOp = '=' | '!=' | '=~' | '!~'

export function matcherFn (m: { op: MatchOp, value: string }): (v: string) => boolean {
  switch (m.op) {
    case '=': return (v) => v === m.value
    case '!=': return (v) => v !== m.value
    case '=~': { const re = compileRegex(m.value, true); return (v) => re.test(v) }
    case '!~': { const re = compileRegex(m.value, true); return (v) => !re.test(v) }
  }
}
