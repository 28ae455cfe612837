// The LogQL subset daytwo answers, as a syntax tree. Anything outside it is refused by the
// parser with a 400, never answered approximately.

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface Matcher { name: string, op: MatchOp, value: string }

export type LineFilterOp = '|=' | '!=' | '|~' | '!~'

export type LabelFilterOp = '=' | '!=' | '=~' | '!~' | '==' | '>' | '>=' | '<' | '<='

export type Stage =
  | { kind: 'line', op: LineFilterOp, value: string }
  /** `|> "a <_> b" or "…"` (any pattern matches) and `!> "…"` (none does): Loki's pattern filters. */
  | { kind: 'pattern', negate: boolean, patterns: string[] }
  | { kind: 'json' }
  | { kind: 'logfmt' }
  | { kind: 'label', filters: Array<{ name: string, op: LabelFilterOp, value: string | number }> }
  | { kind: 'drop', names: string[] }

export interface LogExpr { kind: 'log', matchers: Matcher[], stages: Stage[] }

export type RangeFn = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate'
export type AggOp = 'sum' | 'count' | 'avg' | 'min' | 'max'
export type BinOp = '+' | '-' | '*' | '/' | '%'

export interface Grouping { mode: 'by' | 'without', labels: string[] }

export type MetricExpr =
  | { kind: 'range', fn: RangeFn, log: LogExpr, rangeNs: bigint }
  | { kind: 'agg', op: AggOp, grouping: Grouping | null, expr: MetricExpr }
  | { kind: 'binary', op: BinOp, left: MetricExpr, right: MetricExpr }
  | { kind: 'number', value: number }
  | { kind: 'vector', value: number }

export type Expr = LogExpr | MetricExpr

export function isLogExpr (e: Expr): e is LogExpr {
  return e.kind === 'log'
}
