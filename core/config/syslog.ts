import { isIP } from 'node:net'
import { z } from 'zod'

/** One forwarder.syslog.identitySenders entry: a transport, or an address with a prefix length; null when it is neither. */
export function parseTrustEntry (entry: string): { transport: 'udp' | 'tcp' | 'tls' } | { address: string, prefix: number, family: 'ipv4' | 'ipv6' } | null {
  const e = entry.trim()
  if (e === 'udp' || e === 'tcp' || e === 'tls') return { transport: e }
  const slash = e.indexOf('/')
  const address = slash === -1 ? e : e.slice(0, slash)
  const v = isIP(address)
  if (v === 0) return null
  const max = v === 4 ? 32 : 128
  const prefix = slash === -1 ? max : /^\d{1,3}$/.test(e.slice(slash + 1)) ? Number(e.slice(slash + 1)) : -1
  if (prefix < 0 || prefix > max) return null
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' }
}

const port = (what: string) => z.number().int().min(0).max(65535).default(0).describe(what)

const mapping = /^[^=]+=[^=]+$/

/** forwarder.syslog — syslog listeners (UDP, TCP, TLS) and their disk spool. */
export const syslogSchema = z.object({
  host: z.string().default('127.0.0.1').describe('Address the syslog listeners bind to (0.0.0.0 to accept from other hosts).'),
  udpPort: port('UDP syslog port, one message per datagram (0 = off).'),
  tcpPort: port('TCP syslog port; each frame is LF-terminated or RFC 6587 octet-counted, detected per frame (0 = off).'),
  tlsPort: port('TLS syslog port (RFC 5425), same framing as TCP; needs tlsCertFile and tlsKeyFile (0 = off).'),
  tlsCertFile: z.string().default('').describe('PEM certificate (chain) presented by the TLS listener.'),
  tlsKeyFile: z.string().default('').describe('PEM private key of tlsCertFile (secret file).'),
  maxConnections: z.number().int().min(1).default(1024).describe('Open TCP/TLS connections per listener; a further connection closes the one idle longest (`daytwo_forwarder_syslog_connections_closed_total{reason="evicted_idle"}`).'),
  idleTimeoutMs: z.number().int().min(0).default(300000).describe('A TCP/TLS connection that sends nothing for this long is closed (`reason="idle_timeout"`); 0 never closes one.'),
  maxMessageBytes: z.number().int().min(480).default(65536).describe('Longest message kept whole; longer ones are cut to this size and counted (lines_altered_total{reason="truncated"}).'),
  defaultDeployment: z.string().min(1).default('syslog').describe('deployment of messages whose sender names none (no `daytwo@…` or BOSH `instance@47450` structured data, no match in deployments).'),
  identitySenders: z.array(z.string().refine((e) => parseTrustEntry(e) !== null, 'expected an address, a CIDR block (10.0.0.0/8) or a transport: udp, tcp, tls')).default(['127.0.0.0/8', '::1/128']).describe('Senders whose structured data may name a stream\'s identity (`daytwo@…` deployment/job/index/process, BOSH `instance@47450`): addresses, CIDR blocks, or `udp`/`tcp`/`tls` for every sender on that listener. From other senders those elements are ignored (kept as line attributes) and counted in lines_altered_total{reason="syslog_untrusted_identity"}. Default: this host only. UDP source addresses can be forged. Comma-separated in the environment.'),
  deployments: z.array(z.string().regex(mapping, 'expected `<hostname glob>=<deployment>`')).default([]).describe('Sender hostname → deployment, as `<hostname glob>=<deployment>` (`*` matches any run of characters); the first match wins. Comma-separated in the environment.'),
  streamLabels: z.array(z.enum(['facility', 'severity', 'msgid'])).default([]).describe('Header fields that become stream labels (`facility`, `severity` by name, `msgid`); each value is a stream of its own, so `logs fetch` then gives one file per value. Comma-separated in the environment.'),
  rfc3164TimeZone: z.string().regex(/^(local|UTC|[+-]\d{2}:\d{2})$/, 'expected local, UTC or ±HH:MM').default('local').describe('Zone of RFC 3164 timestamps, which carry none: `local` (this process\'s TZ), `UTC` or an offset like `-07:00`. The year is the one that puts the time nearest to now.'),
  spoolMaxBytes: z.number().int().min(65536).default(268435456).describe('Disk spool bound (messages not yet acknowledged by the collector); when full, new messages are dropped and counted (reason `spool_full`).'),
  spoolSegmentBytes: z.number().int().min(4096).default(8388608).describe('Spool segment file size; a segment is deleted once every message in it was acknowledged.'),
  spoolFsyncIntervalMs: z.number().int().min(1).default(100).describe('How often spooled messages are fsynced. A power loss can lose the newest messages of up to this long; messages are shipped only once fsynced, so no record id is ever reused for a different message.')
}).strict()

export type SyslogConfig = z.infer<typeof syslogSchema>
