import { z } from 'zod'

/**
 * A tenant ID as Loki takes it in `X-Scope-OrgID` (grafana/dskit tenant/tenant.go
 * ValidTenantID): at most 150 of `A-Za-z0-9!-_.*'()`, and not `.` or `..`.
 */
export const ORG_ID = /^[A-Za-z0-9!\-_.*'()]{1,150}$/

export function validOrgId (s: string): boolean {
  return ORG_ID.test(s) && s !== '.' && s !== '..'
}

/**
 * One entry of collector.tokens: a plain token (authenticates, names no org), or a token with
 * the orgs its pushes may name with `X-Scope-OrgID` (`"*"`: any org). The header is honoured only
 * for these, so the collector, not the sender, decides who may write into an org
 * (collector/receivers/scope-org.ts).
 */
export const collectorTokenSchema = z.union([
  z.string(),
  z.object({
    token: z.string().min(1),
    orgIds: z.array(z.string().refine((s) => s === '*' || validOrgId(s), 'an org id is at most 150 of A-Za-z0-9!-_.*\'() (not . or ..), or "*"')).min(1)
  }).strict()
])

export type CollectorToken = z.infer<typeof collectorTokenSchema>

/** The secret of an entry, whichever its form. */
export function tokenSecret (t: CollectorToken): string {
  return typeof t === 'string' ? t : t.token
}
