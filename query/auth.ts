import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TokenSet, bearer } from '../core/auth.js'
import { DaytwoError } from '../core/errors.js'

/** Who is asking: an operator (every org) or a tenant (one org). */
export interface Principal { org: string | null }

declare module 'fastify' {
  interface FastifyRequest { principal: Principal }
}

export class QueryAuth {
  private readonly operators: TokenSet
  private readonly tenants: Array<{ org: string, tokens: TokenSet }>

  constructor (operatorTokens: string[], tenantTokens: string[]) {
    this.operators = new TokenSet(operatorTokens)
    this.tenants = tenantTokens.map((pair) => {
      const i = pair.indexOf('=')
      return { org: pair.slice(0, i), tokens: new TokenSet([pair.slice(i + 1)]) }
    })
  }

  /** The principal for an Authorization header, or null when the token is unknown. */
  principal (header: string | undefined): Principal | null {
    if (bearer(header) === null) return null
    if (this.operators.accepts(header)) return { org: null }
    for (const t of this.tenants) if (t.tokens.accepts(header)) return { org: t.org }
    return null
  }
}

/**
 * Every /api and /loki route of the query service needs a token; `req.principal` says whose.
 * Routes restrict a tenant with `orgScope(req)`.
 */
export function requireToken (app: FastifyInstance, auth: QueryAuth, onReject: () => void): void {
  app.decorateRequest('principal', null as unknown as Principal)
  app.addHook('onRequest', async (req) => {
    const p = auth.principal(req.headers.authorization)
    if (p === null) {
      onReject()
      throw new DaytwoError('UNAUTHORIZED')
    }
    req.principal = p
  })
}

/** The org a request is limited to (undefined for operators), refusing another org by name. */
export function orgScope (req: FastifyRequest, requestedOrg?: string): string | undefined {
  const own = req.principal.org
  if (own === null) return requestedOrg || undefined
  if (requestedOrg && requestedOrg !== own) throw new DaytwoError('FORBIDDEN', `this token reads org ${own} only`)
  return own
}
