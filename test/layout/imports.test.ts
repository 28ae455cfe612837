import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, it } from 'node:test'
import { repoRoot } from '../helpers/repo.js'

// The layout's one rule, checked on the sources: data flows forwarder → collector → store →
// query; a role never imports another role; core/ and store/ import no role and not the CLI;
// only cli/ (the composition root) may import everything. docs/architecture.md says why.

const ROLES = ['forwarder', 'collector', 'query']
/** Top-level folders each folder may import from. */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  store: ['core', 'store'],
  forwarder: ['core', 'store', 'forwarder'],
  collector: ['core', 'store', 'collector'],
  query: ['core', 'store', 'query'],
  cli: ['cli', 'core', 'store', ...ROLES]
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm
/** core/role.ts names the store interface in RoleContext: a type, erased at run time, so no cycle. */
const TYPE_ONLY: Record<string, string[]> = { core: ['store'] }
const TYPE_IMPORT = /^\s*import\s+type\s/

function sources (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(p))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Every relative import of a source file, as the top-level folder it lands in. */
export function importedFolders (root: string, file: string, text: string): Array<{ spec: string, folder: string, typeOnly: boolean }> {
  const found: Array<{ spec: string, folder: string, typeOnly: boolean }> = []
  for (const m of text.matchAll(IMPORT)) {
    const target = relative(root, resolve(dirname(file), m[1]!))
    const lineStart = text.lastIndexOf('\n', m.index) + 1
    found.push({ spec: m[1]!, folder: target.split(sep)[0]!, typeOnly: TYPE_IMPORT.test(text.slice(lineStart, m.index + m[0].length)) })
  }
  return found
}

describe('layout: imports follow the data flow', () => {
  const root = repoRoot()
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    it(`${folder}/ imports only ${allowed.join(', ')}`, () => {
      const files = sources(join(root, folder))
      assert.ok(files.length > 0, `${folder}/ has sources`)
      const wrong: string[] = []
      for (const f of files) {
        for (const { spec, folder: to, typeOnly } of importedFolders(root, f, readFileSync(f, 'utf8'))) {
          if (!allowed.includes(to) && !(typeOnly && TYPE_ONLY[folder]?.includes(to) === true)) wrong.push(`${relative(root, f)} imports ${spec} (${to}/)`)
        }
      }
      assert.deepEqual(wrong, [])
    })
  }

  it('the checker sees a forbidden import (it can fail)', () => {
    const root = '/r'
    const text = "import { x } from '../../collector/role.js'\nconst y = await import('../query/role.js')\nimport type { S } from '../../store/s.js'\n"
    assert.deepEqual(importedFolders(root, '/r/core/config/a.ts', text).map((i) => [i.folder, i.typeOnly]), [['collector', false], ['core', false], ['store', true]])
    assert.deepEqual(importedFolders(root, '/r/core/a.ts', text).map((i) => i.folder), ['..', 'query', '..'])
  })
})
