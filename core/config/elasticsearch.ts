import { z } from 'zod'

// store.elasticsearch and store.opensearch: one set of settings for both engines (the store
// code is shared, store/search-engine/), each with its own lifecycle: ILM for Elasticsearch,
// ISM for OpenSearch.

function engineFields (product: 'Elasticsearch' | 'OpenSearch', defaultUrl: string) {
  return {
    url: z.string().default('').describe(`${product} URL, e.g. ${defaultUrl}.`),
    username: z.string().default('').describe('Basic-auth user.'),
    password: z.string().default('').describe('Basic-auth password (secret).'),
    apiKey: z.string().default('').describe('API key, instead of user and password (secret).'),
    caFile: z.string().default('').describe('CA certificate file to verify the cluster with.'),
    dataStream: z.string().default('logs-daytwo-default').describe('Data stream records are written to.'),
    deadLetterDataStream: z.string().default('logs-daytwo-deadletter').describe(`Data stream for records ${product} refused (4xx other than 409/429): the original record as text and the reason.`),
    usageIndex: z.string().default('daytwo-usage').describe('Index of per-minute usage and drop rollups per org/app.'),
    streamsIndex: z.string().default('daytwo-streams').describe('Index of one document per stream (its tags, first and last time, lines, bytes), read by `streams()` and by every query to find the streams a selector matches.'),
    retentionDays: z.number().int().min(1).default(30).describe(product === 'Elasticsearch' ? 'Backing indices are deleted this many days after rollover.' : 'Backing indices are deleted this many days after they were created (ISM; see docs/stores.md "OpenSearch").'),
    rolloverMaxPrimaryShardSize: z.string().default('50gb').describe('Roll the data stream over when a primary shard reaches this size.'),
    rolloverMaxAge: z.string().default('1d').describe('Roll the data stream over at least this often.'),
    installTemplates: z.boolean().default(true).describe('Install the index templates and lifecycle policy at start (idempotent). Turn off when a cluster admin manages them.'),
    bulkMaxBytes: z.number().int().min(1024).default(5242880).describe('A bulk request carries at most this many bytes of NDJSON (before gzip).'),
    bulkMaxDocs: z.number().int().min(1).default(5000).describe('A bulk request carries at most this many records.'),
    concurrency: z.number().int().min(1).default(4).describe('Bulk requests in flight at once, across all writes of this process.'),
    retryInitialMs: z.number().int().min(1).default(200).describe(`First wait before retrying records ${product} rejected with 429 or 5xx (doubles each time, with full jitter).`),
    retryMaxMs: z.number().int().min(1).default(10000).describe('Longest wait between two retries.'),
    retryTimeoutMs: z.number().int().min(1).default(120000).describe('A write that is still not stored after this long fails with DAYTWO_ERR_STORE_UNAVAILABLE (the forwarder retries it; ids make that safe).'),
    requestTimeoutMs: z.number().int().min(100).default(30000).describe(`Timeout of one HTTP request to ${product}; a query whose search takes longer fails with DAYTWO_ERR_STORE_UNAVAILABLE.`),
    readPageSize: z.number().int().min(1).max(10000).default(1000).describe('Records per search page when reading (search_after).'),
    streamsFlushMs: z.number().int().min(0).default(10000).describe('A stream\'s document (lines, bytes, last time) is updated at most once per this interval, in one bulk request for all streams; a new stream\'s document is written with its first records. 0: with every write.')
  }
}

/** store.elasticsearch — the Elasticsearch store (store/elasticsearch/). */
export const elasticsearchSchema = z.object({
  ...engineFields('Elasticsearch', 'https://es:9200'),
  ilmPolicy: z.string().default('daytwo-logs').describe('Index lifecycle policy installed and attached to both data streams. Empty: install none (e.g. Elastic Serverless).')
}).strict()

/** store.opensearch — the OpenSearch store (store/opensearch/). */
export const opensearchSchema = z.object({
  ...engineFields('OpenSearch', 'https://opensearch:9200'),
  ismPolicy: z.string().default('daytwo-logs').describe('Index State Management policy installed for both data streams when the ISM plugin is present (rollover, then delete after retentionDays). Empty: install none.')
}).strict()

export type ElasticsearchConfig = z.infer<typeof elasticsearchSchema>
export type OpenSearchConfig = z.infer<typeof opensearchSchema>
/** What the shared store code (store/search-engine/) reads. */
export type EngineConfig = Omit<ElasticsearchConfig, 'ilmPolicy'>
