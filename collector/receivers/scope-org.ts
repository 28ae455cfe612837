import { tokenName } from '../../core/auth.js'
import { tokenSecret, validOrgId, type CollectorToken } from '../../core/config/collector-tokens.js'
import type { PushScope } from '../intake.js'

/** What a push's `X-Scope-OrgID` header means: no org (absent), the org, or a refusal. */
export type ScopeAnswer =
  | { ok: true, scope: PushScope | undefined }
  | { ok: false, status: 400 | 403, reason: 'bad_org_id' | 'tenant_not_allowed', message: string }

/**
 * Which collector tokens may name the org of their pushes with `X-Scope-OrgID`, as Loki's
 * multi-tenant push takes it (collector.tokens entries with `orgIds`). A plain token names
 * none: its lines' tenant is the tenant rules' (collector/tenants/), as when the header is
 * absent. Looked up by TokenSet.identify's name of the token, so no secret is kept here.
 */
export class OrgGrants {
  readonly #grants = new Map<string, Set<string> | 'any'>()

  constructor (tokens: readonly CollectorToken[]) {
    for (const t of tokens) {
      if (typeof t === 'string') continue
      const name = tokenName(tokenSecret(t))
      const had = this.#grants.get(name)
      if (had === 'any' || t.orgIds.includes('*')) {
        this.#grants.set(name, 'any')
        continue
      }
      this.#grants.set(name, new Set([...(had ?? []), ...t.orgIds]))
    }
  }

  /** The header of a push authenticated as `sender` (TokenSet.identify's name), checked against the sender's grant. */
  check (sender: string, header: string | string[] | undefined): ScopeAnswer {
    if (header === undefined) return { ok: true, scope: undefined }
    const org = Array.isArray(header) ? header.join('|') : header.trim()
    // One tenant per push: Loki refuses `a|b` (several tenants) on writes, as the charset does.
    if (!validOrgId(org)) return { ok: false, status: 400, reason: 'bad_org_id', message: `X-Scope-OrgID ${JSON.stringify(org.slice(0, 160))} is not one org id (at most 150 of A-Za-z0-9!-_.*'(), not . or ..)` }
    const grant = this.#grants.get(sender)
    if (grant === 'any' || grant?.has(org) === true) return { ok: true, scope: { org } }
    return { ok: false, status: 403, reason: 'tenant_not_allowed', message: `this token may not push into org ${org} (X-Scope-OrgID)` }
  }
}
