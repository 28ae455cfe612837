import type { StreamTags } from '../../core/record.js'
import { DirectoryError, JsonClient } from './http-json.js'
import type { TenantAnswer, TenantDirectory } from './tenant.js'

// Tenants from Kubernetes namespace metadata, the way a namespace-per-team cluster is run:
//   metadata.annotations (or labels) daytwo.io/org, daytwo.io/space, daytwo.io/app
// `GET /api/v1/namespaces/<ns>` with the pod's service-account token (in-cluster config).

export const ORG_KEY = 'daytwo.io/org'
export const SPACE_KEY = 'daytwo.io/space'
export const APP_KEY = 'daytwo.io/app'

interface NamespaceDoc {
  kind?: string
  metadata?: { name?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
}

/** The API base URL given, else the in-cluster one. */
export function kubernetesApiUrl (configured: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return configured
  const host = env.KUBERNETES_SERVICE_HOST
  if (!host) return ''
  const h = host.includes(':') ? `[${host}]` : host
  return `https://${h}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`
}

export class KubernetesNamespaces implements TenantDirectory {
  readonly name = 'kubernetes'
  constructor (private readonly client: JsonClient) {}

  key (tags: StreamTags): string | null {
    return tags.namespace ? tags.namespace : null
  }

  async resolve (ns: string, signal: AbortSignal): Promise<TenantAnswer | null> {
    const doc = await this.client.get(`api/v1/namespaces/${encodeURIComponent(ns)}`, signal) as NamespaceDoc | null
    if (doc === null) return null
    if (typeof doc !== 'object' || typeof doc.metadata !== 'object') throw new DirectoryError(`namespace ${ns}: not a Namespace object`, 'bad_answer')
    const ann = doc.metadata.annotations ?? {}
    const lab = doc.metadata.labels ?? {}
    const pick = (k: string): string | undefined => ann[k] || lab[k] || undefined
    const org = pick(ORG_KEY)
    if (!org) return null
    return { org, space: pick(SPACE_KEY) ?? ns, app: pick(APP_KEY) ?? null }
  }
}
