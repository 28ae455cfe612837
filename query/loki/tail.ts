import websocket from '@fastify/websocket'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { DaytwoError } from '../../core/errors.js'
import { compareNs, nowNs } from '../../core/time.js'
import type { LogStore } from '../../store/log-store.js'
import { orgScope } from '../auth.js'
import { isLogExpr } from './ast.js'
import { labelsKey, sortedLabels, type Labels } from './labels.js'
import * as p from './params.js'
import { parseLogQL } from './parser.js'
import { scan, select, type Line } from './select.js'

export interface TailOptions {
  store: LogStore
  onLines: (n: number) => void
  /** How often the store is asked for new lines. */
  pollMs?: number
}

/** Loki's tail message: streams of new lines, and the entries the server dropped (none here). */
export function tailMessage (lines: Line[]): string {
  const groups = new Map<string, { stream: Labels, values: Array<[string, string]> }>()
  for (const l of lines) {
    const key = labelsKey(l.labels)
    let g = groups.get(key)
    if (g === undefined) { g = { stream: sortedLabels(l.labels), values: [] }; groups.set(key, g) }
    g.values.push([l.ts, l.line])
  }
  return JSON.stringify({ streams: [...groups.values()], dropped_entries: [] })
}

function byTs (a: Line, b: Line): number {
  return compareNs(a.ts, b.ts)
}

/**
 * GET /tail over WebSocket: `query` (a log query), `start` (default an hour ago), `limit`
 * (history lines sent first, default 100). Then every new line the store commits, in order
 * per stream; streams that appear later are picked up at the next poll.
 */
export const lokiTail: FastifyPluginAsync<TailOptions> = async (app, opts) => {
  const { store } = opts
  const pollMs = opts.pollMs ?? 500
  await app.register(websocket, { options: { maxPayload: 1 << 20 } })
  // An upgrade refused before this plugin's hooks ran (401 from the token check) leaves its
  // socket outside the server's connection tracking: close it, or `close()` waits on it forever.
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode >= 400 && req.headers.upgrade?.toLowerCase() === 'websocket') req.raw.socket?.destroy()
  })

  const tailSocket = (socket: WebSocket, req: FastifyRequest<{ Querystring: p.Query }>): void => {
    let closed = false
    let timer: NodeJS.Timeout | undefined
    socket.on('close', () => { closed = true; if (timer) clearTimeout(timer) })
    socket.on('error', () => { closed = true })
    const fail = (err: unknown) => {
      if (closed) return
      const msg = err instanceof Error ? err.message : String(err)
      // 1008 policy violation for bad requests, 1011 for server errors; the reason is capped at 123 bytes.
      socket.close(err instanceof DaytwoError && err.statusCode < 500 ? 1008 : 1011, Buffer.from(msg).subarray(0, 123).toString())
    }
    void (async () => {
      const q = req.query
      const src = p.one(q, 'query')
      if (src === undefined) throw new DaytwoError('BAD_LOGQL', 'query is required')
      const expr = parseLogQL(src)
      if (!isLogExpr(expr)) throw new DaytwoError('BAD_LOGQL', 'tail needs a log query, not a metric query')
      const org = orgScope(req)
      const startNs = p.time(q, 'start', BigInt(nowNs()) - 3_600_000_000_000n)
      const limit = p.limit(q, 100)
      const after = new Map<string, number>()
      // History first: the newest `limit` lines since start, oldest first.
      let history: Line[] = []
      await scan(store, await select(store, expr, org), startNs, undefined, (_s, lines) => {
        history.push(...lines)
        if (history.length > 2 * limit) history = history.sort(byTs).slice(-limit)
      }, after)
      history = history.sort(byTs).slice(-limit)
      if (history.length > 0 && !closed) { socket.send(tailMessage(history)); opts.onLines(history.length) }
      const poll = async () => {
        if (closed) return
        const fresh: Line[] = []
        // Re-select each time: a stream that appeared since the last poll is read from its start.
        await scan(store, await select(store, expr, org), startNs, undefined, (_s, lines) => { fresh.push(...lines) }, after)
        if (fresh.length > 0 && !closed) { socket.send(tailMessage(fresh)); opts.onLines(fresh.length) }
        if (!closed) timer = setTimeout(() => { poll().catch(fail) }, pollMs)
      }
      await poll()
    })().catch(fail)
  }
  // A plain GET (no WebSocket upgrade) is a client error, as in Loki; @fastify/websocket would answer an empty 404.
  app.route({
    method: 'GET',
    url: '/tail',
    wsHandler: tailSocket as never,
    handler: async () => { throw new DaytwoError('BAD_REQUEST', 'tail needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)') }
  })
}
