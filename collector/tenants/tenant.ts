import type { StreamTags } from '../../core/record.js'

/** The org of records whose directory failed or did not answer in time. */
export const UNKNOWN_ORG = 'unknown'

/**
 * One source of tenant answers. `key` says which lookup a stream needs (null: this directory
 * has nothing to say about it); `resolve` answers for a key, null when the directory knows the
 * key but has no tenant for it, and throws when the directory failed.
 */
export interface TenantDirectory {
  readonly name: string
  key (tags: StreamTags): string | null
  resolve (key: string, signal: AbortSignal): Promise<TenantAnswer | null>
}

/** What a directory knows; `app` null means "the stream's job". */
export interface TenantAnswer {
  org: string
  space: string
  app: string | null
}

export function glob (pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
}
