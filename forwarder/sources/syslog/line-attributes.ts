import { MAX_ATTRIBUTES, type Attributes, type StreamTags } from '../../../core/record.js'
import { FACILITIES, SEVERITIES, type SyslogMessage } from './syslog-message.js'

const PLAIN_CACHE_MAX = 10_000

/**
 * What varies per message and is not a stream tag: facility and severity by name, msgid, and
 * structured data not already among the stream's labels (identity elements are). Attributes
 * without such structured data are shared between messages: treat them as read-only.
 */
export function lineAttributes (m: SyslogMessage, tags: StreamTags): Attributes | undefined {
  if (m.format === 'none' && m.pri !== true) return undefined
  let plain = true
  for (const el of m.sd) for (const [k] of el.params) if (tags.labels?.[`sd.${el.id}.${k}`] === undefined) plain = false
  if (plain) return plainAttributes(m.facility, m.severity, m.msgId)
  const a: Attributes = { facility: FACILITIES[m.facility] ?? String(m.facility), severity: SEVERITIES[m.severity] ?? String(m.severity) }
  if (m.msgId !== '') a.msgid = m.msgId
  for (const el of m.sd) {
    for (const [k, v] of el.params) {
      const key = `sd.${el.id}.${k}`
      if (tags.labels?.[key] === undefined && Object.keys(a).length < MAX_ATTRIBUTES) a[key] = v
    }
  }
  return a
}

const plainCache = new Map<string, Attributes>()

function plainAttributes (facility: number, severity: number, msgId: string): Attributes {
  const key = String(facility * 8 + severity) + ' ' + msgId
  let a = plainCache.get(key)
  if (a === undefined) {
    a = { facility: FACILITIES[facility] ?? String(facility), severity: SEVERITIES[severity] ?? String(severity) }
    if (msgId !== '') a.msgid = msgId
    Object.freeze(a)
    if (plainCache.size >= PLAIN_CACHE_MAX) plainCache.clear()
    plainCache.set(key, a)
  }
  return a
}
