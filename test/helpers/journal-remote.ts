import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// Real journal files for the journald source's tests: entries in journalctl's export format
// (systemd's docs/JOURNAL_EXPORT_FORMATS.md) are written by systemd-journal-remote (Debian's
// systemd-journal-remote, installed by .ci/setup.d/journald.sh) into `<dir>/<name>.journal`,
// which the forwarder then reads with the real journalctl.

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote'

export function journalRemoteMissing (): string | false {
  return existsSync(JOURNAL_REMOTE) ? false : `${JOURNAL_REMOTE} is not installed (bash .ci/setup.d/journald.sh)`
}

/** A journal entry: field name → value (a Buffer, or a string; written in binary form when it has a newline or is a Buffer). */
export type JournalFields = Record<string, string | Buffer>

/** One entry in the export format; values with a newline, and Buffers, take the binary form. */
export function exportEntry (fields: JournalFields): Buffer {
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' && !v.includes('\n')) {
      parts.push(Buffer.from(`${k}=${v}\n`))
    } else {
      const b = typeof v === 'string' ? Buffer.from(v) : v
      const len = Buffer.alloc(8)
      len.writeBigUInt64LE(BigInt(b.length))
      parts.push(Buffer.from(`${k}\n`), len, b, Buffer.from('\n'))
    }
  }
  parts.push(Buffer.from('\n'))
  return Buffer.concat(parts)
}

/** The fields systemd-journal-remote needs beside the caller's (times in µs, a boot id). */
export function entryAt (us: bigint, fields: JournalFields): JournalFields {
  return { __REALTIME_TIMESTAMP: String(us), __MONOTONIC_TIMESTAMP: String(us % 1_000_000_000n), _BOOT_ID: '0123456789abcdef0123456789abcdef', ...fields }
}

/** Write `entries` with systemd-journal-remote into `<dir>/<name>.journal` (appended when it exists). */
export function writeJournal (dir: string, name: string, entries: JournalFields[]): void {
  mkdirSync(dir, { recursive: true })
  const input = `${dir}.${name}.export`
  writeFileSync(input, Buffer.concat(entries.map(exportEntry)))
  execFileSync(JOURNAL_REMOTE, [`--output=${join(dir, name + '.journal')}`, input], { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A daytwo config whose forwarder reads only the journal in `<base>/journal` (no files, no syslog). */
export function journaldConfig (base: string, journald: Record<string, unknown>, forwarder: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataDir: join(base, 'data'),
    logLevel: 'warn',
    forwarder: {
      podLogRoot: join(base, 'none', 'pods'),
      containerLogRoot: join(base, 'none', 'containers'),
      boshLogRoot: join(base, 'none', 'bosh'),
      boshSpecFile: join(base, 'none', 'spec.json'),
      port: 0,
      flushIntervalMs: 50,
      checkpointIntervalMs: 50,
      ...forwarder,
      journald: { enabled: true, directory: join(base, 'journal'), readFrom: 'head', ...journald }
    },
    collector: { port: 0 },
    query: { port: 0 }
  }
}
