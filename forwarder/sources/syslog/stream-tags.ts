import { streamId } from '../../../core/ids.js'
import type { StreamTags } from '../../../core/record.js'
import { FACILITIES, SEVERITIES, type SdElement, type SyslogMessage } from './syslog-message.js'

// Which stream a syslog message belongs to, and that stream's tags (README
// "deployment / job / index"):
//   - `daytwo@<PEN>` structured data names the identity outright: params deployment, job,
//     index, process (any of them);
//   - the BOSH syslog release's `instance@47450` element (director, deployment, group, az,
//     id) gives deployment, job = instance group, index = instance id, and the app-name is
//     the BOSH job process — so `logs fetch cf/router` finds a router's forwarded logs
//     beside its tailed ones;
//   - otherwise deployment comes from `deployments` (hostname glob → deployment), else the
//     configured default (`syslog`); job = app-name, index = hostname, process = procid.
// The identity elements' params are kept as labels `sd.<SD-ID>.<param>`. Identity elements
// count only from senders trusted for them (`trustIdentity`, identity-trust.ts); from others
// they are ordinary structured data, per-line attributes.
//
// A stream is one (listener, hostname, app-name, procid) and the identity it resolves to:
// its tags are constant, and the record offsets within it increase. Facility, severity,
// msgid and the other structured data change from one message to the next: they travel as
// the record's per-line attributes (core/record.ts Entry, see lineAttributes in
// syslog-source.ts), and become stream labels too only when configured (`streamLabels`),
// each value then being a stream of its own.

export const BOSH_SD_ID = 'instance@47450'
const DAYTWO_SD = /^daytwo@\d+$/

/** Structured-data elements that name a stream's identity (the others are per-line attributes). */
export function isIdentityElement (id: string): boolean {
  return id === BOSH_SD_ID || DAYTWO_SD.test(id)
}
/** A sender without a hostname or app-name: RFC 5424's NILVALUE. */
export const NIL = '-'

export interface DeploymentRule { pattern: RegExp, deployment: string }

/** `<hostname glob>=<deployment>` entries (config `forwarder.syslog.deployments`) to rules. */
export function deploymentRules (entries: string[]): DeploymentRule[] {
  return entries.map((e) => {
    const eq = e.indexOf('=')
    const glob = e.slice(0, eq).trim()
    const re = '^' + glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$'
    return { pattern: new RegExp(re, 'i'), deployment: e.slice(eq + 1).trim() }
  })
}

export interface TagContext {
  node: string
  /** Random per spool: a wiped spool restarts sequence numbers, so it must not reuse ids. */
  epoch: string
  /** The listener as configured, e.g. `tcp://0.0.0.0:514`; part of the stream identity. */
  listener: string
  /** The sender's address, standing in for a missing hostname. */
  peer: string
  rules: DeploymentRule[]
  defaultDeployment: string
  /** Whether this sender may name its identity in structured data (forwarder.syslog.identitySenders). */
  trustIdentity: boolean
  /** Header fields that split streams and become labels. */
  streamLabels?: ReadonlyArray<'facility' | 'severity' | 'msgid'>
}

function param (el: SdElement, name: string): string | undefined {
  for (const [k, v] of el.params) if (k === name && v !== '') return v
  return undefined
}

export function streamTags (m: SyslogMessage, ctx: TagContext): StreamTags {
  const hostname = m.hostname || ctx.peer
  const appName = m.appName || NIL
  let deployment: string | undefined
  let job = appName
  let index = hostname
  let process = m.procId
  const labels: Record<string, string> = { hostname, app_name: appName, transport: ctx.listener.slice(0, ctx.listener.indexOf(':')) }
  if (m.procId !== '') labels.procid = m.procId
  for (const el of m.sd) {
    if (!ctx.trustIdentity) break
    if (el.id === BOSH_SD_ID) {
      deployment = param(el, 'deployment') ?? deployment
      job = param(el, 'group') ?? job
      index = param(el, 'id') ?? index
      process = appName
    } else if (DAYTWO_SD.test(el.id)) {
      deployment = param(el, 'deployment') ?? deployment
      job = param(el, 'job') ?? job
      index = param(el, 'index') ?? index
      process = param(el, 'process') ?? process
    } else {
      continue
    }
    for (const [k, v] of el.params) labels[`sd.${el.id}.${k}`] = v
  }
  for (const f of ctx.streamLabels ?? []) {
    if (f === 'facility') labels.facility = FACILITIES[m.facility] ?? String(m.facility)
    else if (f === 'severity') labels.severity = SEVERITIES[m.severity] ?? String(m.severity)
    else if (m.msgId !== '') labels.msgid = m.msgId
  }
  if (deployment === undefined) {
    for (const r of ctx.rules) if (r.pattern.test(hostname)) { deployment = r.deployment; break }
  }
  const dep = deployment ?? ctx.defaultDeployment
  // Every tag is in the id: a stream's tags never change, whatever the spool or store keeps.
  const extra = Object.keys(labels).filter((k) => k.startsWith('sd.') || k === 'facility' || k === 'severity' || k === 'msgid').map((k) => k + '=' + labels[k]).join('\0')
  return {
    id: streamId(ctx.node, ctx.epoch, ctx.listener, hostname, appName, m.procId, dep, job, index, process, extra),
    source: 'syslog',
    node: ctx.node,
    deployment: dep,
    job,
    index,
    process,
    path: ctx.listener,
    labels
  }
}
