import { readFileSync } from 'node:fs'
import { DaytwoError } from '../../core/errors.js'
import type { StreamTags } from '../../core/record.js'
import { glob, type TenantAnswer } from './tenant.js'

// The static mapping file: rules tried in order, the first whose every `match` key matches the
// stream's tag wins. For BOSH deployments and anything the directories do not describe.
//   {"rules":[{"match":{"deployment":"cf","job":"router*"},"org":"system","space":"routing","app":"gorouter"}]}

const MATCH_KEYS = ['deployment', 'job', 'namespace', 'process'] as const
type MatchKey = typeof MATCH_KEYS[number]

interface Rule {
  match: Array<[MatchKey, RegExp]>
  answer: TenantAnswer
}

export class StaticMapping {
  private constructor (private readonly rules: Rule[]) {}

  get size (): number { return this.rules.length }

  static load (file: string): StaticMapping {
    let doc: unknown
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new DaytwoError('CONFIG', `collector.tenants.mappingFile ${file}: ${(err as Error).message}`)
    }
    return StaticMapping.parse(doc, file)
  }

  static parse (doc: unknown, where = 'mapping'): StaticMapping {
    const bad = (why: string) => new DaytwoError('CONFIG', `collector.tenants.mappingFile ${where}: ${why}`)
    const rules = (doc as { rules?: unknown } | null)?.rules
    if (!Array.isArray(rules)) throw bad('expected {"rules": [...]}')
    return new StaticMapping(rules.map((r: unknown, i) => {
      const o = r as Record<string, unknown> | null
      if (typeof o !== 'object' || o === null) throw bad(`rules[${i}] must be an object`)
      for (const k of Object.keys(o)) if (!['match', 'org', 'space', 'app'].includes(k)) throw bad(`rules[${i}]: unknown key ${k}`)
      if (typeof o.org !== 'string' || o.org === '') throw bad(`rules[${i}].org must be a non-empty string`)
      for (const k of ['space', 'app']) if (o[k] !== undefined && typeof o[k] !== 'string') throw bad(`rules[${i}].${k} must be a string`)
      const m = o.match as Record<string, unknown> | undefined
      if (typeof m !== 'object' || m === null || Object.keys(m).length === 0) throw bad(`rules[${i}].match must name at least one of ${MATCH_KEYS.join(', ')}`)
      const match = Object.entries(m).map(([k, v]): [MatchKey, RegExp] => {
        if (!(MATCH_KEYS as readonly string[]).includes(k)) throw bad(`rules[${i}].match: unknown key ${k} (use ${MATCH_KEYS.join(', ')})`)
        if (typeof v !== 'string') throw bad(`rules[${i}].match.${k} must be a string`)
        return [k as MatchKey, glob(v)]
      })
      return { match, answer: { org: o.org, space: (o.space as string | undefined) ?? '', app: (o.app as string | undefined) ?? null } }
    }))
  }

  lookup (tags: StreamTags): TenantAnswer | null {
    for (const r of this.rules) {
      if (r.match.every(([k, re]) => re.test(tags[k] ?? ''))) return r.answer
    }
    return null
  }
}
