// Every error daytwo reports is defined here once, with a stable code and an HTTP status,
// the way fastify's lib/errors.js and undici's lib/core/errors.js do.

export interface ErrorSpec {
  code: string
  status: number
  message: string
}

const specs = {
  BAD_BATCH: { status: 400, message: 'malformed batch: %s' },
  BAD_ENCODING: { status: 415, message: 'unsupported content encoding %s; send gzip or identity' },
  BATCH_TOO_LARGE: { status: 413, message: 'batch exceeds %s bytes once decompressed; send smaller batches' },
  BAD_CONTENT_TYPE: { status: 415, message: 'unsupported content type %s; send %s' },
  BAD_REQUEST: { status: 400, message: '%s' },
  BODY_TOO_LARGE: { status: 413, message: 'request body too large: %s' },
  HEADERS_TOO_LARGE: { status: 431, message: 'request line and headers exceed %s' },
  REQUEST_TIMEOUT: { status: 408, message: 'request not received in time' },
  UNAUTHORIZED: { status: 401, message: 'missing or unknown token' },
  FORBIDDEN: { status: 403, message: '%s' },
  NOT_FOUND: { status: 404, message: '%s' },
  BAD_QUERY: { status: 400, message: '%s' },
  STORE_UNAVAILABLE: { status: 503, message: 'store unavailable: %s' },
  INFLATE_BUSY: { status: 503, message: 'too many compressed bodies are being inflated at once; retry later' },
  CONFIG: { status: 500, message: 'invalid configuration: %s' },
  UNREACHABLE: { status: 502, message: 'cannot reach %s: %s' },
  BAD_REPORT: { status: 400, message: 'malformed metrics report: %s' },
  ES_NOT_ELASTICSEARCH: { status: 502, message: '%s' },
  ES_SETUP: { status: 503, message: 'cannot install the Elasticsearch %s: %s' },
  USAGE: { status: 400, message: '%s (see `logs %s --help`)' },
  BAD_LOGQL: { status: 400, message: '%s' },
  UNSUPPORTED_LOGQL: { status: 400, message: 'daytwo does not support this LogQL yet: %s' },
  // 499 as Loki (and nginx) answer a request whose client went away first.
  QUERY_CANCELLED: { status: 499, message: 'the query was cancelled: %s' },
  QUERY_TIMEOUT: { status: 504, message: 'the query did not finish within %s ms (query.timeoutMs); narrow its time range or selector' }
} as const

export type ErrorName = keyof typeof specs

export class DaytwoError extends Error {
  readonly code: string
  readonly statusCode: number
  constructor (name: ErrorName, ...args: string[]) {
    const spec = specs[name]
    let i = 0
    super(spec.message.replace(/%s/g, () => args[i++] ?? ''))
    this.name = 'DaytwoError'
    this.code = `DAYTWO_ERR_${name}`
    this.statusCode = spec.status
  }
}

export function isDaytwoError (err: unknown): err is DaytwoError {
  return err instanceof DaytwoError
}
