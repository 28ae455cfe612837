import { Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import { DaytwoError } from '../core/errors.js'
import type { StreamTags } from '../core/record.js'
import { parseTimeArg } from '../core/time.js'
import { NDJSON, encodeGroup, groupPrefix } from '../core/wire.js'
import type { LogStore, StreamInfo, StreamSelector } from '../store/log-store.js'
import { orgScope } from './auth.js'

export interface LogsApiOptions {
  store: LogStore
  onLines: (n: number) => void
}

interface IdentityQuery { deployment?: string, job?: string, index?: string, since?: string, until?: string }

function selector (q: IdentityQuery, org: string | undefined): StreamSelector {
  const s: StreamSelector = {}
  if (org !== undefined) s.org = org
  if (q.deployment) s.deployment = q.deployment
  if (q.job) s.job = q.job
  if (q.index) s.index = q.index
  return s
}

function timeBound (name: string, v: string | undefined): bigint | undefined {
  if (v === undefined || v === '') return undefined
  const t = parseTimeArg(v)
  if (t === null) throw new DaytwoError('BAD_QUERY', `${name}=${JSON.stringify(v)}: give RFC 3339 (2026-11-23T10:00:00Z), Unix time, or a duration before now (2h, 30m)`)
  return t
}

function tagsOf (s: StreamInfo): StreamTags {
  const { firstSeenNs: _f, lastTsNs: _l, lines: _n, bytes: _b, ...tags } = s
  return tags
}

/**
 * The query service's own API, used by the `logs` CLI:
 *   GET /api/v1/jobs                      known deployment/job/index triples
 *   GET /api/v1/instances?deployment&job  instances and their files
 *   GET /api/v1/logs?deployment&job[&index][&since][&until]
 *       NDJSON in the wire format, stream by stream, lines in original order.
 */
export const logsApi: FastifyPluginAsync<LogsApiOptions> = async (app, opts) => {
  const { store } = opts

  app.get('/api/v1/jobs', async (req) => {
    const seen = new Map<string, { deployment: string, job: string, index: string }>()
    for (const s of await store.streams(selector({}, orgScope(req)))) seen.set(`${s.deployment}\0${s.job}\0${s.index}`, { deployment: s.deployment, job: s.job, index: s.index })
    return { jobs: [...seen.values()] }
  })

  app.get<{ Querystring: IdentityQuery }>('/api/v1/instances', async (req) => {
    const streams = await store.streams(selector(req.query, orgScope(req)))
    const instances = new Map<string, { deployment: string, job: string, index: string, files: Array<{ process: string, path: string, lines: number, bytes: number }> }>()
    for (const s of streams) {
      const key = `${s.deployment}\0${s.job}\0${s.index}`
      let inst = instances.get(key)
      if (!inst) { inst = { deployment: s.deployment, job: s.job, index: s.index, files: [] }; instances.set(key, inst) }
      inst.files.push({ process: s.process, path: s.path, lines: s.lines, bytes: s.bytes })
    }
    return { instances: [...instances.values()] }
  })

  app.get<{ Querystring: IdentityQuery }>('/api/v1/logs', async (req, reply) => {
    const q = req.query
    if (!q.deployment) throw new DaytwoError('BAD_QUERY', 'deployment is required')
    const fromNs = timeBound('since', q.since)
    const toNs = timeBound('until', q.until)
    if (fromNs !== undefined && toNs !== undefined && fromNs > toNs) throw new DaytwoError('BAD_QUERY', 'since is after until')
    const sel = selector(q, orgScope(req))
    const known = await store.streams(sel)
    if (known.length === 0) throw new DaytwoError('NOT_FOUND', `no logs for ${[q.deployment, q.job, q.index].filter(Boolean).join('/')}`)
    const req2 = { selector: { streamIds: known.map((s) => s.id) }, ...(fromNs !== undefined ? { fromNs } : {}), ...(toNs !== undefined ? { toNs } : {}) }
    async function * body (): AsyncGenerator<string> {
      let lastId = ''
      let prefix = ''
      for await (const chunk of store.read(req2)) {
        if (chunk.stream.id !== lastId) { lastId = chunk.stream.id; prefix = groupPrefix(tagsOf(chunk.stream)) }
        opts.onLines(chunk.entries.length)
        yield encodeGroup(prefix, chunk.entries)
      }
    }
    void reply.header('content-type', NDJSON)
    return reply.send(Readable.from(body()))
  })
}
