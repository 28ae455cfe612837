import { z } from 'zod'

/** collector.tenants — how records get org/space/app, and per-tenant rate limits. */
export const tenantsSchema = z.object({}).strict()
