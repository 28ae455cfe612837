/**
 * The token in an Authorization header as `Bearer <token>`, for core/auth.ts TokenSet: Bearer
 * as sent, or Basic with the token as password (Promtail, Alloy and Fluent Bit send basic auth;
 * the user name is not checked).
 */
export function senderToken (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const m = /^Basic\s+(\S+)\s*$/i.exec(header)
  if (m === null) return header
  const plain = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = plain.indexOf(':')
  return colon < 0 ? undefined : `Bearer ${plain.slice(colon + 1)}`
}
