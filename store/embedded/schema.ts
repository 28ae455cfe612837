import Database from 'better-sqlite3'

// The embedded store's tables. Lines live in blocks: one row per run of up to `blockLines`
// consecutive lines of one stream, deflated, keyed by (stream, first offset) with time
// bounds, as Loki's chunks are. Each stream keeps a high-water mark (the last offset
// stored): a retried line at or below it is already stored, which makes writes idempotent.

export const SCHEMA_VERSION = 1

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS streams (
  sid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL, node TEXT NOT NULL,
  deployment TEXT NOT NULL, job TEXT NOT NULL, idx TEXT NOT NULL, process TEXT NOT NULL,
  path TEXT NOT NULL,
  namespace TEXT, pod TEXT, container TEXT,
  org TEXT NOT NULL DEFAULT '', space TEXT NOT NULL DEFAULT '', app TEXT NOT NULL DEFAULT '',
  labels TEXT,
  first_seen INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  hwm INTEGER NOT NULL DEFAULT -1,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS streams_identity ON streams (deployment, job, idx);
CREATE INDEX IF NOT EXISTS streams_org ON streams (org, app);
CREATE TABLE IF NOT EXISTS blocks (
  sid INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (sid, first_offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_max_ts ON blocks (max_ts);
CREATE TABLE IF NOT EXISTS usage (
  minute INTEGER NOT NULL,
  org TEXT NOT NULL,
  app TEXT NOT NULL,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  dropped_lines INTEGER NOT NULL DEFAULT 0,
  dropped_bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, org, app)
) WITHOUT ROWID;
`

export function openDatabase (file: string, opts: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false })
  db.pragma('busy_timeout = 5000')
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL')
    // FULL: a commit is on disk before the collector acknowledges the batch.
    db.pragma('synchronous = FULL')
    db.exec(DDL)
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined
    if (row === undefined) {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION))
    } else if (Number(row.value) !== SCHEMA_VERSION) {
      throw new Error(`store at ${file} has schema version ${row.value}; this daytwo reads version ${SCHEMA_VERSION}`)
    }
  }
  return db
}
