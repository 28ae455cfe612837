import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

// The shared-key handshake of the forward protocol (Fluentd's in_forward with `<security>`,
// Fluent Bit's `Shared_Key`), protocol v1 "Handshake Messages":
//   server → HELO  ['HELO', {nonce, auth: '', keepalive: true}]   (auth '' : no user/password step)
//   client → PING  ['PING', client_hostname, shared_key_salt, sha512_hex(salt + client_hostname + nonce + shared_key), username, password_digest]
//   server → PONG  ['PONG', true, '', server_hostname, sha512_hex(salt + server_hostname + nonce + shared_key)]
// The key itself never travels; the client proves it knows one of ours for this nonce, and
// the PONG proves to it that we know it too. A failed PING is answered PONG false, then closed.

export interface SharedKey {
  key: Buffer
  /** Who sent with it, named as core/auth.ts TokenSet names a token (hex SHA-256, says nothing of the key). */
  sender: string
}

export function sharedKeys (keys: string[]): SharedKey[] {
  return keys.map((k) => ({ key: Buffer.from(k), sender: createHash('sha256').update(k).digest('hex') }))
}

export function heloMessage (nonce: Buffer): unknown[] {
  return ['HELO', { nonce, auth: '', keepalive: true }]
}

export function newNonce (): Buffer {
  return randomBytes(16)
}

function digest (salt: Uint8Array, hostname: Uint8Array | string, nonce: Buffer, key: Buffer): Buffer {
  return Buffer.from(createHash('sha512').update(salt).update(hostname).update(nonce).update(key).digest('hex'))
}

export type PingResult = { ok: true, sender: string, pong: unknown[] } | { ok: false, reason: string, pong: unknown[] }

/**
 * Check a decoded PING (strings arrive as bytes: the receiver decodes with rawStrings) against
 * every key, in constant time per key, and build the PONG to answer.
 */
export function answerPing (msg: unknown, nonce: Buffer, keys: SharedKey[], selfHostname: string): PingResult {
  const fail = (reason: string): PingResult => ({ ok: false, reason, pong: ['PONG', false, reason, '', ''] })
  if (!Array.isArray(msg) || msg.length < 4 || !bytesEqual(msg[0], 'PING')) return fail('expected a PING message first (shared key authentication)')
  const [, hostname, salt, theirs] = msg as unknown[]
  if (!(hostname instanceof Uint8Array) || !(salt instanceof Uint8Array) || !(theirs instanceof Uint8Array)) return fail('PING fields are not strings')
  let found: SharedKey | null = null
  for (const k of keys) {
    const ours = digest(salt, hostname, nonce, k.key)
    if (ours.length === theirs.length && timingSafeEqual(ours, theirs)) found = k
  }
  if (found === null) return fail('shared key mismatch')
  return { ok: true, sender: found.sender, pong: ['PONG', true, '', selfHostname, digest(salt, selfHostname, nonce, found.key).toString()] }
}

function bytesEqual (v: unknown, s: string): boolean {
  return v instanceof Uint8Array && Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') === s
}
