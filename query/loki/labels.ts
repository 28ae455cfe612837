
// Loki labels of daytwo records. The identity and tenant tags are per daytwo stream; `stream`
// (stdout/stderr) and `level` are per line, so one daytwo stream can become several Loki streams.

export type { Labels } from '../../core/stream-labels.js'
export { streamLabels } from '../../core/stream-labels.js'
import type { Labels } from '../../core/stream-labels.js'

const LEVELS: Record<string, string> = {
  emerg: 'critical', emergency: 'critical', alert: 'critical', crit: 'critical', critical: 'critical', fatal: 'critical', panic: 'critical',
  err: 'error', eror: 'error', error: 'error',
  warn: 'warn', warning: 'warn',
  info: 'info', inf: 'info', information: 'info', informational: 'info', notice: 'info',
  debug: 'debug', dbg: 'debug',
  trace: 'trace', trc: 'trace'
}

const JSON_LEVEL = /"(?:level|lvl|severity|loglevel|log_level)"\s*:\s*"([A-Za-z]+)"/
const LOGFMT_LEVEL = /(?:^|\s)(?:level|lvl|severity)=("?)([A-Za-z]+)\1(?:\s|$)/
// A level word near the start: `ERROR …`, `[WARN] …`, `2026-11-23 10:00:00 INFO …`, `E1123 …` is not matched.
const PREFIX_LEVEL = /^(?:\S+\s+){0,3}?\[?(EMERG|ALERT|CRIT|CRITICAL|FATAL|PANIC|ERROR|ERR|WARN|WARNING|INFO|NOTICE|DEBUG|TRACE)\]?[\s:]/

/**
 * The level of a line, as Loki's detected_level names them (critical, error, warn, info,
 * debug, trace), from a JSON `level`, a logfmt `level=`, or an upper-case level word near the
 * start; `unknown` otherwise.
 */
export function detectLevel (line: string): string {
  let m: RegExpExecArray | null = null
  if (line.charCodeAt(0) === 0x7b /* { */) m = JSON_LEVEL.exec(line)
  if (m === null && line.includes('=')) m = LOGFMT_LEVEL.exec(line)
  const word = m !== null ? m[m.length - 1]! : PREFIX_LEVEL.exec(line.length > 200 ? line.slice(0, 200) : line)?.[1]
  if (word === undefined) return 'unknown'
  return LEVELS[word.toLowerCase()] ?? 'unknown'
}

const SEVERITY_LEVEL: Record<string, string> = { emerg: 'critical', alert: 'critical', crit: 'critical', err: 'error', warning: 'warn', notice: 'info', info: 'info', debug: 'debug' }

/** A syslog severity name as a Loki level. */
export function severityLevel (severity: string): string {
  return SEVERITY_LEVEL[severity] ?? 'unknown'
}

/** A stable key for a label set (names sorted). */
export function labelsKey (l: Labels): string {
  const names = Object.keys(l).sort()
  let s = ''
  for (const n of names) s += n + '\u0000' + l[n] + '\u0001'
  return s
}

/** Loki's labels string: `{a="x", b="y"}` with names sorted. */
export function labelsString (l: Labels): string {
  return '{' + Object.keys(l).sort().map((n) => `${n}=${JSON.stringify(l[n])}`).join(', ') + '}'
}

/** Sort a label set's names, as Loki returns them. */
export function sortedLabels (l: Labels): Labels {
  const out: Labels = {}
  for (const n of Object.keys(l).sort()) out[n] = l[n]!
  return out
}
