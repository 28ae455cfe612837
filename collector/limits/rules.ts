import { DaytwoError } from '../../core/errors.js'

// Log rate limit rules, as configured: `org/app=16K` (per app) and `org=1M` (per org quota);
// `*` matches any org or app, and the most specific rule wins (exact org and app, then exact
// org, then exact app, then `*/*`).

export interface Limit {
  /** The rule as written, for notices and logs. */
  rule: string
  bytesPerSecond: number
}

const RATE_RE = /^(\d+(?:\.\d+)?)\s*([kmg])?(?:i?b)?$/i
const UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** `16384`, `16K`, `16KB`, `1.5M`, `1GiB` → bytes (1024-based, like `cf push --log-rate-limit`). */
export function parseRate (text: string, where: string): number {
  const m = RATE_RE.exec(text.trim())
  const n = m ? Math.floor(Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()]! : 1)) : NaN
  if (!Number.isFinite(n) || n <= 0) throw new DaytwoError('CONFIG', `${where}: ${JSON.stringify(text)} is not a positive rate such as 16384, 16K or 1M (bytes per second)`)
  return n
}

export class LimitRules {
  private readonly app = new Map<string, Limit>()
  private readonly org = new Map<string, Limit>()

  constructor (appRules: string[], orgRules: string[]) {
    for (const r of appRules) {
      const eq = r.lastIndexOf('=')
      const [org, app] = r.slice(0, eq).split('/').map((s) => s.trim()) as [string, string]
      this.app.set(org + '/' + app, { rule: r, bytesPerSecond: parseRate(r.slice(eq + 1), `collector.tenants.appLogRateLimits ${r}`) })
    }
    for (const r of orgRules) {
      const eq = r.lastIndexOf('=')
      this.org.set(r.slice(0, eq).trim(), { rule: r, bytesPerSecond: parseRate(r.slice(eq + 1), `collector.tenants.orgLogRateLimits ${r}`) })
    }
  }

  get enabled (): boolean { return this.app.size > 0 || this.org.size > 0 }

  forApp (org: string, app: string): Limit | undefined {
    return this.app.get(org + '/' + app) ?? this.app.get(org + '/*') ?? this.app.get('*/' + app) ?? this.app.get('*/*')
  }

  forOrg (org: string): Limit | undefined {
    return this.org.get(org) ?? this.org.get('*')
  }
}
