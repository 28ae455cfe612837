import type { StreamTags } from '../../core/record.js'
import { DirectoryError, JsonClient } from './http-json.js'
import type { TenantAnswer, TenantDirectory } from './tenant.js'

// Tenants of Cloud Foundry app logs: the app GUID a stream carries (a label such as cf_app_id,
// or the RFC 5424 APP-NAME that loggregator's syslog agent sets to the app GUID) resolved to
// org, space and app names with one call: GET /v3/apps/<guid>?include=space.organization.

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

interface AppDoc {
  guid?: string
  name?: string
  relationships?: { space?: { data?: { guid?: string } } }
  included?: {
    spaces?: Array<{ guid?: string, name?: string, relationships?: { organization?: { data?: { guid?: string } } } }>
    organizations?: Array<{ guid?: string, name?: string }>
  }
}

export class CloudFoundryApps implements TenantDirectory {
  readonly name = 'cloudfoundry'
  constructor (private readonly client: JsonClient, private readonly labels: string[]) {}

  key (tags: StreamTags): string | null {
    for (const l of this.labels) {
      const v = tags.labels?.[l]
      if (v && GUID_RE.test(v)) return v.toLowerCase()
    }
    if (tags.source === 'syslog' && GUID_RE.test(tags.job)) return tags.job.toLowerCase()
    return null
  }

  async resolve (guid: string, signal: AbortSignal): Promise<TenantAnswer | null> {
    const doc = await this.client.get(`v3/apps/${guid}?include=space.organization`, signal) as AppDoc | null
    if (doc === null) return null
    const bad = (why: string) => new DirectoryError(`app ${guid}: ${why}`, 'bad_answer')
    if (typeof doc !== 'object' || typeof doc.name !== 'string') throw bad('no name')
    const spaceGuid = doc.relationships?.space?.data?.guid
    const space = doc.included?.spaces?.find((s) => s.guid === spaceGuid)
    if (!space || typeof space.name !== 'string') throw bad('space not included')
    const orgGuid = space.relationships?.organization?.data?.guid
    const org = doc.included?.organizations?.find((o) => o.guid === orgGuid)
    if (!org || typeof org.name !== 'string') throw bad('organization not included')
    return { org: org.name, space: space.name, app: doc.name }
  }
}
