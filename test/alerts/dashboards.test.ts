import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { dashboardExpressions, dashboardFiles, dashboardsDir } from '../../charts/tools/dashboards/write.js'
import { repoRoot } from '../helpers/repo.js'

// The checked-in dashboards (charts/daytwo/dashboards/*.json) are the generator's output:
// edit charts/tools/dashboards/*.ts and run `npm run dashboards`, never the JSON.

describe('dashboards', () => {
  it('are generated into the chart', () => {
    assert.equal(dashboardsDir(), join(repoRoot(), 'charts', 'daytwo', 'dashboards'))
  })

  it('checked in equal the generator\'s output (run `npm run dashboards`)', () => {
    const files = dashboardFiles()
    assert.deepEqual(readdirSync(dashboardsDir()).filter((f) => f.endsWith('.json')).sort(), [...files.keys()].sort())
    for (const [file, text] of files) assert.equal(readFileSync(join(dashboardsDir(), file), 'utf8'), text, `${file} is stale: run npm run dashboards`)
  })

  it('have unique uids, a datasource variable and a query in every panel', () => {
    const uids = new Set<string>()
    for (const [file, text] of dashboardFiles()) {
      const d = JSON.parse(text) as { uid: string, panels: Array<{ type: string, title: string, targets?: unknown[] }>, templating: { list: Array<{ name: string, type: string }> } }
      assert.ok(!uids.has(d.uid), `${file}: uid ${d.uid} used twice`)
      uids.add(d.uid)
      assert.ok(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'), `${file}: datasource variable`)
      for (const p of d.panels.filter((p) => p.type !== 'row')) assert.ok((p.targets ?? []).length > 0, `${file}: panel ${p.title} has no query`)
    }
    assert.ok(dashboardExpressions().length >= 30)
  })
})
