import { basename, dirname, join } from 'node:path'

// Names that rotation gives a log file: logrotate's `app.log.1` and `app.log-20261123`,
// the kubelet's `0.log.20261123-101500`. A rotated file is still read (the lines written
// just before a rotation must not be lost), under the name it had while it was written.

const ROTATED = /^(.+\.log)(?:\.\d+|[.-]\d{8}(?:[-T]?\d{4,6})?(?:\.\d+)?)$/

/** Compressed rotations are never read: their lines were read before they were compressed. */
export const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4)$/

export function isRotatedName (path: string): boolean {
  return ROTATED.test(basename(path))
}

/** The live name a rotated file was written under (`app.log.1` → `app.log`). */
export function logicalPath (path: string): string {
  const m = ROTATED.exec(basename(path))
  return m ? join(dirname(path), m[1]!) : path
}
