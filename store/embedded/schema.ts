import Database from 'better-sqlite3'

// The embedded store's tables. Lines live in blocks: one row per run of up to `blockLines`
// consecutive lines of one stream, compressed (block-codec.ts says how), keyed by (stream,
// first offset) with time bounds, as Loki's chunks are. Each stream keeps a high-water mark
// (the last offset stored): a retried line at or below it is already stored, which makes
// writes idempotent.
//
// Blocks are a rowid table with a unique key since version 2: rows of tens of KB are what
// SQLite advises against keeping in a WITHOUT ROWID table, and inserting them costs about half
// as much CPU this way (measured: 1 672 blocks of 40 KB, 209 commits: 136–155 against
// 253–344 ms). A file upgraded from version 1 keeps its WITHOUT ROWID table, which works the
// same, only slower.
//
// Since version 3 a block carries what a query needs to skip it or answer without decoding
// it (store/embedded/block-index.ts): each line's level (`levels`, one byte per line in record
// order, an index into core/level.ts's LEVELS), lines and message bytes per (stdio, level)
// (`summary`), and a bloom of its messages' trigrams (`bloom`). Blocks written before have
// NULL there. `blocks_sid_max_ts` lists a set of streams' blocks in time order.
//
// Since version 4 a block also carries its line index (`line_index`, store/embedded/line-index.ts):
// each line's time, message position and stdio, so that a metric query counts a block that
// straddles a step without reading `data`, and a needle's matches map to their lines without
// walking the records. Blocks written before have NULL there and are scanned record by record.
//
// Since version 5 what a query reads of a block beside its lines lies in tables of its own,
// keyed like `blocks` by (sid, first_offset), so that planning and counting never step through
// the pages of a `data` blob (a column after a blob in the same row is reached only by walking
// the blob's overflow pages):
//   block_meta    bounds, counts, `summary` and (new) `minutes`, the summary per minute
//                 (block-index.ts): what the planner reads of every block in the range;
//   block_lines   `levels` and `line_index`: what a scan reads beside (or, counting, instead
//                 of) `data`;
//   block_blooms  `bloom`: what a line filter reads of every block in the range.
// A trigger deletes a block's rows there with the block. The upgrade copies the columns of
// existing blocks into the new tables (their `minutes` stay NULL); the old columns of `blocks`
// are no longer read or written (new files do not have them).

export const SCHEMA_VERSION = 5

const BLOCK_TABLES = `
CREATE TABLE IF NOT EXISTS block_meta (
  sid INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  summary BLOB,
  minutes BLOB,
  PRIMARY KEY (sid, first_offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS block_meta_sid_max_ts ON block_meta (sid, max_ts);
CREATE TABLE IF NOT EXISTS block_lines (
  sid INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  levels BLOB,
  line_index BLOB,
  UNIQUE (sid, first_offset)
);
CREATE TABLE IF NOT EXISTS block_blooms (
  sid INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  bloom BLOB NOT NULL,
  UNIQUE (sid, first_offset)
);
CREATE TRIGGER IF NOT EXISTS blocks_deleted AFTER DELETE ON blocks BEGIN
  DELETE FROM block_meta WHERE sid = old.sid AND first_offset = old.first_offset;
  DELETE FROM block_lines WHERE sid = old.sid AND first_offset = old.first_offset;
  DELETE FROM block_blooms WHERE sid = old.sid AND first_offset = old.first_offset;
END;
`

/** What each version adds to the one before; run in order inside one transaction. */
const MIGRATIONS: Record<number, string> = {
  // Blocks say how their lines are encoded; those written before are format 1.
  2: 'ALTER TABLE blocks ADD COLUMN format INTEGER NOT NULL DEFAULT 1',
  // Levels, summaries and blooms of blocks written from now on; older blocks are decoded.
  // Retention now lowers the streams' totals; what it deleted before is taken off once here.
  3: `ALTER TABLE blocks ADD COLUMN levels BLOB;
ALTER TABLE blocks ADD COLUMN summary BLOB;
ALTER TABLE blocks ADD COLUMN bloom BLOB;
CREATE INDEX IF NOT EXISTS blocks_sid_max_ts ON blocks (sid, max_ts);
UPDATE streams SET
  lines = coalesce((SELECT sum(lines) FROM blocks WHERE blocks.sid = streams.sid), 0),
  bytes = coalesce((SELECT sum(bytes) FROM blocks WHERE blocks.sid = streams.sid), 0);`,
  // Line indexes of blocks written from now on; older blocks are walked record by record.
  4: 'ALTER TABLE blocks ADD COLUMN line_index BLOB',
  // Block metadata moves out of the rows that hold the lines.
  5: `${BLOCK_TABLES}
INSERT OR IGNORE INTO block_meta (sid, first_offset, min_ts, max_ts, lines, bytes, summary)
  SELECT sid, first_offset, min_ts, max_ts, lines, bytes, summary FROM blocks;
INSERT OR IGNORE INTO block_lines (sid, first_offset, levels, line_index)
  SELECT sid, first_offset, levels, line_index FROM blocks WHERE levels IS NOT NULL OR line_index IS NOT NULL;
INSERT OR IGNORE INTO block_blooms (sid, first_offset, bloom)
  SELECT sid, first_offset, bloom FROM blocks WHERE bloom IS NOT NULL;`
}

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
  format INTEGER NOT NULL DEFAULT 1,
  UNIQUE (sid, first_offset)
);
CREATE INDEX IF NOT EXISTS blocks_max_ts ON blocks (max_ts);
${BLOCK_TABLES}CREATE TABLE IF NOT EXISTS usage (
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

/** SQLite's own ceiling for a mapping (SQLITE_MAX_MMAP_SIZE); the rest of a larger file is read as before. */
const READER_MMAP_BYTES = 0x7fff0000

export function openDatabase (file: string, opts: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false })
  db.pragma('busy_timeout = 5000')
  // Readers map the file: blocks are read straight from the page cache, without a pread per
  // 16 KiB page (measured on a 10 M-line store: a common needle counted over 3 M lines took
  // 0.52 → 0.45 s of CPU). The file never shrinks under them: daytwo runs no VACUUM, and
  // retention's freed pages are reused, not truncated.
  if (opts.readonly === true) db.pragma(`mmap_size = ${READER_MMAP_BYTES}`)
  if (!opts.readonly) {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name))
    const row = tables.has('meta') ? db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as { value: string } | undefined : undefined
    // Version 1 made its tables, then recorded its version: blocks without a version are a
    // version-1 file that stopped in between.
    const found = row !== undefined ? Number(row.value) : tables.has('blocks') ? 1 : 0
    // Refused before anything is changed, the journal mode included.
    if (found > SCHEMA_VERSION) throw new Error(`store at ${file} has schema version ${found}; this daytwo reads versions up to ${SCHEMA_VERSION}: run a newer daytwo`)
    // Blocks are tens of KB: 16 KiB pages hold them in a quarter of the pages 4 KiB would (~40 %
    // less CPU to insert them, measured). Only a new file's page size can be set, before WAL.
    if (tables.size === 0) db.pragma('page_size = 16384')
    db.pragma('journal_mode = WAL')
    // FULL: a commit is on disk before the collector acknowledges the batch.
    db.pragma('synchronous = FULL')
    db.transaction(() => {
      if (found === 0) {
        db.exec(DDL)
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION))
        return
      }
      for (let v = found + 1; v <= SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!)
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run('schema_version', String(SCHEMA_VERSION))
    })()
  }
  return db
}
