import type { FastifyInstance } from 'fastify'

/**
 * A parameter given twice (`?deployment=a&deployment=b`) arrives as an array; every parameter
 * of these routes is single-valued except `repeatable` ones, so keep the last value, as Loki
 * does. Registered as a hook on a route plugin, before any handler reads `req.query`.
 */
export function singleValuedQuery (app: FastifyInstance, repeatable: string[] = []): void {
  app.addHook('preValidation', async (req) => {
    const q = req.query as Record<string, unknown> | undefined
    if (q === undefined || q === null) return
    for (const [k, v] of Object.entries(q)) if (Array.isArray(v) && !repeatable.includes(k)) q[k] = v[v.length - 1]
  })
}
