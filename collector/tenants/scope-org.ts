import type { StreamBatch } from '../../core/record.js'

/**
 * The org a push named with `X-Scope-OrgID`, which its token may name
 * (collector/receivers/scope-org.ts), over what the tenant rules said: space and app stay as
 * the rules gave them, or empty where they gave none.
 */
export function applyScopeOrg (batches: StreamBatch[], org: string): void {
  for (const b of batches) {
    b.stream.org = org
    b.stream.space ??= ''
    b.stream.app ??= ''
  }
}
