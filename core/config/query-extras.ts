import { z } from 'zod'

/** query.usage — usage reports. */
export const usageSchema = z.object({
  pricePerGiB: z.number().min(0).default(0).describe('Price of one GiB stored, for the cost column of usage reports (0 hides cost).'),
  currency: z.string().default('USD').describe('Currency shown with cost.')
}).strict()

/** `org=token` pairs: a tenant token reads its own org's logs and usage only. */
export const tenantTokensSchema = z.array(z.string().regex(/^[^=]+=.+$/, 'each entry is org=token')).default([])
  .describe('Tenant tokens as `org=token` (secret; comma-separated in the environment). A tenant token sees its own org only.')
