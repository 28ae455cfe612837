import { streamId } from '../../../core/ids.js'
import type { Attributes, StreamTags } from '../../../core/record.js'
import { FACILITIES, SEVERITIES } from '../syslog/syslog-message.js'
import type { DeploymentRule } from '../syslog/stream-tags.js'

// Which stream a journal entry belongs to, and its tags (docs/forwarder.md "journald"):
//   deployment  forwarder.journald.deployments (unit glob → deployment), else forwarder.journald.deployment
//   job         the unit without its `.service` suffix (`kubelet`), else SYSLOG_IDENTIFIER, else _COMM
//   index       _HOSTNAME (a host's journal, or each sender's in a journal-remote directory), else the node
//   process     the unit (`kubelet.service`), else SYSLOG_IDENTIFIER, else _COMM
// A stream is one (host, unit or identifier): its tags are constant. What varies per entry
// (priority, facility, pid, command, boot) travels as per-line attributes.

/** The fields the source reads from each entry, and the longest value of each it keeps. */
export function fieldLimits (maxMessageBytes: number, maxAttributeBytes: number): Map<string, number> {
  const m = new Map<string, number>()
  // One byte more than kept: a value that fills it was longer than allowed (cut, counted).
  m.set('MESSAGE', maxMessageBytes + 1)
  // Cursors are a few hundred bytes; a longer one is not journalctl's.
  m.set('__CURSOR', 4096)
  m.set('__REALTIME_TIMESTAMP', 32)
  for (const f of IDENTITY_FIELDS) m.set(f, maxAttributeBytes + 1)
  for (const f of Object.keys(ATTRIBUTE_FIELDS)) m.set(f, maxAttributeBytes + 1)
  return m
}

const IDENTITY_FIELDS = ['_SYSTEMD_UNIT', 'SYSLOG_IDENTIFIER', '_COMM', '_HOSTNAME']

/** Journal field → per-line attribute (PRIORITY and SYSLOG_FACILITY become severity and facility by name). */
const ATTRIBUTE_FIELDS: Record<string, string> = {
  PRIORITY: 'severity',
  SYSLOG_FACILITY: 'facility',
  _PID: 'pid',
  _COMM: 'comm',
  _BOOT_ID: 'boot_id',
  SYSLOG_IDENTIFIER: 'syslog_identifier',
  _TRANSPORT: 'transport'
}

export interface Identity {
  /** The stream key: host and unit (or identifier), NUL-joined. */
  key: string
  host: string
  unit: string
}

/** An entry's host and unit-or-identifier, from its (already bounded) fields. */
export function identityOf (fields: ReadonlyMap<string, Buffer>, node: string): Identity {
  const host = text(fields, '_HOSTNAME') || node
  const unit = text(fields, '_SYSTEMD_UNIT') || text(fields, 'SYSLOG_IDENTIFIER') || text(fields, '_COMM') || 'journald'
  return { key: host + '\0' + unit, host, unit }
}

export interface TagContext {
  node: string
  /** Random per cursor file: a wiped checkpoint restarts the offsets, so must not reuse ids. */
  epoch: string
  /** Where the journal is read from, e.g. `journald://local` or `journald:///host/var/log/journal`. */
  location: string
  rules: DeploymentRule[]
  defaultDeployment: string
}

export function streamTags (id: Identity, ctx: TagContext): StreamTags {
  let deployment = ctx.defaultDeployment
  for (const r of ctx.rules) if (r.pattern.test(id.unit)) { deployment = r.deployment; break }
  const job = id.unit.endsWith('.service') ? id.unit.slice(0, -'.service'.length) : id.unit
  return {
    id: streamId(ctx.node, 'journald', ctx.epoch, ctx.location, id.host, id.unit, deployment, job, id.host),
    source: 'journald',
    node: ctx.node,
    deployment,
    job,
    index: id.host,
    process: id.unit,
    path: `${ctx.location}/${id.unit}`,
    labels: { hostname: id.host, unit: id.unit }
  }
}

/** The entry's per-line attributes; `cut` counts values cut to `maxBytes`. */
export function lineAttributes (fields: ReadonlyMap<string, Buffer>, maxBytes: number, cut: { n: number }): Attributes | undefined {
  let a: Attributes | undefined
  for (const f in ATTRIBUTE_FIELDS) {
    const v = fields.get(f)
    if (v === undefined || v.length === 0) continue
    let s: string
    if (f === 'PRIORITY') s = SEVERITIES[Number(v.toString('latin1'))] ?? v.toString('latin1').slice(0, 8)
    else if (f === 'SYSLOG_FACILITY') s = FACILITIES[Number(v.toString('latin1'))] ?? v.toString('latin1').slice(0, 8)
    else if (v.length > maxBytes) { s = utf8Head(v, maxBytes); cut.n++ } else s = v.toString('utf8')
    ;(a ??= {})[ATTRIBUTE_FIELDS[f]!] = s
  }
  return a
}

function text (fields: ReadonlyMap<string, Buffer>, name: string): string {
  const v = fields.get(name)
  return v === undefined ? '' : v.toString('utf8')
}

/** The first bytes of `b`, at most `max`, not ending inside a UTF-8 character. */
export function utf8Head (b: Buffer, max: number): string {
  let end = Math.min(max, b.length)
  if (end < b.length) while (end > 0 && (b[end]! & 0xc0) === 0x80) end--
  return b.toString('utf8', 0, end)
}
