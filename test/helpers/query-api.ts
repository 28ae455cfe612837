import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The operator token `serve all` wrote into its data dir. */
export function operatorToken (dataDir: string): string {
  return readFileSync(join(dataDir, 'operator-token'), 'utf8').trim()
}

/** Lines the store holds, per `deployment/job`, as the query API reports them. */
export async function storedLines (queryUrl: string, token: string): Promise<Map<string, number>> {
  const res = await fetch(`${queryUrl}/api/v1/instances`, { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) throw new Error(`instances: HTTP ${res.status}`)
  const body = await res.json() as { instances: Array<{ deployment: string, job: string, files: Array<{ lines: number }> }> }
  const out = new Map<string, number>()
  for (const i of body.instances) {
    const key = `${i.deployment}/${i.job}`
    out.set(key, (out.get(key) ?? 0) + i.files.reduce((n, f) => n + f.lines, 0))
  }
  return out
}

export async function totalStored (queryUrl: string, token: string): Promise<number> {
  let n = 0
  for (const v of (await storedLines(queryUrl, token)).values()) n += v
  return n
}
