import { IDENTITY_TAGS } from '../../core/record.js'

/** Which identity tag each label name fills, first match in list order wins. */
export type IdentityRules = Record<typeof IDENTITY_TAGS[number], string[]>

/** Loki's usual label names (Promtail/Alloy Kubernetes discovery, pino-loki, OTLP's service_name). */
export const DEFAULT_LOKI_RULES: IdentityRules = {
  deployment: ['namespace'],
  job: ['app', 'job', 'service_name'],
  index: ['pod', 'instance'],
  process: ['container']
}

export interface LabelIdentity {
  deployment: string
  job: string
  index: string
  process: string
  /** Labels no rule used: kept as the stream's own labels. */
  labels: Record<string, string>
}

/**
 * A sender's label set → daytwo's identity tags by `rules`; a label a rule used is not kept a
 * second time as a stream label. A missing identity part is '' (the query shows it as absent).
 */
export function identityFromLabels (labels: Record<string, string>, rules: IdentityRules = DEFAULT_LOKI_RULES): LabelIdentity {
  const used = new Set<string>()
  const pick = (names: string[]): string => {
    for (const n of names) {
      const v = labels[n]
      if (v !== undefined && v !== '') { used.add(n); return v }
    }
    return ''
  }
  const id = { deployment: pick(rules.deployment), job: pick(rules.job), index: pick(rules.index), process: pick(rules.process) }
  const rest: Record<string, string> = {}
  for (const [k, v] of Object.entries(labels)) if (!used.has(k)) rest[k] = v
  return { ...id, labels: rest }
}
