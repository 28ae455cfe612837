import type { FastifyInstance } from 'fastify'
import { TokenSet } from '../core/auth.js'
import { DaytwoError } from '../core/errors.js'

/** Every /api route of the query service needs an operator token. */
export function requireToken (app: FastifyInstance, tokens: TokenSet, onReject: () => void): void {
  app.addHook('onRequest', async (req) => {
    if (!tokens.accepts(req.headers.authorization)) {
      onReject()
      throw new DaytwoError('UNAUTHORIZED')
    }
  })
}
