import { basename } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyPluginAsync } from 'fastify'
import { DaytwoError } from '../core/errors.js'
import type { Entry, StreamTags } from '../core/record.js'
import { compareNs, parseTimeParam, TIME_FORMS } from '../core/time.js'
import { NDJSON, encodeGroup, groupPrefix } from '../core/wire.js'
import type { LogStore, StreamInfo, StreamSelector } from '../store/log-store.js'
import { orgScope } from './auth.js'
import { FILE_FRAMES, encodeEndFrame, encodeFileFrame } from '../core/file-frames.js'
import { fileMatcher } from './file-glob.js'
import { singleValuedQuery } from './query-params.js'

export interface LogsApiOptions {
  store: LogStore
  onLines: (n: number) => void
  /** How often a follow request looks for new lines (ms). */
  followPollMs?: number
}

interface IdentityQuery { deployment?: string, job?: string, index?: string, since?: string, until?: string }
interface LogsQuery extends IdentityQuery { num?: string, only?: string | string[], after?: string, follow?: string }

/** Largest `num`: the server keeps one 8-byte offset per requested line while it looks for the last N. */
export const MAX_NUM = 10_000_000
const HEARTBEAT_MS = 15000

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
  const t = parseTimeParam(v)
  if (t === null) throw new DaytwoError('BAD_QUERY', `${name}=${JSON.stringify(v)}: give ${TIME_FORMS}`)
  return t
}

function parseNum (v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_NUM) throw new DaytwoError('BAD_QUERY', `num=${JSON.stringify(v)}: give a whole number of lines from 1 to ${MAX_NUM}`)
  return Number(v)
}

/** `after=<stream id>:<offset>,…`: resume each stream after the last offset a client saw. */
export function parseAfter (v: string | undefined): Map<string, number> {
  const m = new Map<string, number>()
  if (!v) return m
  for (const part of v.split(',')) {
    const i = part.lastIndexOf(':')
    const off = Number(part.slice(i + 1))
    if (i < 1 || !/^\d+$/.test(part.slice(i + 1)) || !Number.isSafeInteger(off)) throw new DaytwoError('BAD_QUERY', `after: '${part}' is not <stream id>:<offset>`)
    m.set(part.slice(0, i), off)
  }
  return m
}

function tagsOf (s: StreamInfo): StreamTags {
  const { firstSeenNs: _f, lastTsNs: _l, lines: _n, bytes: _b, ...tags } = s
  return tags
}

/**
 * Streams in bundle order: instance, process, file name, then generation (a rotated file's
 * generations share one name). Each bundle file's lines then arrive contiguous, so a client
 * can finish a file before the next one starts.
 */
function bundleOrder (streams: StreamInfo[]): StreamInfo[] {
  const key = (s: StreamInfo) => [s.deployment, s.job, s.index, s.process, basename(s.path)]
  return [...streams].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1
    return compareNs(a.firstSeenNs, b.firstSeenNs)
  })
}

/**
 * The query service's own API, used by the `logs` CLI:
 *   GET /api/v1/jobs                      known deployment/job/index triples
 *   GET /api/v1/instances?deployment&job  instances and their files (lines, bytes, last line's time)
 *   GET /api/v1/logs?deployment[&job][&index][&since][&until][&num][&only…][&after][&follow]
 *       NDJSON in the wire format, file by file in bundle order, lines in original order.
 *       num: the last N lines of each file. only: file-name globs (repeatable).
 *       after: `<stream id>:<offset>,…` to resume. follow=1: after the history, keep the
 *       response open and send new lines as they are stored (a blank line every 15 s when idle).
 *       With `Accept: application/vnd.daytwo.file-frames.v1` and no follow: the same lines as
 *       each bundle file's bytes, in length-prefixed frames (core/file-frames.ts).
 */
export const logsApi: FastifyPluginAsync<LogsApiOptions> = async (app, opts) => {
  const { store } = opts
  const pollMs = opts.followPollMs ?? 250
  singleValuedQuery(app, ['only'])

  app.get('/api/v1/jobs', async (req) => {
    const seen = new Map<string, { deployment: string, job: string, index: string }>()
    for (const s of await store.streams(selector({}, orgScope(req)))) seen.set(`${s.deployment}\0${s.job}\0${s.index}`, { deployment: s.deployment, job: s.job, index: s.index })
    return { jobs: [...seen.values()] }
  })

  app.get<{ Querystring: IdentityQuery }>('/api/v1/instances', async (req) => {
    const streams = await store.streams(selector(req.query, orgScope(req)))
    const instances = new Map<string, { deployment: string, job: string, index: string, files: Array<{ process: string, path: string, lines: number, bytes: number, lastTsNs: string }> }>()
    for (const s of streams) {
      const key = `${s.deployment}\0${s.job}\0${s.index}`
      let inst = instances.get(key)
      if (!inst) { inst = { deployment: s.deployment, job: s.job, index: s.index, files: [] }; instances.set(key, inst) }
      inst.files.push({ process: s.process, path: s.path, lines: s.lines, bytes: s.bytes, lastTsNs: s.lastTsNs })
    }
    return { instances: [...instances.values()] }
  })

  app.get<{ Querystring: LogsQuery }>('/api/v1/logs', async (req, reply) => {
    const q = req.query
    if (!q.deployment) throw new DaytwoError('BAD_QUERY', 'deployment is required')
    const fromNs = timeBound('since', q.since)
    const toNs = timeBound('until', q.until)
    if (fromNs !== undefined && toNs !== undefined && fromNs > toNs) throw new DaytwoError('BAD_QUERY', 'since is after until')
    const num = parseNum(q.num)
    const follow = q.follow === '1' || q.follow === 'true'
    const after = parseAfter(q.after)
    const only = q.only === undefined ? [] : Array.isArray(q.only) ? q.only : [q.only]
    const matches = fileMatcher(only)
    const sel = selector(q, orgScope(req))
    const name = [q.deployment, q.job, q.index].filter(Boolean).join('/')
    const select = async () => bundleOrder((await store.streams(sel)).filter((s) => matches(s.process, s.path)))
    const first = await select()
    if (first.length === 0) {
      const all = only.length > 0 ? await store.streams(sel) : []
      if (all.length > 0) {
        const files = [...new Set(all.map((s) => `${s.process}/${basename(s.path)}`))].sort()
        throw new DaytwoError('NOT_FOUND', `no file of ${name} matches ${only.join(' or ')}. Its files:\n  ${files.join('\n  ')}`)
      }
      throw new DaytwoError('NOT_FOUND', `no logs for ${name}`)
    }
    const bounds = { ...(fromNs !== undefined ? { fromNs } : {}), ...(toNs !== undefined ? { toNs } : {}) }
    // A bundle (no follow) may ask for file frames: the lines as the files' bytes, no JSON per line.
    const frames = !follow && (req.headers.accept ?? '').includes(FILE_FRAMES)
    const totals = { lines: 0, bytes: 0 }
    let closed = false
    req.raw.once('close', () => { closed = true })

    /** Entries of one stream after `after`, at most up to `last`; records the last offset sent. */
    async function * readStream (s: StreamInfo, last?: number): AsyncGenerator<string> {
      const prefix = frames ? JSON.stringify(tagsOf(s)) : groupPrefix(tagsOf(s))
      const resume = after.get(s.id)
      for await (const chunk of store.read({ selector: { streamIds: [s.id] }, ...bounds, ...(resume !== undefined ? { after: new Map([[s.id, resume]]) } : {}) })) {
        let entries: Entry[] = chunk.entries
        if (last !== undefined && entries[entries.length - 1]![1] > last) entries = entries.filter((e) => e[1] <= last)
        if (entries.length === 0) break
        opts.onLines(entries.length)
        after.set(s.id, entries[entries.length - 1]![1])
        if (frames) {
          const frame = encodeFileFrame(prefix, entries)
          totals.lines += entries.length
          totals.bytes += frame.bytes
          yield frame.text
        } else {
          yield encodeGroup(prefix, entries)
        }
        if (closed) return
      }
    }

    /** With num: the offset just before the Nth-last matching line, and the last one, in one pass. */
    async function lastN (s: StreamInfo, n: number): Promise<{ from: number, last: number } | null> {
      const ring = new Float64Array(n)
      let count = 0
      const resume = after.get(s.id)
      for await (const chunk of store.read({ selector: { streamIds: [s.id] }, ...bounds, ...(resume !== undefined ? { after: new Map([[s.id, resume]]) } : {}) })) {
        for (const e of chunk.entries) ring[count++ % n] = e[1]
      }
      if (count === 0) return null
      return { from: count > n ? ring[count % n]! - 1 : -1, last: ring[(count - 1) % n]! }
    }

    async function * body (): AsyncGenerator<string> {
      for (const s of first) {
        if (num === undefined) {
          yield * readStream(s)
        } else {
          const range = await lastN(s, num)
          if (range === null) continue
          if (range.from >= 0 && range.from > (after.get(s.id) ?? -1)) after.set(s.id, range.from)
          yield * readStream(s, range.last)
        }
        if (closed) return
      }
      if (frames) yield encodeEndFrame(totals.lines, totals.bytes)
      if (!follow) return
      let idle = 0
      while (!closed) {
        await sleep(pollMs)
        let sent = false
        for (const s of await select()) {
          for await (const g of readStream(s)) { sent = true; yield g }
          if (closed) return
        }
        idle = sent ? 0 : idle + pollMs
        if (idle >= HEARTBEAT_MS) { idle = 0; yield '\n' }
      }
    }
    void reply.header('content-type', frames ? FILE_FRAMES : NDJSON)
    void reply.header('vary', 'accept')
    if (follow) void reply.header('cache-control', 'no-store')
    return reply.send(Readable.from(body()))
  })
}
