import { existsSync } from 'node:fs'
import { LRUCache } from 'lru-cache'
import type { ForwarderConfig } from '../../core/config-schema.js'
import type { Logger } from '../../core/logger.js'
import { KubernetesGet } from './http-get.js'

const IN_CLUSTER_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'

/** What the forwarder takes from a pod: its workload identity and labels. */
export interface PodMeta {
  deployment: string
  job: string
  index: string
  labels: Record<string, string>
}

export interface Pod {
  metadata?: {
    name?: string
    namespace?: string
    labels?: Record<string, string>
    ownerReferences?: Array<{ apiVersion?: string, kind?: string, name?: string, controller?: boolean }>
  }
}

/**
 * The identity of a pod from its owner references, as `kubectl get pods -o wide` would
 * tell: a ReplicaSet's Deployment (its name less the pod-template-hash), a StatefulSet and
 * its ordinal, a DaemonSet, a Job. The index is the StatefulSet ordinal, else the pod's
 * unique suffix.
 */
export function podIdentity (pod: Pod, deploymentLabel: string): PodMeta | null {
  const md = pod.metadata
  if (!md?.name || !md.namespace) return null
  const labels = md.labels ?? {}
  const owner = md.ownerReferences?.find((o) => o.controller) ?? md.ownerReferences?.[0]
  let job = md.name
  let index = '0'
  if (owner?.name) {
    job = owner.name
    if (owner.kind === 'ReplicaSet') {
      const hash = labels['pod-template-hash']
      if (hash && job.endsWith('-' + hash)) job = job.slice(0, -hash.length - 1)
    }
    if (owner.kind === 'StatefulSet') {
      index = labels['apps.kubernetes.io/pod-index'] ?? md.name.slice(owner.name.length + 1)
    } else {
      const prefix = owner.kind === 'ReplicaSet' ? owner.name + '-' : job + '-'
      index = md.name.startsWith(prefix) ? md.name.slice(prefix.length) : md.name
    }
  }
  const deployment = (deploymentLabel && labels[deploymentLabel]) || md.namespace
  return { deployment, job, index, labels }
}

/**
 * Pod metadata for the pods on this node: the kubelet's /pods first (one request answers
 * for every pod, and an agent per node must not load the API server), the API server for a
 * pod the kubelet does not know. Cached with lru-cache: at most one request in flight per
 * key, one per key per TTL, and a lookup that fails answers null, never blocks a reader.
 */
export class PodMetadata {
  private readonly cache: LRUCache<string, PodMeta | false>
  private podList: Promise<Map<string, PodMeta>> | null = null
  private podListAt = 0
  private readonly kubelet: KubernetesGet
  private readonly apiServer: KubernetesGet
  requests = 0

  constructor (private readonly cfg: ForwarderConfig['kubernetes'], private readonly log: Logger) {
    this.kubelet = new KubernetesGet({ tokenFile: cfg.tokenFile, caFile: cfg.caFile, insecureSkipVerify: cfg.kubeletInsecureSkipVerify })
    this.apiServer = new KubernetesGet(this.apiServerTls())
    this.cache = new LRUCache<string, PodMeta | false>({
      max: 10000,
      ttl: cfg.cacheTtlMs,
      // A failed lookup is remembered too (as false), so a dead kubelet is not asked per file.
      fetchMethod: async (key) => (await this.lookup(key)) ?? false
    })
  }

  get enabled (): boolean { return this.cfg.kubeletUrl !== '' || this.cfg.apiServerUrl !== '' }

  async get (namespace: string, pod: string): Promise<PodMeta | null> {
    if (!this.enabled) return null
    try {
      return (await this.cache.fetch(`${namespace}/${pod}`)) || null
    } catch {
      return null
    }
  }

  private async lookup (key: string): Promise<PodMeta | null> {
    if (this.cfg.kubeletUrl) {
      try {
        const meta = (await this.kubeletPods()).get(key)
        if (meta) return meta
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'kubelet pod list unavailable; tags come from log paths')
      }
    }
    if (this.cfg.apiServerUrl) {
      const [ns, name] = key.split('/')
      try {
        this.requests++
        const pod = await this.apiServer.json(`${this.cfg.apiServerUrl.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(ns!)}/pods/${encodeURIComponent(name!)}`)
        return podIdentity(pod as Pod, this.cfg.deploymentLabel)
      } catch (err) {
        this.log.warn({ err: (err as Error).message, pod: key }, 'API server pod lookup failed; tags come from the log path')
      }
    }
    return null
  }

  /**
   * The API server is always verified: with forwarder.kubernetes.caFile, else the in-cluster
   * service-account CA when it exists, else the system CAs.
   */
  private apiServerTls (): { tokenFile: string, caFile?: string } {
    const caFile = this.cfg.caFile !== '' ? this.cfg.caFile : existsSync(IN_CLUSTER_CA) ? IN_CLUSTER_CA : undefined
    return { tokenFile: this.cfg.tokenFile, ...(caFile !== undefined ? { caFile } : {}) }
  }

  /** The kubelet's pod list, fetched at most once per TTL however many pods are asked for. */
  private async kubeletPods (): Promise<Map<string, PodMeta>> {
    if (this.podList && Date.now() - this.podListAt < this.cfg.cacheTtlMs) return await this.podList
    this.podListAt = Date.now()
    this.requests++
    this.podList = this.kubelet.json(`${this.cfg.kubeletUrl.replace(/\/$/, '')}/pods`).then((body) => {
      const out = new Map<string, PodMeta>()
      for (const pod of (body as { items?: Pod[] }).items ?? []) {
        const meta = podIdentity(pod, this.cfg.deploymentLabel)
        if (meta) out.set(`${pod.metadata!.namespace}/${pod.metadata!.name}`, meta)
      }
      return out
    })
    // A failure is not cached beyond this call's TTL window of the LRU entries.
    this.podList.catch(() => { this.podList = null })
    return await this.podList
  }
}
