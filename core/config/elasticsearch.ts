import { z } from 'zod'

/** store.elasticsearch — the Elasticsearch sink and reader (store/elasticsearch/). */
export const elasticsearchSchema = z.object({
  url: z.string().default('').describe('Elasticsearch URL, e.g. https://es:9200.'),
  username: z.string().default('').describe('Basic-auth user.'),
  password: z.string().default('').describe('Basic-auth password (secret).'),
  apiKey: z.string().default('').describe('API key, instead of user and password (secret).'),
  caFile: z.string().default('').describe('CA certificate file to verify the cluster with.'),
  dataStream: z.string().default('logs-daytwo-default').describe('Data stream records are written to.'),
  deadLetterDataStream: z.string().default('logs-daytwo-deadletter').describe('Data stream for records Elasticsearch refused (4xx other than 409/429): the original record as text and the reason.'),
  usageIndex: z.string().default('daytwo-usage').describe('Index of per-minute usage and drop rollups per org/app.'),
  streamsIndex: z.string().default('daytwo-streams').describe('Index of one document per stream (its tags, first and last time, lines, bytes), read by `streams()`.'),
  ilmPolicy: z.string().default('daytwo-logs').describe('Index lifecycle policy installed and attached to both data streams. Empty: install none (e.g. Elastic Serverless).'),
  retentionDays: z.number().int().min(1).default(30).describe('Backing indices are deleted this many days after rollover.'),
  rolloverMaxPrimaryShardSize: z.string().default('50gb').describe('Roll the data stream over when a primary shard reaches this size.'),
  rolloverMaxAge: z.string().default('1d').describe('Roll the data stream over at least this often.'),
  installTemplates: z.boolean().default(true).describe('Install the index templates and lifecycle policy at start (idempotent). Turn off when a cluster admin manages them.'),
  bulkMaxBytes: z.number().int().min(1024).default(5242880).describe('A bulk request carries at most this many bytes of NDJSON (before gzip).'),
  bulkMaxDocs: z.number().int().min(1).default(5000).describe('A bulk request carries at most this many records.'),
  concurrency: z.number().int().min(1).default(4).describe('Bulk requests in flight at once, across all writes of this process.'),
  retryInitialMs: z.number().int().min(1).default(200).describe('First wait before retrying records Elasticsearch rejected with 429 or 5xx (doubles each time, with full jitter).'),
  retryMaxMs: z.number().int().min(1).default(10000).describe('Longest wait between two retries.'),
  retryTimeoutMs: z.number().int().min(1).default(120000).describe('A write that is still not stored after this long fails with DAYTWO_ERR_STORE_UNAVAILABLE (the forwarder retries it; ids make that safe).'),
  requestTimeoutMs: z.number().int().min(100).default(30000).describe('Timeout of one HTTP request to Elasticsearch.'),
  readPageSize: z.number().int().min(1).max(10000).default(1000).describe('Records per search page when reading (point in time + search_after).')
}).strict()

export type ElasticsearchConfig = z.infer<typeof elasticsearchSchema>
