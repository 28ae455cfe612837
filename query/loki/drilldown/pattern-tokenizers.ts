import { leadingJsonObject } from '../pipeline.js'

// How Loki's pattern ingester cuts a line into tokens for Drain and joins a cluster's tokens
// back into a pattern (grafana/loki pkg/pattern/drain/line_tokenizer.go), per log format,
// detected from a stream's first line (`DetectLogFormat`): JSON lines are clustered on their
// message field, logfmt lines on their key/value pairs, others on words and punctuation.

export const PARAM = '<_>'
/** Lines longer than this are not clustered (Loki's MaxAllowedLineLength). */
export const MAX_LINE_LENGTH = 3000

export interface Tokenized { tokens: string[], state: number[] | null }

export interface Tokenizer {
  /** The tokens of a line, or null when it is not clustered. */
  tokenize: (line: string) => Tokenized | null
  join: (tokens: string[], state: number[] | null) => string
}

export type LogFormat = 'json' | 'logfmt' | 'unknown'

const LOGFMT_LINE = /^(\w+?=([^"]\S*?|".+?") )*?(\w+?=([^"]\S*?|".+?"))+$/

export function detectLogFormat (line: string): LogFormat {
  if (line.length < 2) return 'unknown'
  if (line[0] === '{' && line[line.length - 1] === '}') return 'json'
  return LOGFMT_LINE.test(line) ? 'logfmt' : 'unknown'
}

export function tokenizerFor (format: LogFormat): Tokenizer {
  return format === 'json' ? json : format === 'logfmt' ? logfmt : punctuation
}

// Letters, digits and `_ - . : /` stay inside a token; a space or other punctuation ends one,
// and punctuation (and `=`) is a token of its own. Where the spaces were is kept, to join back.
const KEEP = /[\p{L}\p{N}_\-.:/]/u
const PUNCT = /[\p{P}=]/u

const punctuation: Tokenizer = {
  tokenize (line) {
    if (line.length > MAX_LINE_LENGTH) return null
    const tokens: string[] = []
    const spacesAfter: number[] = []
    let start = 0
    let i = 0
    for (const ch of line) {
      const at = i
      i += ch.length
      if (tokens.length >= 127) break
      if (KEEP.test(ch)) continue
      if (ch === ' ' || PUNCT.test(ch)) {
        if (at > start) tokens.push(line.slice(start, at))
        if (ch === ' ') spacesAfter.push(tokens.length - 1)
        else tokens.push(ch)
        start = i
      }
    }
    if (start < line.length) tokens.push(line.slice(start))
    return { tokens, state: spacesAfter }
  },
  join (tokens, state) {
    let s = ''
    let k = 0
    const spaces = state ?? []
    for (let i = 0; i < tokens.length; i++) {
      s += tokens[i]
      while (k < spaces.length && spaces[k] === i) { s += ' '; k++ }
    }
    return s
  }
}

/** Keys whose values are always variable, so never part of a pattern (Loki's isVariableField). */
function variableKey (k: string): boolean {
  const l = k.toLowerCase()
  return l === 'ts' || k === 't' || l === 'traceid' || l === 'time' || l === 'timestamp'
}

const PAIR = /([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?/g

const logfmt: Tokenizer = {
  tokenize (line) {
    if (line.length > MAX_LINE_LENGTH) return null
    const tokens: string[] = []
    for (const m of line.matchAll(PAIR)) {
      let v = m[2] ?? ''
      if (v.startsWith('"')) {
        try { v = JSON.parse(v) as string } catch { return null }
      }
      tokens.push(m[1]!, variableKey(m[1]!) ? PARAM : v)
    }
    return { tokens, state: null }
  },
  join (tokens) {
    const parts: string[] = []
    for (let i = 0; i < tokens.length; i += 2) parts.push(`${tokens[i]}=${logfmtValue(tokens[i + 1] ?? '')}`)
    return parts.join(' ')
  }
}

/** A value as go-logfmt writes it: quoted when it holds a space, `=`, `"` or a control character. */
function logfmtValue (v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\s="\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : v
}

/** The message fields a JSON line is clustered on, first found wins (Loki's default list). */
const MESSAGE_FIELDS = ['log', 'message', 'msg', 'msg_', '_msg', 'content']

const json: Tokenizer = {
  tokenize (line) {
    const o = leadingJsonObject(line)
    if (o === undefined) return null
    for (const k of MESSAGE_FIELDS) {
      const v = o[k]
      if (typeof v === 'string') return v.length > MAX_LINE_LENGTH ? null : punctuation.tokenize(v)
    }
    return null
  },
  join (tokens, state) {
    return PARAM + punctuation.join(tokens, state) + PARAM
  }
}

/** Runs of placeholders become one, as Loki's DedupingTokenizer does. */
export function dedupePlaceholders (pattern: string): string {
  return pattern.includes(PARAM + PARAM) ? pattern.replace(/(?:<_>){2,}/g, PARAM) : pattern
}
