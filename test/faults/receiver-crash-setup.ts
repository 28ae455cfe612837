import assert from 'node:assert/strict'
import { join } from 'node:path'
import { freePort, startDaytwo, tempDir, waitFor, type DaytwoProcess } from '../helpers/daytwo-process.js'
import { sleep, storedMessages } from '../helpers/faults.js'

// For the receivers' kill -9 tests (receiver-crash.test.ts, otlp-crash.test.ts): a
// `serve collector,query` that can be killed and restarted on the same ports and data, and
// the kill itself, while the senders still send.

export const TOKEN = 'receiver-crash-token'
export const OPERATOR = 'receiver-crash-operator'

export interface Collector { d: DaytwoProcess, url: string, query: string, restart: () => Promise<void> }

export async function collector (t: { after: (fn: () => unknown) => void }): Promise<Collector> {
  const tmp = tempDir('daytwo-receiver-crash-')
  const [cport, qport] = [await freePort(), await freePort()]
  const config = {
    dataDir: join(tmp.path, 'data'),
    logLevel: 'warn',
    collector: { port: cport, tokens: [TOKEN], maxFutureSkewMs: 600_000 },
    query: { port: qport, tokens: [OPERATOR] }
  }
  const c = { url: `http://127.0.0.1:${cport}`, query: `http://127.0.0.1:${qport}` } as Collector
  c.restart = async () => { c.d = await startDaytwo('collector,query', config, tmp.path) }
  await c.restart()
  t.after(async () => { await c.d.kill(); tmp.cleanup() })
  return c
}

/** Kill -9 twice, each time once `stored()` passed a mark and while the senders still send. */
export async function killTwice (c: Collector, stored: () => Promise<number>, marks: [number, number], sending: () => boolean): Promise<number[]> {
  const at: number[] = []
  for (const mark of marks) {
    assert.ok(await waitFor(async () => await stored() >= mark, 60_000, 10), `${mark} lines stored before a kill`)
    assert.ok(sending(), 'the senders are still sending at the kill')
    at.push(await stored())
    await c.d.kill()
    await sleep(400) // the clients retry against a closed port meanwhile
    await c.restart()
  }
  return at
}

/** How many lines of `deployment` are stored (-1 while the query service is down). */
export const count = (c: Collector, deployment: string) => async () => {
  try { return (await storedMessages(c.query, OPERATOR, deployment)).length } catch { return -1 }
}
