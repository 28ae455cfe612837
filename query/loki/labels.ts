
// Loki labels of daytwo records. The identity and tenant tags are per daytwo stream; `stream`
// (stdout/stderr) and `level` are per line, so one daytwo stream can become several Loki streams.

export type { Labels } from '../../core/stream-labels.js'
export { serviceName, streamLabels } from '../../core/stream-labels.js'
import { PER_LINE_LABELS, type Labels } from '../../core/stream-labels.js'

/** Labels that differ line by line (core/stream-labels.ts). */
export const LINE_LABELS = [...PER_LINE_LABELS]

// A line's level is found once, by core/level.ts, where the line enters the store.
export { detectLevel, syslogSeverityLevel as severityLevel } from '../../core/level.js'

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
