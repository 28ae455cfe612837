import type { QueryClient } from './client.js'
import { terminalMessage, terminalSafe } from './terminal-text.js'

interface Job { deployment: string, job: string, index: string }

/**
 * What to say when a fetch found nothing: the deployments, jobs or instances that do exist,
 * at the level where the name went wrong (as `bosh logs` names the instance groups). The
 * names come from whoever shipped logs: their control characters are escaped (terminal-text.ts).
 */
export async function notFoundMessage (client: QueryClient, t: { deployment: string, job?: string | undefined, index?: string | undefined }, serverMessage: string): Promise<string> {
  const { jobs } = await client.json<{ jobs: Job[] }>('/api/v1/jobs')
  const name = terminalSafe([t.deployment, t.job, t.index].filter(Boolean).join('/'))
  const list = (xs: string[]) => [...new Set(xs)].sort().map((x) => '\n  ' + terminalSafe(x)).join('')
  const q = (x: string | undefined) => terminalSafe(x ?? '')
  const knownJobs = list(jobs.map((j) => `${j.deployment}/${j.job}`)) || '\n  (none yet: is a forwarder shipping to this store?)'
  const inDeployment = jobs.filter((j) => j.deployment === t.deployment)
  if (inDeployment.length === 0) return `no logs for ${name}: no deployment '${q(t.deployment)}'. Known jobs:${knownJobs}`
  const inJob = inDeployment.filter((j) => j.job === t.job)
  if (t.job !== undefined && inJob.length === 0) return `no logs for ${name}: no job '${q(t.job)}' in deployment '${q(t.deployment)}'. Known jobs:${knownJobs}`
  if (t.index !== undefined && !inJob.some((j) => j.index === t.index)) {
    return `no logs for ${name}: no instance with index '${q(t.index)}'. Instances of ${q(t.deployment)}/${q(t.job)}:${list(inJob.map((j) => `${j.deployment}/${j.job}/${j.index}`))}`
  }
  // The instance exists: the filter (--only) matched nothing; the server says which.
  return terminalMessage(serverMessage) || `no logs for ${name}`
}
