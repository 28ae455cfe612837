import { z } from 'zod'

/**
 * collector.fluent — the Fluent forward receiver (Fluent Bit's and Fluentd's `forward`
 * output, collector/receivers/fluent/). Off until a port is set; then it needs a shared key.
 */
export const fluentSchema = z.object({
  port: z.number().int().min(0).max(65535).default(0).describe('TCP port of the Fluent forward receiver (24224 is the senders\' default); 0 = off.'),
  host: z.string().default('127.0.0.1').describe('Address the Fluent forward receiver binds to (0.0.0.0 in a pod).'),
  sharedKeys: z.array(z.string().min(1)).default([]).describe('Shared keys senders authenticate with in the forward handshake (Fluent Bit `Shared_Key`, Fluentd `<security> shared_key`; secret; comma-separated in the environment). Needed when port is set: a connection without a valid key is closed before anything is accepted. Each key is a sender of its own, as a collector token: the streams it creates are bound to it; the tenant follows from the identity by collector.tenants.'),
  selfHostname: z.string().default('').describe('The server hostname told to senders in the handshake (Fluentd `self_hostname`); empty: the node name.'),
  defaultDeployment: z.string().min(1).default('fluent').describe('deployment of records that name none: neither Fluent Bit\'s kubernetes fields nor a `bosh.<deployment>.<job>.<index>` tag (their job is then the tag).'),
  maxConnections: z.number().int().min(1).default(1024).describe('Open forward connections at most; a further one is closed at once (`daytwo_collector_rejected_requests_total{reason="connection_limit"}`).'),
  maxChunkBytes: z.number().int().min(1024).default(16777216).describe('Largest forward frame (one chunk or message as sent, and a CompressedPackedForward chunk once inflated); a sender that passes it is refused (`reason="too_large"`) and its connection closed, nothing of the frame kept. Set Fluent Bit\'s and Fluentd\'s chunk limits below it.'),
  idleTimeoutMs: z.number().int().min(100).default(60000).describe('A connection that completes no frame for this long (idle, or sending a frame too slowly) is closed (`reason="idle_timeout"`); time spent storing a frame does not count.'),
  tlsCertFile: z.string().default('').describe('PEM certificate (chain) of the forward listener; with tlsKeyFile it speaks TLS (Fluent Bit `tls on`, Fluentd `transport tls`). Empty: plain TCP.'),
  tlsKeyFile: z.string().default('').describe('PEM private key of the forward listener\'s certificate (secret file).'),
  clientCaFile: z.string().default('').describe('PEM CA bundle: when set, forward senders without a client certificate signed by it are refused in the TLS handshake, in addition to the shared key.')
}).strict()

export type FluentConfig = z.infer<typeof fluentSchema>
