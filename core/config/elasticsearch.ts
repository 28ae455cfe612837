import { z } from 'zod'

/** store.elasticsearch — the Elasticsearch sink and reader. */
export const elasticsearchSchema = z.object({
  url: z.string().default('').describe('Elasticsearch URL, e.g. https://es:9200.'),
  username: z.string().default('').describe('Basic-auth user.'),
  password: z.string().default('').describe('Basic-auth password (secret).'),
  apiKey: z.string().default('').describe('API key, instead of user and password (secret).'),
  caFile: z.string().default('').describe('CA certificate file to verify the cluster with.'),
  dataStream: z.string().default('logs-daytwo-default').describe('Data stream records are written to.')
}).strict()
