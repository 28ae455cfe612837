import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'

export const FINGERPRINT_BYTES = 256

export interface Fingerprint {
  /** `dev:ino:firstLineHash` — the key of the file's checkpoint. */
  key: string
  /** Hash of the first line alone: the same for a file and a copy of it. */
  firstLine: string
}

/**
 * A file's identity: device, inode and a hash of its first line (up to 256 bytes), so a
 * reused inode is a new file and a renamed file is the same one. Null until the file has a
 * complete first line or 256 bytes: a file that young is not read yet (Vector does the same).
 */
export async function fingerprint (file: FileHandle, dev: number, ino: number): Promise<Fingerprint | null> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES)
  const { bytesRead } = await file.read(buf, 0, FINGERPRINT_BYTES, 0)
  const head = buf.subarray(0, bytesRead)
  const nl = head.indexOf(0x0a)
  if (nl === -1 && bytesRead < FINGERPRINT_BYTES) return null
  const firstLine = createHash('sha1').update(nl === -1 ? head : head.subarray(0, nl)).digest('hex').slice(0, 16)
  return { key: `${dev}:${ino}:${firstLine}`, firstLine }
}
