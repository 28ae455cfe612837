import { z } from 'zod'

/** query.usage and query.tenantTokens — usage reports and tenant access. */
export const usageSchema = z.object({}).strict()
