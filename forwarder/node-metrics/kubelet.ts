import { readFile } from 'node:fs/promises'
import type { Instance, SampleSet } from '../../core/metric-samples.js'
import { HttpClient } from '../../core/http-client.js'
import { workloadOf } from '../tags.js'
import { userAgent } from '../../core/version.js'

// Pod resource metrics from the kubelet on this node (`GET /stats/summary`), never from the API
// server: one agent per node must not load the control plane. Unreachable or
// refusing kubelets are skipped quietly: `daytwo_node_kubelet_up` says so.

const MAX_BODY = 32 * 1024 * 1024

interface ContainerStats {
  name?: string
  cpu?: { usageCoreNanoSeconds?: number }
  memory?: { workingSetBytes?: number, rssBytes?: number }
}
interface PodStats { podRef?: { name?: string, namespace?: string }, containers?: ContainerStats[] }
export interface StatsSummary { pods?: PodStats[] }

export interface KubeletOptions {
  url: string
  tokenFile: string
  caFile: string
  insecureSkipVerify: boolean
  timeoutMs: number
}


/** Samples for each container of each pod, tagged with the pod's deployment/job/index. */
export function summarySamples (summary: StatsSummary, out: SampleSet): Instance[] {
  const instances: Instance[] = []
  for (const pod of summary.pods ?? []) {
    const ns = pod.podRef?.namespace; const name = pod.podRef?.name
    if (!ns || !name) continue
    const w = workloadOf(name)
    instances.push({ deployment: ns, job: w.job, index: w.index })
    for (const ctr of pod.containers ?? []) {
      if (!ctr.name) continue
      const labels = [ns, w.job, w.index, ctr.name]
      if (typeof ctr.cpu?.usageCoreNanoSeconds === 'number') out.add('daytwo_pod_container_cpu_seconds_total', labels, ctr.cpu.usageCoreNanoSeconds / 1e9)
      if (typeof ctr.memory?.workingSetBytes === 'number') out.add('daytwo_pod_container_memory_working_set_bytes', labels, ctr.memory.workingSetBytes)
      if (typeof ctr.memory?.rssBytes === 'number') out.add('daytwo_pod_container_memory_rss_bytes', labels, ctr.memory.rssBytes)
    }
  }
  return instances
}

export class Kubelet {
  /** The last failure, logged once until the kubelet answers again. */
  lastError: string | null = null
  /** The client and the CA it was made with: the CA file is read at every collect (it may rotate), the client remade when it changed. */
  private client: { ca: string | undefined, http: HttpClient } | null = null

  constructor (private readonly opts: KubeletOptions) {}

  private async http (): Promise<HttpClient> {
    const ca = this.opts.caFile ? await readFile(this.opts.caFile, 'utf8') : undefined
    if (this.client === null || this.client.ca !== ca) {
      void this.client?.http.close()
      this.client = { ca, http: new HttpClient({ connections: 1, tls: { ...(ca !== undefined ? { ca } : {}), insecureSkipVerify: this.opts.insecureSkipVerify } }) }
    }
    return this.client.http
  }

  get enabled (): boolean { return this.opts.url !== '' }

  /** Pod instances seen, or null when the kubelet could not be read (reason in lastError). */
  async collect (nodeId: string[], out: SampleSet): Promise<Instance[] | null> {
    if (!this.enabled) return null
    try {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent('forwarder') }
      const token = await readOptional(this.opts.tokenFile)
      if (token) headers.authorization = `Bearer ${token.trim()}`
      const res = await (await this.http()).request(new URL('/stats/summary', this.opts.url), { headers, timeoutMs: this.opts.timeoutMs, maxBodyBytes: MAX_BODY })
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      const summary = JSON.parse(res.body.toString('utf8')) as StatsSummary
      const instances = summarySamples(summary, out)
      out.add('daytwo_node_kubelet_up', nodeId, 1)
      this.lastError = null
      return instances
    } catch (err) {
      out.add('daytwo_node_kubelet_up', nodeId, 0)
      this.lastError = (err as Error).message
      return null
    }
  }
}

async function readOptional (file: string): Promise<string | null> {
  if (!file) return null
  try { return await readFile(file, 'utf8') } catch { return null } // no token file: anonymous, as a kubelet may allow
}
