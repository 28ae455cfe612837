import { readFile, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import type { SampleSet } from '../../core/metric-samples.js'

// Disk usage per mount (node_exporter's filesystem collector: statfs on each mount point of
// /proc/self/mounts, pseudo and container filesystems left out) and, always, the filesystems
// holding the paths daytwo itself depends on: its data dir and the log roots.

const MAX_MOUNTS = 64

export interface Mount { device: string, mountpoint: string, fstype: string }

/** /proc/<pid>/mounts; octal escapes (`\040` for a space) decoded. Later duplicates dropped. */
export function parseMounts (text: string): Mount[] {
  const seen = new Set<string>()
  const out: Mount[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length < 3) continue
    const mountpoint = f[1]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
    if (seen.has(mountpoint)) continue
    seen.add(mountpoint)
    out.push({ device: f[0]!, mountpoint, fstype: f[2]! })
  }
  return out
}

export interface FilesystemOptions {
  procPath: string
  fsTypeExclude: RegExp
  mountPointExclude: RegExp
  /** use (data_dir, bosh_log_root, …) → path; empty paths are skipped. */
  paths: Record<string, string>
}

export async function collectFilesystems (opts: FilesystemOptions, id: string[], out: SampleSet): Promise<void> {
  let mounts: Mount[] = []
  try { mounts = parseMounts(await readFile(join(opts.procPath, 'self', 'mounts'), 'utf8')) } catch { /* no /proc: paths only */ }
  const wanted = mounts.filter((m) => !opts.fsTypeExclude.test(m.fstype) && !opts.mountPointExclude.test(m.mountpoint)).slice(0, MAX_MOUNTS)
  await Promise.all(wanted.map(async (m) => {
    let s
    try { s = await statfs(m.mountpoint) } catch { return } // stale NFS, permission: leave out
    const labels = [...id, m.mountpoint, m.fstype]
    out.add('daytwo_node_filesystem_size_bytes', labels, s.blocks * s.bsize)
    out.add('daytwo_node_filesystem_avail_bytes', labels, s.bavail * s.bsize)
    out.add('daytwo_node_filesystem_free_bytes', labels, s.bfree * s.bsize)
    out.add('daytwo_node_filesystem_files', labels, s.files)
    out.add('daytwo_node_filesystem_files_free', labels, s.ffree)
  }))
  await Promise.all(Object.entries(opts.paths).map(async ([use, path]) => {
    if (!path) return
    let s
    try { s = await statfs(path) } catch { return } // a root that does not exist on this node
    out.add('daytwo_node_path_size_bytes', [...id, use, path], s.blocks * s.bsize)
    out.add('daytwo_node_path_avail_bytes', [...id, use, path], s.bavail * s.bsize)
  }))
}
