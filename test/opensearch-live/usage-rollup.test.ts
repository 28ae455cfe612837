import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { opensearchSchema } from '../../core/config/elasticsearch.js'
import { EmbeddedStore } from '../../store/embedded/embedded-store.js'
import { OpenSearchStore } from '../../store/opensearch/opensearch-store.js'
import { sqlUsageRollup, usageRollup } from '../../store/usage-rollup.js'
import { tempDir } from '../helpers/daytwo-process.js'
import { ROLLUP_QUESTIONS, checkRollups, expectedRollup, usageRowsCorpus } from '../helpers/usage-rollups.js'

// Usage rollups on a real OpenSearch node (`npm run test:opensearch`): the same per-minute
// rows in OpenSearch's usage index (through its template) and in the embedded store's usage
// table; every report question gets the same buckets from both, OpenSearch in one request.

const url = process.env.OPENSEARCH_URL ?? ''
const skip = url ? false : 'OPENSEARCH_URL is not set: run `npm run test:opensearch`'

describe('usage rollups: OpenSearch and the embedded store answer alike', { skip }, () => {
  const run = randomBytes(4).toString('hex')
  const cfg = opensearchSchema.parse({ url, dataStream: `logs-daytwotest-${run}`, deadLetterDataStream: `logs-daytwotest-${run}-dl`, usageIndex: `daytwotest-${run}-usage`, streamsIndex: `daytwotest-${run}-streams`, ismPolicy: '' })
  const rows = usageRowsCorpus()
  const tmp = tempDir('daytwo-os-rollup-')
  let os: OpenSearchStore
  let embedded: EmbeddedStore
  let db: Database.Database

  before(async () => {
    os = await OpenSearchStore.open(cfg)
    let nd = ''
    rows.forEach((r, i) => {
      nd += JSON.stringify({ create: { _index: cfg.usageIndex, _id: `t${i}` } }) + '\n'
      nd += JSON.stringify(r.droppedLines > 0
        ? { minute: r.minute, org: r.org, app: r.app, reason: 'rate_limited', dropped_lines: r.droppedLines, dropped_bytes: r.droppedBytes }
        : { minute: r.minute, org: r.org, app: r.app, lines: r.lines, bytes: r.bytes }) + '\n'
      // A dropped row's stored part as a document of its own, as the collector writes them.
      if (r.droppedLines > 0) nd += JSON.stringify({ create: { _index: cfg.usageIndex, _id: `s${i}` } }) + '\n' + JSON.stringify({ minute: r.minute, org: r.org, app: r.app, lines: r.lines, bytes: r.bytes }) + '\n'
    })
    const res = await os.engine.request<{ errors: boolean }>({ method: 'POST', path: '/_bulk', bulkBody: nd, querystring: { refresh: 'true' } })
    assert.equal(res.errors, false)
    const file = join(tmp.path, 'store')
    await (await EmbeddedStore.open(file)).close()
    db = new Database(join(file, 'daytwo.sqlite'))
    const ins = db.prepare('INSERT INTO usage (minute, org, app, lines, bytes, dropped_lines, dropped_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)')
    db.transaction(() => { for (const r of rows) ins.run(r.minute, r.org, r.app, r.lines, r.bytes, r.droppedLines, r.droppedBytes) })()
    embedded = await EmbeddedStore.open(file)
  })

  after(async () => {
    if (os) {
      await os.engine.request({ method: 'DELETE', path: `/${cfg.usageIndex}` }).catch(() => {})
      await os.close()
    }
    db?.close()
    await embedded?.close()
    tmp.cleanup()
  })

  test('every report question: one aggregation request, the reference buckets, the embedded answer', async () => {
    await checkRollups(os, rows, { count: () => os.engine.stats.requests, per: 1 })
    for (const q of ROLLUP_QUESTIONS) {
      const want = expectedRollup(rows, q)
      assert.deepEqual(sqlUsageRollup(db, q), want)
      assert.deepEqual(await usageRollup(embedded, q), await usageRollup(os, q))
    }
  })

  test('an aborted rollup is cancelled with a clear error', async () => {
    const ac = new AbortController()
    ac.abort(new Error('client went away'))
    await assert.rejects(os.usageRollup({ ...ROLLUP_QUESTIONS[0]!, signal: ac.signal }), /search cancelled/)
  })
})
