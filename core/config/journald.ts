import { z } from 'zod'

const mapping = /^[^=]+=[^=]+$/

/** forwarder.journald — the node's systemd journal, read through `journalctl --output=export --follow`. */
export const journaldSchema = z.object({
  enabled: z.boolean().default(false).describe('Read the systemd journal (kubelet, container runtime, sshd…) through journalctl.'),
  journalctl: z.string().min(1).default('journalctl').describe('The journalctl binary (a name on PATH or a path).'),
  root: z.string().default('').describe('Read the journals below this root (`journalctl --root`: `<root>/var/log/journal` and `<root>/run/log/journal`, new files included), e.g. /host in a pod that mounts the node\'s journal folders there; wins over directory.'),
  directory: z.string().default('').describe('Read the journal files in this directory (`journalctl --directory`, e.g. a host\'s /var/log/journal mounted into a pod); empty: the local system journal.'),
  files: z.array(z.string()).default([]).describe('Read these journal files or globs instead (`journalctl --file`; files created later are not seen); wins over root and directory. Comma-separated in the environment.'),
  units: z.array(z.string()).default([]).describe('Only these units (`journalctl --unit`, globs allowed); empty: every entry. Comma-separated in the environment.'),
  readFrom: z.enum(['tail', 'head']).default('tail').describe('Where the very first start (no cursor checkpointed yet) begins: `tail` ships entries written from now on, `head` everything the journal still holds. Later starts always continue after the checkpointed cursor.'),
  since: z.string().default('').describe('With no cursor checkpointed yet: start at this time instead (`journalctl --since`, e.g. `2026-11-23 10:00:00` or `-1h`); wins over readFrom.'),
  currentBoot: z.boolean().default(false).describe('With no cursor checkpointed yet: only entries of the current boot (`journalctl --boot`).'),
  deployment: z.string().min(1).default('journald').describe('deployment of journal streams no `deployments` rule names.'),
  deployments: z.array(z.string().regex(mapping, 'expected `<unit glob>=<deployment>`')).default([]).describe('Unit (or SYSLOG_IDENTIFIER) → deployment, as `<glob>=<deployment>` (`*` matches any run of characters); the first match wins. Comma-separated in the environment.'),
  maxAttributeBytes: z.number().int().min(16).max(4096).default(256).describe('Longest per-line attribute value kept (pid, comm, boot_id, syslog_identifier…); longer ones are cut and counted (lines_altered_total{reason="journald_field_truncated"}).'),
  maxStreams: z.number().int().min(1).default(10000).describe('Streams (host × unit or identifier) this source keeps; entries of further ones go to one `journald-overflow` stream of their host, counted (lines_altered_total{reason="journald_too_many_streams"}).')
}).strict()

export type JournaldConfig = z.infer<typeof journaldSchema>
