import { DaytwoError } from '../../core/errors.js'
import type { AggOp, BinOp, Expr, Grouping, LabelFilterOp, LineFilterOp, LogExpr, MatchOp, Matcher, MetricExpr, RangeFn, Stage } from './ast.js'
import { durationNs, parseError, tokenize, type Token } from './lexer.js'
import { compileRegex } from '../../core/regex.js'

// A recursive-descent parser for the LogQL subset in ast.ts. Unsupported LogQL (valid in Loki
// but not answered here) throws DAYTWO_ERR_UNSUPPORTED_LOGQL; malformed text throws
// DAYTWO_ERR_BAD_LOGQL with Loki's "parse error at line L, col C" wording. Both are 400s.

const RANGE_FNS = new Set<string>(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate'])
const AGG_OPS = new Set<string>(['sum', 'count', 'avg', 'min', 'max'])
// Valid LogQL we deliberately refuse, so the error says "not supported" rather than "syntax".
const KNOWN_UNSUPPORTED = new Set<string>([
  'avg_over_time', 'sum_over_time', 'min_over_time', 'max_over_time', 'stddev_over_time', 'stdvar_over_time',
  'quantile_over_time', 'first_over_time', 'last_over_time', 'absent_over_time', 'rate_counter',
  'topk', 'bottomk', 'stddev', 'stdvar', 'sort', 'sort_desc', 'label_replace',
  'regexp', 'pattern', 'unpack', 'line_format', 'label_format', 'unwrap', 'keep', 'decolorize', 'distinct', 'offset'
])
const LABEL_OPS = new Set<string>(['=', '!=', '=~', '!~', '==', '>', '>=', '<', '<='])

function unsupported (what: string): DaytwoError {
  return new DaytwoError('UNSUPPORTED_LOGQL', what)
}

class Parser {
  private i = 0
  private rangeAggregations = 0
  constructor (private readonly src: string, private readonly toks: Token[], private readonly maxRangeAggregations: number) {}

  private peek (k = 0): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]! }
  private next (): Token { return this.toks[Math.min(this.i++, this.toks.length - 1)]! }
  private isOp (text: string, k = 0): boolean { const t = this.peek(k); return t.kind === 'op' && t.text === text }
  private isIdent (text: string, k = 0): boolean { const t = this.peek(k); return t.kind === 'ident' && t.text === text }

  fail (why: string, t: Token = this.peek()): DaytwoError {
    return parseError(this.src, t.pos, why)
  }

  private describe (t: Token): string {
    return t.kind === 'eof' ? 'end of input' : t.kind === 'string' ? `string ${JSON.stringify(t.text)}` : JSON.stringify(t.text)
  }

  private expectOp (text: string): Token {
    const t = this.next()
    if (t.kind !== 'op' || t.text !== text) throw this.fail(`syntax error: unexpected ${this.describe(t)}, expecting ${text}`, t)
    return t
  }

  private expectKind (kind: Token['kind'], what: string): Token {
    const t = this.next()
    if (t.kind !== kind) throw this.fail(`syntax error: unexpected ${this.describe(t)}, expecting ${what}`, t)
    return t
  }

  parse (): Expr {
    const e: Expr = this.isOp('{') ? this.logExpr() : this.metricExpr()
    const t = this.peek()
    if (t.kind !== 'eof') {
      if (t.kind === 'ident' && KNOWN_UNSUPPORTED.has(t.text)) throw unsupported(t.text)
      throw this.fail(`syntax error: unexpected ${this.describe(t)}`, t)
    }
    return e
  }

  logExpr (): LogExpr {
    const matchers = this.selector()
    const stages: Stage[] = []
    for (;;) {
      const t = this.peek()
      if (t.kind !== 'op') break
      if (t.text === '|=' || t.text === '!=' || t.text === '|~' || t.text === '!~') {
        this.next()
        const v = this.expectKind('string', 'string')
        if (this.isIdent('or')) throw unsupported('`or` in line filters')
        if (t.text === '|~' || t.text === '!~') compileRegex(v.text, false)
        stages.push({ kind: 'line', op: t.text as LineFilterOp, value: v.text })
        continue
      }
      if (t.text !== '|') break
      this.next()
      stages.push(this.stage())
    }
    return { kind: 'log', matchers, stages }
  }

  private selector (): Matcher[] {
    this.expectOp('{')
    const matchers: Matcher[] = []
    if (!this.isOp('}')) {
      for (;;) {
        const name = this.expectKind('ident', 'label name')
        const op = this.next()
        if (op.kind !== 'op' || !['=', '!=', '=~', '!~'].includes(op.text)) throw this.fail(`syntax error: unexpected ${this.describe(op)}, expecting = or != or =~ or !~`, op)
        const value = this.expectKind('string', 'string')
        if (op.text === '=~' || op.text === '!~') compileRegex(value.text, true)
        matchers.push({ name: name.text, op: op.text as MatchOp, value: value.text })
        if (this.isOp(',')) { this.next(); continue }
        break
      }
    }
    const close = this.expectOp('}')
    if (!matchers.some((m) => !matchesEmpty(m))) {
      throw this.fail('queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will', close)
    }
    return matchers
  }

  private stage (): Stage {
    const t = this.next()
    if (t.kind !== 'ident') throw this.fail(`syntax error: unexpected ${this.describe(t)}, expecting a parser, label filter or drop`, t)
    if (t.text === 'json' || t.text === 'logfmt') {
      if (this.peek().kind === 'ident' && this.isOp('=', 1)) throw unsupported(`${t.text} with parameters`)
      return { kind: t.text }
    }
    if (t.text === 'drop') {
      const names: string[] = []
      for (;;) {
        names.push(this.expectKind('ident', 'label name').text)
        if (LABEL_OPS.has(this.peek().text) && this.peek().kind === 'op') throw unsupported('drop with a matcher')
        if (!this.isOp(',')) break
        this.next()
      }
      return { kind: 'drop', names }
    }
    if (KNOWN_UNSUPPORTED.has(t.text) && !(this.peek().kind === 'op' && LABEL_OPS.has(this.peek().text))) throw unsupported(`| ${t.text}`)
    // A label filter: name op value, joined by `and` or `,`.
    this.i--
    const filters: Array<{ name: string, op: LabelFilterOp, value: string | number }> = []
    for (;;) {
      if (this.isOp('(')) throw unsupported('parenthesised label filters')
      const name = this.expectKind('ident', 'label name')
      const op = this.next()
      if (op.kind !== 'op' || !LABEL_OPS.has(op.text)) throw this.fail(`syntax error: unexpected ${this.describe(op)}, expecting a label filter operator`, op)
      const v = this.next()
      if (v.kind === 'duration') throw unsupported('duration comparisons in label filters')
      if (v.kind === 'ident' && /^\d/.test(v.text)) throw unsupported('byte-size comparisons in label filters')
      let value: string | number
      if (v.kind === 'string') {
        if (!['=', '!=', '=~', '!~'].includes(op.text)) throw this.fail(`syntax error: unexpected ${this.describe(v)}, expecting number`, v)
        if (op.text === '=~' || op.text === '!~') compileRegex(v.text, true)
        value = v.text
      } else if (v.kind === 'number') {
        if (op.text === '=~' || op.text === '!~') throw this.fail(`syntax error: unexpected ${this.describe(v)}, expecting string`, v)
        value = Number(v.text)
      } else {
        throw this.fail(`syntax error: unexpected ${this.describe(v)}, expecting string or number`, v)
      }
      filters.push({ name: name.text, op: op.text as LabelFilterOp, value })
      if (this.isIdent('or')) throw unsupported('`or` in label filters')
      if (this.isIdent('and') || this.isOp(',')) { this.next(); continue }
      break
    }
    return { kind: 'label', filters }
  }

  // metric := term (('+'|'-') term)* ; term := unary (('*'|'/'|'%') unary)*
  metricExpr (): MetricExpr {
    let left = this.term()
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text as BinOp
      this.binModifiers()
      left = { kind: 'binary', op, left, right: this.term() }
    }
    this.noComparison()
    return left
  }

  private term (): MetricExpr {
    let left = this.unary()
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next().text as BinOp
      this.binModifiers()
      left = { kind: 'binary', op, left, right: this.unary() }
    }
    this.noComparison()
    return left
  }

  private noComparison (): void {
    const t = this.peek()
    if (t.kind === 'op' && ['==', '!=', '>', '>=', '<', '<='].includes(t.text)) throw unsupported(`comparison operator ${t.text}`)
    if (t.kind === 'ident' && ['and', 'or', 'unless'].includes(t.text)) throw unsupported(`set operator ${t.text}`)
  }

  private binModifiers (): void {
    const t = this.peek()
    if (t.kind === 'ident' && ['on', 'ignoring', 'bool', 'group_left', 'group_right'].includes(t.text)) throw unsupported(`binary operator modifier ${t.text}`)
  }

  private unary (): MetricExpr {
    const t = this.peek()
    if (t.kind === 'op' && t.text === '(') {
      this.next()
      const e = this.metricExpr()
      this.expectOp(')')
      return e
    }
    if (t.kind === 'op' && t.text === '-' && this.peek(1).kind === 'number') {
      this.next()
      return { kind: 'number', value: -Number(this.next().text) }
    }
    if (t.kind === 'number') { this.next(); return { kind: 'number', value: Number(t.text) } }
    if (t.kind === 'op' && t.text === '{') throw this.fail('syntax error: a log query cannot be used in a metric expression; wrap it in a range aggregation like count_over_time({…}[5m])', t)
    if (t.kind !== 'ident') throw this.fail(`syntax error: unexpected ${this.describe(t)}`, t)
    if (t.text === 'vector') {
      this.next()
      this.expectOp('(')
      const neg = this.isOp('-') ? (this.next(), -1) : 1
      const n = this.expectKind('number', 'number')
      this.expectOp(')')
      return { kind: 'vector', value: neg * Number(n.text) }
    }
    if (RANGE_FNS.has(t.text)) return this.rangeAgg()
    if (AGG_OPS.has(t.text)) return this.vectorAgg()
    if (KNOWN_UNSUPPORTED.has(t.text)) throw unsupported(t.text)
    throw this.fail(`syntax error: unexpected ${this.describe(t)}`, t)
  }

  private rangeAgg (): MetricExpr {
    const fn = this.next().text as RangeFn
    this.expectOp('(')
    // Both `rate({…} |= "x" [5m])` and `rate(({…} |= "x")[5m])` are LogQL.
    let log: LogExpr
    if (this.isOp('(')) { this.next(); log = this.logExpr(); this.expectOp(')') } else log = this.logExpr()
    this.expectOp('[')
    const d = this.expectKind('duration', 'a duration like 5m')
    this.expectOp(']')
    if (this.isIdent('offset')) throw unsupported('offset')
    if (this.isOp('|')) throw unsupported('unwrap and stages after a range')
    this.expectOp(')')
    if (this.isIdent('by') || this.isIdent('without')) throw unsupported(`${fn} with by/without`)
    const rangeNs = durationNs(d.text)
    if (rangeNs <= 0n) throw this.fail('the range must be greater than zero', d)
    if (++this.rangeAggregations > this.maxRangeAggregations) {
      throw new DaytwoError('BAD_LOGQL', `query has more than ${this.maxRangeAggregations} range aggregations (count_over_time, rate, …); each one reads its own lines, so split the query`)
    }
    return { kind: 'range', fn, log, rangeNs }
  }

  private grouping (): Grouping | null {
    if (!this.isIdent('by') && !this.isIdent('without')) return null
    const mode = this.next().text as 'by' | 'without'
    this.expectOp('(')
    const labels: string[] = []
    while (!this.isOp(')')) {
      labels.push(this.expectKind('ident', 'label name').text)
      if (this.isOp(',')) this.next()
      else break
    }
    this.expectOp(')')
    return { mode, labels }
  }

  private vectorAgg (): MetricExpr {
    const op = this.next().text as AggOp
    let grouping = this.grouping()
    this.expectOp('(')
    if (this.peek().kind === 'number' && this.isOp(',', 1)) throw unsupported(`${op} with a parameter`)
    const expr = this.metricExpr()
    this.expectOp(')')
    const after = this.grouping()
    if (after !== null) {
      if (grouping !== null) throw this.fail('syntax error: by/without given twice')
      grouping = after
    }
    return { kind: 'agg', op, grouping, expr }
  }
}

function matchesEmpty (m: Matcher): boolean {
  if (m.op === '=') return m.value === ''
  if (m.op === '!=') return m.value !== ''
  const re = compileRegex(m.value, true)
  return m.op === '=~' ? re.test('') : !re.test('')
}

/** What one query may cost, checked while parsing. */
export interface QueryCostLimits {
  /** Range aggregations (sub-queries that each read lines) in one expression. */
  maxRangeAggregations?: number
}

/** Range aggregations allowed per query unless the caller says otherwise. */
export const MAX_RANGE_AGGREGATIONS = 32

/** Parse a LogQL query. Throws a 400 DaytwoError on malformed, unsupported or too costly queries. */
export function parseLogQL (src: string, limits: QueryCostLimits = {}): Expr {
  if (src.trim() === '') throw new DaytwoError('BAD_LOGQL', 'query is required')
  const toks = tokenize(src)
  // The parser and the evaluator recurse once per level: refuse what would overflow the stack.
  let depth = 0
  let ops = 0
  for (const t of toks) {
    if (t.kind !== 'op') continue
    if (t.text === '(') depth++
    else if (t.text === ')') depth--
    else if (BINARY_OPS.has(t.text)) ops++
    if (depth > MAX_DEPTH || ops > MAX_DEPTH) throw new DaytwoError('BAD_LOGQL', `query nests deeper than ${MAX_DEPTH} levels or has more than ${MAX_DEPTH} binary operations`)
  }
  return new Parser(src, toks, limits.maxRangeAggregations ?? MAX_RANGE_AGGREGATIONS).parse()
}

const MAX_DEPTH = 256
const BINARY_OPS = new Set(['+', '-', '*', '/', '%', '^', 'or', 'and', 'unless', '==', '!=', '>', '>=', '<', '<='])
