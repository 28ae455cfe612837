// Elasticsearch clients authenticate three ways; each is read here as the collector's own
// bearer token (core/auth.ts TokenSet), so one token set decides who may send:
//   Authorization: Bearer <token>
//   Authorization: Basic base64(<any user>:<token>)   (Fluent Bit's HTTP_User/HTTP_Passwd, Filebeat's username/password)
//   Authorization: ApiKey <token>                     (the JS client's auth.apiKey, Vector's api_key as given)
//   Authorization: ApiKey base64(<id>:<token>)        (Elasticsearch's own id:key form: the key part is the token)

/** The `Bearer …` header that an Elasticsearch client's Authorization header stands for, or undefined. */
export function asBearer (header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const m = /^(Bearer|Basic|ApiKey)\s+(\S+)\s*$/i.exec(header)
  if (!m) return undefined
  const scheme = m[1]!.toLowerCase()
  const value = m[2]!
  if (scheme === 'bearer') return `Bearer ${value}`
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? undefined : `Bearer ${decoded.slice(colon + 1)}`
  }
  // ApiKey: the token itself, or base64(id:token).
  const decoded = Buffer.from(value, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon > 0 && /^[\x20-\x7e]+$/.test(decoded) ? `Bearer ${decoded.slice(colon + 1)}` : `Bearer ${value}`
}
