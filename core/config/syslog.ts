import { z } from 'zod'

/** forwarder.syslog — syslog listeners (UDP, TCP, TLS) and their disk spool. */
export const syslogSchema = z.object({
  udpPort: z.number().int().min(0).max(65535).default(0).describe('UDP syslog port (0 = off).'),
  tcpPort: z.number().int().min(0).max(65535).default(0).describe('TCP syslog port, LF or octet-counted framing (0 = off).')
}).strict()
