import type { StreamTags } from './record.js'

// The Loki labels of a daytwo stream, one meaning for every store and the query service: a
// store evaluates a selector's matchers on these, and the Loki API answers with them. The
// per-line labels (`stream`, `level`, `detected_level`) come from each line, so one daytwo
// stream can be several Loki streams.

export type Labels = Record<string, string>

/** Labels that vary line by line within one daytwo stream. */
export const PER_LINE_LABELS = new Set(['stream', 'level', 'detected_level'])

export function streamLabels (s: StreamTags): Labels {
  const l: Labels = { deployment: s.deployment, job: s.job, index: s.index, process: s.process }
  if (s.org) l.org = s.org
  if (s.space) l.space = s.space
  if (s.app) l.app = s.app
  if (s.namespace) l.namespace = s.namespace
  if (s.node) l.node = s.node
  return l
}
