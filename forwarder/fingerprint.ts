import { createHash } from 'node:crypto'
import { readSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

export const FINGERPRINT_BYTES = 256

export interface Fingerprint {
  /** `dev:ino:firstLineHash` — the key of the file's checkpoint. */
  key: string
  /** Hash of the first line alone: the same for a file and a copy of it. */
  firstLine: string
}

/**
 * The hash of the first line in `head` (the file's first bytes, up to FINGERPRINT_BYTES), or
 * null when `head` holds no whole first line yet.
 */
export function firstLineHash (head: Buffer): string | null {
  const nl = head.indexOf(0x0a)
  if (nl === -1 && head.length < FINGERPRINT_BYTES) return null
  return createHash('sha1').update(nl === -1 ? head.subarray(0, FINGERPRINT_BYTES) : head.subarray(0, nl)).digest('hex').slice(0, 16)
}

/**
 * A file's identity: device, inode and a hash of its first line (up to 256 bytes), so a
 * reused inode is a new file and a renamed file is the same one. Null until the file has a
 * complete first line or 256 bytes: a file that young is not read yet (Vector does the same).
 */
export async function fingerprint (file: FileHandle, dev: number, ino: number): Promise<Fingerprint | null> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES)
  const { bytesRead } = await file.read(buf, 0, FINGERPRINT_BYTES, 0)
  return fromHead(buf.subarray(0, bytesRead), dev, ino)
}

/** The same, read synchronously: for checks that must see the bytes they decide on. */
export function fingerprintSync (fd: number, dev: number, ino: number): Fingerprint | null {
  const buf = Buffer.alloc(FINGERPRINT_BYTES)
  return fromHead(buf.subarray(0, readSync(fd, buf, 0, FINGERPRINT_BYTES, 0)), dev, ino)
}

function fromHead (head: Buffer, dev: number, ino: number): Fingerprint | null {
  const firstLine = firstLineHash(head)
  return firstLine === null ? null : { key: `${dev}:${ino}:${firstLine}`, firstLine }
}
