import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { configSchema, type Config } from './config-schema.js'
import { DaytwoError } from './errors.js'

export type { Config } from './config-schema.js'

/** Environment variables daytwo reads that are not configuration keys (the CLI's own). */
const NON_CONFIG_ENV = new Set(['DAYTWO_CONFIG', 'DAYTWO_TOKEN', 'DAYTWO_QUERY_URL'])

export interface ConfigKey {
  path: string[]
  env: string
  type: string
  default: unknown
  description: string
  enum?: unknown[]
}

interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  default?: unknown
  description?: string
  enum?: unknown[]
}

/** `forwarder.collectorUrl` → `DAYTWO_FORWARDER_COLLECTOR_URL`. */
export function envName (path: string[]): string {
  return 'DAYTWO_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

let keysCache: ConfigKey[] | undefined

/** Every leaf key of the schema, with its env var, type, default and description. */
export function configKeys (): ConfigKey[] {
  if (keysCache) return keysCache
  const root = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchema
  const out: ConfigKey[] = []
  const walk = (s: JsonSchema, path: string[]) => {
    if (s.type === 'object' && s.properties) {
      for (const [k, v] of Object.entries(s.properties)) walk(v, [...path, k])
      return
    }
    const type = Array.isArray(s.type) ? s.type.join('|') : (s.type ?? (s.enum ? 'string' : 'unknown'))
    out.push({ path, env: envName(path), type: type === 'array' ? `${s.items?.type ?? 'string'}[]` : type, default: s.default, description: s.description ?? '', enum: s.enum })
  }
  walk(root, [])
  keysCache = out
  return out
}

function coerce (key: ConfigKey, raw: string): unknown {
  if (key.type === 'number' || key.type === 'integer') {
    const n = Number(raw)
    if (raw.trim() === '' || Number.isNaN(n)) throw new DaytwoError('CONFIG', `${key.env}=${JSON.stringify(raw)}: expected a number`)
    return n
  }
  if (key.type === 'boolean') {
    if (raw === 'true' || raw === '1') return true
    if (raw === 'false' || raw === '0') return false
    throw new DaytwoError('CONFIG', `${key.env}=${JSON.stringify(raw)}: expected true or false`)
  }
  if (key.type.endsWith('[]') && raw.trim().startsWith('[')) {
    try { return JSON.parse(raw) as unknown } catch (err) { throw new DaytwoError('CONFIG', `${key.env}: not a JSON array (${(err as Error).message})`) }
  }
  if (key.type.endsWith('[]')) return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  return raw
}

function setPath (obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj
  for (const p of path.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {}
    o = o[p] as Record<string, unknown>
  }
  o[path[path.length - 1]!] = value
}

function fromEnv (env: NodeJS.ProcessEnv): Record<string, unknown> {
  const byEnv = new Map(configKeys().map((k) => [k.env, k]))
  const out: Record<string, unknown> = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('DAYTWO_') || raw === undefined || NON_CONFIG_ENV.has(name)) continue
    const key = byEnv.get(name)
    if (!key) throw new DaytwoError('CONFIG', `unknown environment variable ${name}; run \`logs config-reference\` for the keys`)
    setPath(out, key.path, coerce(key, raw))
  }
  return out
}

function deepMerge (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k]
    out[k] = (isPlainObject(prev) && isPlainObject(v)) ? deepMerge(prev, v) : v
  }
  return out
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describeIssue (issue: z.core.$ZodIssue): string {
  const at = issue.path.join('.')
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `unknown key ${[...issue.path, k].join('.')}`).join('; ')
  }
  return `${at || '(root)'}: ${issue.message}`
}

export interface LoadOptions {
  file?: string
  env?: NodeJS.ProcessEnv
  /** Highest precedence: values set by the command line or by tests. */
  overrides?: Record<string, unknown>
}

/** Defaults < config file < environment < overrides. Throws DAYTWO_ERR_CONFIG naming the key. */
export function loadConfig (opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env
  const file = opts.file ?? env.DAYTWO_CONFIG
  let fromFile: Record<string, unknown> = {}
  if (file) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new DaytwoError('CONFIG', `cannot read config file ${file}: ${(err as Error).message}`)
    }
    try {
      const parsed: unknown = JSON.parse(text)
      if (!isPlainObject(parsed)) throw new Error('the top level must be an object')
      fromFile = parsed
    } catch (err) {
      throw new DaytwoError('CONFIG', `config file ${file} is not valid JSON: ${(err as Error).message}`)
    }
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv(env)), opts.overrides ?? {})
  const result = configSchema.safeParse(merged)
  if (!result.success) {
    throw new DaytwoError('CONFIG', result.error.issues.map(describeIssue).join('; '))
  }
  return result.data
}

/** The configuration table of docs/configuration.md, generated from the schema. */
export function configReferenceMarkdown (): string {
  const rows = configKeys().map((k) => {
    const def = k.path[0] === 'node' ? '(host name)' : JSON.stringify(k.default ?? '')
    const type = k.enum ? k.enum.map((e) => `\`${String(e)}\``).join(' \\| ') : k.type
    return `| \`${k.path.join('.')}\` | \`${k.env}\` | ${type} | \`${def}\` | ${k.description.replace(/\|/g, '\\|')} |`
  })
  return ['| key | environment | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}
