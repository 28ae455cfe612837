import { z } from 'zod'

// http — limits every HTTP listener applies (the collector's ingest, the query service, the
// forwarder's status endpoint), so that slow or idle clients cannot hold sockets and memory.

export const httpLimitsSchema = z.object({
  headersTimeoutMs: z.number().int().min(100).default(10000).describe('A request\'s line and headers must arrive within this; else 408 and the connection is closed (`daytwo_connections_closed_total{reason="request_timeout"}`).'),
  requestTimeoutMs: z.number().int().min(100).default(120000).describe('A whole request, body included, must arrive within this; else 408 and the connection is closed.'),
  bodyIdleTimeoutMs: z.number().int().min(100).default(15000).describe('A request body that sends no byte for this long is cut off (`reason="body_idle"`).'),
  keepAliveTimeoutMs: z.number().int().min(100).default(5000).describe('An idle keep-alive connection is closed after this.'),
  maxConnections: z.number().int().min(1).default(8192).describe('Open connections one listener accepts in all; further ones are closed at once (`daytwo_connections_refused_total{reason="global"}`).'),
  maxConnectionsPerAddress: z.number().int().min(1).default(256).describe('Open connections one client address may hold on one listener; further ones are closed at once (`reason="per_address"`).')
}).strict()

export type HttpLimits = z.infer<typeof httpLimitsSchema>
