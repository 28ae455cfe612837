import { connect, type Socket } from 'node:net'

// Tools for the attack tests (issue 14): a prober that keeps asking /healthz while an attack
// runs and keeps the slowest answer, and raw sockets from chosen loopback addresses (Linux
// routes all of 127/8 to lo), so the attacker is one client address and the prober another.

export interface Prober {
  /** Stop probing; resolves to the slowest answer (ms) and the failed probes. */
  stop: () => Promise<{ slowestMs: number, probes: number, failures: string[] }>
  /** What the probes found so far. */
  peek: () => { slowestMs: number, probes: number, failures: string[] }
}

/** GET `${url}/healthz` for every url, one round every `everyMs`, each with a 5 s deadline. */
export function probe (urls: string[], everyMs = 200): Prober {
  let slowest = 0
  let probes = 0
  const failures: string[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      await Promise.all(urls.map(async (url) => {
        const t0 = performance.now()
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })
          await res.text()
          if (res.status !== 200) failures.push(`${url}: ${res.status}`)
        } catch (err) {
          failures.push(`${url}: ${(err as Error).message}`)
        }
        slowest = Math.max(slowest, performance.now() - t0)
        probes++
      }))
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    peek: () => ({ slowestMs: slowest, probes, failures: [...failures] }),
    stop: async () => {
      running = false
      await loop
      return { slowestMs: slowest, probes, failures }
    }
  }
}

export interface RawClient {
  socket: Socket
  /** Everything the server sent. */
  received: () => string
  /** Resolves when the server (or an error) closed the socket. */
  closed: Promise<void>
  isClosed: () => boolean
}

/** A TCP connection from `localAddress` to 127.0.0.1:port; resolves once connected (or closed). */
export async function rawClient (port: number, localAddress: string): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, localAddress })
  const chunks: Buffer[] = []
  let isClosed = false
  socket.on('data', (c: Buffer) => { if (chunks.length < 16) chunks.push(c) })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { isClosed = true; resolve() }))
  await Promise.race([new Promise<void>((resolve) => socket.once('connect', () => resolve())), closed])
  return { socket, received: () => Buffer.concat(chunks).toString('latin1'), closed, isClosed: () => isClosed }
}

/** The port of an http(s)://host:port URL. */
export function portOf (url: string): number {
  return Number(new URL(url).port)
}

/** Resolves after `ms`, or to 'timeout' when `p` has not settled by then. */
export async function within<T> (p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms) })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}
