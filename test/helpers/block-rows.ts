import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SampleVariant } from '../../store/select-params.js'

// A block of the embedded store as one row, whichever of its tables each column lies in
// (store/embedded/schema.ts): `FROM ${BLOCK_ROWS}` reads as `FROM blocks` did before schema 5.
export const BLOCK_ROWS = `(SELECT b.sid AS sid, b.first_offset AS first_offset, b.last_offset AS last_offset,
  b.min_ts AS min_ts, b.max_ts AS max_ts, b.lines AS lines, b.bytes AS bytes, b.data AS data, b.format AS format,
  m.summary AS summary, m.minutes AS minutes, l.levels AS levels, l.line_index AS line_index, f.bloom AS bloom
  FROM blocks b
  LEFT JOIN block_meta m ON m.sid = b.sid AND m.first_offset = b.first_offset
  LEFT JOIN block_lines l ON l.sid = b.sid AND l.first_offset = b.first_offset
  LEFT JOIN block_blooms f ON f.sid = b.sid AND f.first_offset = b.first_offset)`

/**
 * SQL that turns a file of this daytwo into one of schema 4 (its blocks' metadata back in
 * `blocks`, the tables of schema 5 gone), to test the upgrade from there.
 */
export const TO_SCHEMA_4 = `
ALTER TABLE blocks ADD COLUMN levels BLOB;
ALTER TABLE blocks ADD COLUMN summary BLOB;
ALTER TABLE blocks ADD COLUMN bloom BLOB;
ALTER TABLE blocks ADD COLUMN line_index BLOB;
UPDATE blocks SET
  levels = (SELECT levels FROM block_lines l WHERE l.sid = blocks.sid AND l.first_offset = blocks.first_offset),
  line_index = (SELECT line_index FROM block_lines l WHERE l.sid = blocks.sid AND l.first_offset = blocks.first_offset),
  summary = (SELECT summary FROM block_meta m WHERE m.sid = blocks.sid AND m.first_offset = blocks.first_offset),
  bloom = (SELECT bloom FROM block_blooms f WHERE f.sid = blocks.sid AND f.first_offset = blocks.first_offset);
CREATE INDEX blocks_sid_max_ts ON blocks (sid, max_ts);
DROP TRIGGER blocks_deleted;
DROP TABLE block_meta;
DROP TABLE block_lines;
DROP TABLE block_blooms;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
`

type After = { after: (fn: () => void | Promise<void>) => void }

/** A folder for one test's store, removed after it. */
export function storeDir (t: After, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function runSum (d: Float64Array): number[] {
  const out: number[] = []
  let run = 0
  for (let k = 0; k < d.length - 1; k++) { run += d[k]!; out.push(run) }
  return out
}

/** Sample variants as comparable text: per (stream, stdio, level), the counts per step, without the empty ones. */
export function normSamples (vs: SampleVariant[]): string[] {
  return vs.map((v) => ({ k: `${v.stream.id} ${v.stdio} ${v.level}`, lines: runSum(v.lines), bytes: runSum(v.bytes) }))
    .filter((v) => v.lines.some((x) => x !== 0) || v.bytes.some((x) => x !== 0)).map((v) => `${v.k} ${v.lines.join(',')} ${v.bytes.join(',')}`).sort()
}
