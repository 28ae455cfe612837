import { readFileSync } from 'node:fs'
import { basename, relative, sep } from 'node:path'
import type { ForwarderConfig } from '../core/config-schema.js'

// deployment / job / index / process, derived from a log file's path first (README "deployment / job / index").

export type FileFormat = 'container' | 'plain'

export interface PathTags {
  format: FileFormat
  deployment: string
  job: string
  index: string
  process: string
  namespace?: string
  pod?: string
  container?: string
}

export interface BoshIdentity { deployment: string, job: string, index: string }

/** This node's BOSH identity: config first, then the agent's spec.json, then defaults. */
export function boshIdentity (cfg: ForwarderConfig, node: string): BoshIdentity {
  let spec: { deployment?: unknown, name?: unknown, index?: unknown } = {}
  try {
    spec = JSON.parse(readFileSync(cfg.boshSpecFile, 'utf8')) as typeof spec
  } catch {
    // Not a BOSH VM, or no agent spec: fall back to config and defaults.
  }
  return {
    deployment: cfg.deployment || (typeof spec.deployment === 'string' ? spec.deployment : '') || 'bosh',
    job: cfg.job || (typeof spec.name === 'string' ? spec.name : '') || node,
    index: cfg.index || (spec.index !== undefined && spec.index !== null ? String(spec.index) : '') || '0'
  }
}

/**
 * A pod name's workload and instance: StatefulSet `db-2` → (db, 2); Deployment
 * `web-7d9f8b6c5-x2x4z` → (web, x2x4z); DaemonSet or Job `agent-x2x4z` → (agent, x2x4z).
 * The kubelet's pod list refines this from owner references when it is reachable.
 */
export function workloadOf (pod: string): { job: string, index: string } {
  let m = /^(.+)-(\d+)$/.exec(pod)
  if (m) return { job: m[1]!, index: m[2]! }
  m = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-([bcdfghjklmnpqrstvwxz2456789]{5})$/.exec(pod)
  if (m) return { job: m[1]!, index: m[2]! }
  m = /^(.+)-([bcdfghjklmnpqrstvwxz2456789]{5})$/.exec(pod)
  if (m) return { job: m[1]!, index: m[2]! }
  return { job: pod, index: '0' }
}

function under (root: string, path: string): string[] | null {
  if (!root) return null
  const rel = relative(root, path)
  if (rel.startsWith('..') || rel === '' || rel.startsWith(sep)) return null
  return rel.split(sep)
}

/** Tags for a file under one of the configured roots, or null when it is under none. */
export function tagsForPath (path: string, cfg: ForwarderConfig, bosh: BoshIdentity): PathTags | null {
  let parts = under(cfg.podLogRoot, path)
  if (parts && parts.length === 3) {
    // <ns>_<pod>_<uid>/<container>/<n>.log
    const [ns, pod] = parts[0]!.split('_')
    if (ns && pod) {
      const w = workloadOf(pod)
      return { format: 'container', deployment: ns, job: w.job, index: w.index, process: parts[1]!, namespace: ns, pod, container: parts[1]! }
    }
  }
  parts = under(cfg.containerLogRoot, path)
  if (parts && parts.length === 1) {
    // <pod>_<ns>_<container>-<64 hex id>.log
    const m = /^([^_]+)_([^_]+)_(.+)-[0-9a-f]{64}\.log$/.exec(basename(path))
    if (m) {
      const w = workloadOf(m[1]!)
      return { format: 'container', deployment: m[2]!, job: w.job, index: w.index, process: m[3]!, namespace: m[2]!, pod: m[1]!, container: m[3]! }
    }
  }
  parts = under(cfg.boshLogRoot, path)
  if (parts && parts.length >= 2) {
    return { format: 'plain', deployment: bosh.deployment, job: bosh.job, index: bosh.index, process: parts[0]! }
  }
  return null
}

/** The glob patterns that find log files under the configured roots. */
export function discoveryPatterns (cfg: ForwarderConfig): string[] {
  const out: string[] = []
  if (cfg.podLogRoot) out.push(`${cfg.podLogRoot}/*/*/*.log`)
  if (cfg.containerLogRoot) out.push(`${cfg.containerLogRoot}/*.log`)
  if (cfg.boshLogRoot) out.push(`${cfg.boshLogRoot}/*/**/*.log`)
  return out
}
