import type { StreamBatch } from '../../core/record.js'

/**
 * The org a push named with `X-Scope-OrgID`, which its token may name
 * (collector/receivers/scope-org.ts), over what the tenant rules said. Space and app stay as
 * the rules gave them; where they gave none, space is empty and app is the stream's job, as a
 * directory's answer without an app (collector/tenants/enricher.ts): the rate limits and usage
 * of an org are per app, and a line without an app would pass its org's limits.
 */
export function applyScopeOrg (batches: StreamBatch[], org: string): void {
  for (const b of batches) {
    b.stream.org = org
    b.stream.space ??= ''
    b.stream.app ??= b.stream.job
  }
}
